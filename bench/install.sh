#!/usr/bin/env bash
# Figures, not asserts (a missed target never fails the bench): one lab VM (the demo's,
# docker connection with pipelining, plus one rerun over SSH), in this order:
#   - first install wall time (playbooks/site.yml on a fresh VM, VM creation excluded)
#   - rerun (site.yml, nothing to do) over the docker connection: wall time, rerun/first,
#     changed=, containers restarted, bytes hashed (bench/callback_plugins/bench_hashed.py:
#     the sizes of the files whose checksum a task computed, read from the task results),
#     the controller's peak memory (/usr/bin/time -v: Maximum resident set size, the largest
#     single process of ansible-playbook's tree) and the 10 slowest tasks
#     (ansible.posix.profile_tasks)
#   - the same rerun over SSH (openssh-server installed in the VM, a generated key,
#     ansible_connection=ssh to the VM's address, ControlPersist=60s, pipelining)
#   - the bundle's own install.sh rerun in the same release dir, as a user runs it (docker
#     load, prepare, compose down -v, up -d), its wall time until Harbor answers healthy
#     again, and our rerun / install.sh rerun; then the role's next run on that Harbor
#     (wall time, changed=, containers restarted)
#   - the image step: a bare `docker load` of the bundle's archive vs harbor.deploy.harbor_images
#     loading the same archive (engine emptied of those images before each), and the module's
#     no-op rerun when every tag is present.
#   - the trust role rolled out to 1 vs 8 client VMs of that Harbor, its rerun, the clients
#     verified over HTTPS (bench/trust.sh, which also runs alone after `make demo`).
# Bundle: BENCH_BUNDLE=realsize (default) builds/reuses the real-size stand-in
# (bench/realsize.sh: the stand-in v2.15.2 installer with Harbor's per-image sizes, ~650 MB
# gzip'ed, ~2.2 GB loaded; about 2 min the first time, cached under .cache/bench/realsize/);
# BENCH_BUNDLE=standin uses the 78 MB stand-in (or HARBOR_INSTALLER as for make demo).
# The run is self-contained: it removes and remakes the demo VM, so it can be run again
# (the VM is left running at the end, as after `make demo`). BENCH_REUSE_VM=true skips the
# first install and measures the rest on the VM left by the last run (same bundle).
# usage: make bench   (or bench/install.sh after `make lab`)
set -euo pipefail
# one `docker exec` per module instead of several (what ansible.cfg's pipelining does over SSH)
export ANSIBLE_PIPELINING=true
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# what the Makefile exports, for a run by hand
export PATH=$top/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$top/.cache/collections}
# .cache/lab.env is rewritten from scratch by every `make lab` (other sessions may run one
# now): wait until it names what this bench needs
for _ in $(seq 1 120); do
  grep -q '^COMPOSE_SHA256=' "$top/.cache/lab.env" 2>/dev/null && grep -q '^HARBOR_STANDIN_DIR=' "$top/.cache/lab.env" && break
  sleep 5
done
set -a
# shellcheck source=/dev/null
. "$top/.cache/lab.env"
set +a
vm=harbor-demo
net=harbor-demo-net
inv=$top/.cache/demo/inventory.yml
work=$top/.cache/bench
mkdir -p "$work"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.0f MB", a / 1e6 }'; }
bench_start=$(now)
# the bench's own copy of the Compose binary: a `make lab` elsewhere may remove the lab's
# (its cache keeps only the newest build); the reruns use this copy (same sha256)
mkdir -p "$work/lab"
cp "$COMPOSE_BINARY" "$work/lab/docker-compose.part"
[ "$(sha256sum <"$work/lab/docker-compose.part" | cut -d' ' -f1)" = "$COMPOSE_SHA256" ] \
  || { echo "bench: $COMPOSE_BINARY is not sha256 $COMPOSE_SHA256" >&2; exit 1; }
mv "$work/lab/docker-compose.part" "$work/lab/docker-compose"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

bundle=${BENCH_BUNDLE:-realsize}
case "$bundle" in
  realsize)
    dir=$(bench/realsize.sh | sed -n 's/^REALSIZE_DIR=//p')
    export HARBOR_INSTALLER=$dir/harbor-offline-installer-v2.15.2.tgz ;;
  standin) ;;
  *) echo "bench: BENCH_BUNDLE is realsize or standin, not $bundle" >&2; exit 2 ;;
esac
installer=${HARBOR_INSTALLER:-$HARBOR_STANDIN_DIR/harbor-offline-installer-v2.15.2.tgz}

log=$(mktemp "$work/install.XXXXXX.log")
keep_log() { echo "bench: log kept in $log" >&2; }
if [ "${BENCH_REUSE_VM:-false}" = true ] && docker inspect "$vm" >/dev/null 2>&1 && [ -f "$inv" ]; then
  # reruns only, on the VM a previous bench (or make demo with the same bundle) left
  first=""
else
  tests/demo/run.sh clean >/dev/null
  tests/demo/run.sh >"$log" 2>&1 || { tail -n 40 "$log"; keep_log; exit 1; }
  first=$(grep -oE 'site.yml took [0-9]+s' "$log" | grep -oE '[0-9]+')
fi

inv_before=$(sha256sum <"$inv")
sed -i "s|^\( *docker_compose_src:\).*|\1 \"$work/lab/docker-compose\"|" "$inv"
# A new Compose source path is a new file to the docker role (it hashes it once and records
# it): settle that outside the measured rerun, as a site's second run would have.
if [ "$(sha256sum <"$inv")" != "$inv_before" ]; then
  ansible-playbook -i "$inv" harbor.deploy.site --tags docker >"$work/settle.log" 2>&1 \
    || { tail -n 40 "$work/settle.log"; exit 1; }
fi

started() {
  docker exec "$vm" sh -c 'docker inspect --format "{{.Name}} {{.State.StartedAt}}" $(docker ps -aq --filter label=com.docker.compose.project=harbor)' | sort
}
count_restarted() { diff <(echo "$1") <(echo "$2") | grep -c '^>' || true; }

# run_site LABEL [ansible-playbook args...]: site.yml timed, with profile_tasks (10 slowest),
# bench_hashed and /usr/bin/time -v; sets took, changed, hashed, peak_kb; keeps the output in
# $work/rerun.LABEL.log
export ANSIBLE_CALLBACK_PLUGINS=$top/bench/callback_plugins
run_site() {
  local label=$1 t0 t1 out=$work/rerun.$1.log
  shift
  t0=$(now)
  BENCH_HASHED_OUT=$work/hashed.$label.json PROFILE_TASKS_TASK_OUTPUT_LIMIT=10 \
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks,bench_hashed \
    /usr/bin/time -v -o "$work/time.$label.txt" ansible-playbook -i "$inv" harbor.deploy.site "$@" >"$out" 2>&1 \
    || { tail -n 40 "$out"; keep_log; exit 1; }
  t1=$(now)
  took=$(secs "$t0" "$t1")
  changed=$(grep -E "^$vm +:" "$out" | grep -oE 'changed=[0-9]+')
  hashed=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['bytes'])" "$work/hashed.$label.json")
  peak_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.$label.txt")
}
slowest() { grep -E ' -+ [0-9]+\.[0-9]+s$' "$work/rerun.$1.log" | head -n 10 | sed 's/^/    /'; }

# --- rerun over the docker connection ------------------------------------------------
before=$(started)
run_site docker
rerun=$took rerun_changed=$changed rerun_hashed=$hashed rerun_peak=$peak_kb
restarted=$(count_restarted "$before" "$(started)")

# --- the same rerun over SSH (ControlPersist + pipelining) -------------------------------
ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$vm")
ssh_dir=$work/ssh
mkdir -p "$ssh_dir/cp"
[ -f "$ssh_dir/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C harbor-deploy-bench -f "$ssh_dir/id_ed25519"
docker exec -e DEBIAN_FRONTEND=noninteractive "$vm" sh -c \
  'command -v sshd >/dev/null || { apt-get update -qq && apt-get install -y -qq openssh-server; } >/dev/null 2>&1'
docker exec -i "$vm" sh -c 'mkdir -p -m 0700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 0600 /root/.ssh/authorized_keys' \
  <"$ssh_dir/id_ed25519.pub"
docker exec "$vm" systemctl enable --now ssh >/dev/null 2>&1
ssh_ok=false
for _ in $(seq 1 30); do
  if ssh -i "$ssh_dir/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o LogLevel=ERROR -o ConnectTimeout=2 "root@$ip" true 2>"$work/ssh.err"; then ssh_ok=true; break; fi
  sleep 1
done
$ssh_ok || { echo "bench: no SSH to root@$ip: $(cat "$work/ssh.err")" >&2; exit 1; }
before=$(started)
export ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
export ANSIBLE_SSH_CONTROL_PATH_DIR=$ssh_dir/cp
# the demo's inventory with this host reached over SSH (host vars, not extra vars: extra vars
# would also apply to the tasks delegated to localhost)
ssh_inv=$work/inventory-ssh.yml
sed "s|^\( *\)ansible_connection: community.docker.docker\$|\1ansible_connection: ssh\n\1ansible_host: $ip\n\1ansible_user: root\n\1ansible_ssh_private_key_file: $ssh_dir/id_ed25519|" "$inv" >"$ssh_inv"
grep -q "ansible_host: $ip" "$ssh_inv" || { echo "bench: could not write $ssh_inv" >&2; exit 1; }
inv_docker=$inv inv=$ssh_inv
run_site ssh
inv=$inv_docker
unset ANSIBLE_SSH_ARGS ANSIBLE_SSH_CONTROL_PATH_DIR
ssh_rerun=$took ssh_changed=$changed ssh_hashed=$hashed ssh_peak=$peak_kb
ssh_restarted=$(count_restarted "$before" "$(started)")

# --- the bundle's install.sh rerun, in the same release dir ------------------------------
release=$(docker exec "$vm" readlink -f /opt/harbor/current)/harbor
ca=$top/.cache/demo/harbor-pki/ca.crt
healthy() {
  curl -sf --cacert "$ca" --resolve "$vm:443:$ip" "https://$vm/api/v2.0/health" 2>/dev/null \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("status") != "healthy")' 2>/dev/null
}
t0=$(now)
docker exec "$vm" sh -c "cd $release && ./install.sh" >"$work/install.sh.log" 2>&1 \
  || { tail -n 40 "$work/install.sh.log"; keep_log; exit 1; }
t1=$(now)
for _ in $(seq 1 300); do healthy && break; sleep 1; done
t2=$(now)
installsh=$(secs "$t0" "$t1")
installsh_healthy=$(secs "$t0" "$t2")
healthy && installsh_ok=healthy || installsh_ok="NOT healthy after 300 s"
before=$(started)
run_site after-installsh
after_took=$took after_changed=$changed
after_restarted=$(count_restarted "$before" "$(started)")

# --- the image step ------------------------------------------------------------------------
archive=$(docker exec "$vm" sh -c "ls $release/harbor.v*.tar.gz")
archive_size=$(docker exec "$vm" stat -c %s "$archive")
installer_size=$(stat -c %s "$installer")
tags=$(docker exec "$vm" sh -c "docker images --format '{{.Repository}}:{{.Tag}}' | grep '^goharbor/'" | tr '\n' ' ')
docker exec "$vm" sh -c "cd $release && docker compose stop >/dev/null 2>&1 && docker compose rm -f >/dev/null 2>&1"
empty() { docker exec "$vm" sh -c "docker image rm $tags >/dev/null && docker image prune -f >/dev/null"; }
empty
t0=$(now); docker exec "$vm" docker load -i "$archive" >/dev/null; t1=$(now)
bare=$(secs "$t0" "$t1")
loaded=$(docker exec "$vm" docker system df --format '{{.Type}} {{.Size}}' | awk '$1 == "Images" { print $2 }')
empty
docker exec "$vm" rm -f "$archive.images.json"
t0=$(now)
ansible -i "$inv" "$vm" -m harbor.deploy.harbor_images -a "archive=$archive state=present" >/dev/null
t1=$(now)
module=$(secs "$t0" "$t1")
t0=$(now)
ansible -i "$inv" "$vm" -m harbor.deploy.harbor_images -a "archive=$archive state=present" >/dev/null
t1=$(now)
noop=$(secs "$t0" "$t1")
docker exec "$vm" sh -c "cd $release && docker compose up -d >/dev/null 2>&1"

# the trust role on 1 vs 8 client VMs of this Harbor (bench/trust.sh)
trust=$(bench/trust.sh --lines)
rm -f "$log"
wall=$(secs "$bench_start" "$(now)")
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

if [ -n "$first" ]; then
  first_line="${first}s"; rerun_first="$(ratio "$rerun" "$first")"
else
  first_line="not measured (BENCH_REUSE_VM=true)"; rerun_first="n/a"
fi

cat <<FIG
bench/install.sh ($(date -u +%FT%TZ), $(nproc) cores, bundle $bundle: $(basename "$installer") $(mb "$installer_size"), images $(mb "$archive_size") gzip'ed, $loaded loaded)
  first install (site.yml, fresh VM)          $first_line
  rerun (site.yml, nothing to do)             ${rerun}s  ($rerun_changed)
  rerun / first                               $rerun_first   (target <= 0.15)
  containers restarted by the rerun           $restarted   (target 0)
  bytes hashed by the rerun                   $rerun_hashed   ($(mb "$rerun_hashed"); bundle $(mb "$installer_size"); expected 0)
  controller peak memory (rerun)              $((rerun_peak / 1024)) MiB max RSS (/usr/bin/time -v)
  rerun over SSH (ControlPersist, pipelining) ${ssh_rerun}s  ($ssh_changed, $ssh_restarted restarted, $(mb "$ssh_hashed") hashed, $((ssh_peak / 1024)) MiB max RSS)
  install.sh rerun (load, prepare, down, up)  ${installsh}s  (${installsh_healthy}s until $installsh_ok)
  rerun / install.sh rerun                    $(ratio "$rerun" "$installsh_healthy") docker, $(ratio "$ssh_rerun" "$installsh_healthy") SSH   (target <= 0.25; install.sh until healthy)
  site.yml after install.sh                   ${after_took}s  ($after_changed, $after_restarted restarted)
  bare docker load of the archive             ${bare}s
  harbor_images loading the same archive      ${module}s  (ratio $(ratio "$module" "$bare"), target <= 1.10; includes Ansible's start-up)
  harbor_images with every tag present        ${noop}s
$trust
  where the rerun's time goes (docker connection; bench/taskprofile.py):
$(python3 bench/taskprofile.py "$work/rerun.docker.log")
  10 slowest tasks of the rerun (docker connection):
$(slowest docker)
  where the rerun's time goes (SSH):
$(python3 bench/taskprofile.py "$work/rerun.ssh.log")
  10 slowest tasks of the rerun over SSH:
$(slowest ssh)
  bench wall time                             ${wall}s  (load average at start $load_start, at end $load_end)
FIG
