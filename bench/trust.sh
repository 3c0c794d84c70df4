#!/usr/bin/env bash
# Figures, not asserts: the trust role (playbooks/trust.yml) rolled out to 1 vs 8 client VMs
# that trust the demo's Harbor (HTTPS, CA from the certs role):
#   - first rollout to 1 fresh client, first rollout to 8 fresh clients, their ratio (target <= 3)
#   - the rerun on the 8 (nothing to do: changed=0 expected)
#   - how many of the 8 then reach https://<harbor>/api/v2.0/ping with verification on (OS CA store)
# Nine client VMs (bench-client-0 for the single run, bench-client-1..8 for the eight) are
# created from $LAB_IMAGE on the demo's network like tests/demo/run.sh's VM, prepared untimed
# (apt-get update + ca-certificates, in parallel), and removed on exit; harbor-demo is left as is.
# The role writes the OS CA store, docker's certs.d (a file: no dockerd needed) and /etc/hosts;
# containerd and podman are off (not installed on a lab VM; containerd's handler would restart it).
# usage: bench/trust.sh            after `make demo` (bench/install.sh calls it: `make bench`)
#        bench/trust.sh --lines    only the figure lines (what bench/install.sh prints)
# ANSIBLE_FORKS (default 10) must stay >= 8 for the 8-client run to be one batch.
set -euo pipefail
# one `docker exec` per module instead of several (what ansible.cfg's pipelining does over SSH)
export ANSIBLE_PIPELINING=true
export ANSIBLE_FORKS=${ANSIBLE_FORKS:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# what the Makefile exports, for a run by hand
export PATH=$top/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$top/.cache/collections}
# .cache/lab.env is written by `make lab`
set -a
# shellcheck source=/dev/null
. "$top/.cache/lab.env"
set +a

harbor="harbor-demo"
net="harbor-demo-net"
registry=$harbor   # install_endpoint.registry of the demo: harbor.yml hostname, HTTPS on 443
ca=$top/.cache/demo/harbor-pki/ca.crt
work=$top/.cache/bench
inv=$work/trust-inventory.yml
single=(bench-client-0)
eight=(bench-client-1 bench-client-2 bench-client-3 bench-client-4 bench-client-5 bench-client-6 bench-client-7 bench-client-8)
all=("${single[@]}" "${eight[@]}")
lines_only=false
[ "${1:-}" = --lines ] && lines_only=true

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
die() { echo "bench/trust.sh: $*" >&2; exit 1; }

docker inspect "$harbor" >/dev/null 2>&1 || die "no VM $harbor: run \`make demo\` first"
[ -f "$ca" ] || die "no CA $ca: the demo is not HTTPS (certs role)"
harbor_ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$harbor")
[ -n "$harbor_ip" ] || die "$harbor has no address on $net"

remove_clients() { docker rm -f -v "${all[@]}" >/dev/null 2>&1 || true; }
mkdir -p "$work"
log=$(mktemp "$work/trust.XXXXXX.log")
cleanup() { remove_clients; rm -f "$inv" "$log"; }
trap cleanup EXIT
trap "exit 130" INT TERM
remove_clients   # leftovers of an interrupted run

# --- untimed: the client VMs, as tests/demo/run.sh makes its VM -------------------
caps=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
      NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
      SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
      SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)
args=(); for c in "${caps[@]}"; do args+=(--cap-add "$c"); done
for vm in "${all[@]}"; do
  docker run -d --name "$vm" --hostname "$vm" --network "$net" "${args[@]}" --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker --tmpfs /run --tmpfs /tmp \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined "$LAB_IMAGE" /lib/systemd/systemd >/dev/null
done
for vm in "${all[@]}"; do
  for _ in $(seq 1 60); do
    state=$(docker exec "$vm" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac; sleep 1
  done
done
# package lists + ca-certificates now, so the timed runs download nothing
pids=()
for vm in "${all[@]}"; do
  docker exec -e DEBIAN_FRONTEND=noninteractive "$vm" \
    sh -c 'apt-get update -qq && apt-get install -y -qq ca-certificates' >"$log.$vm" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "bench/trust.sh: preparing ${all[$i]} failed:" >&2; tail -n 20 "$log.${all[$i]}" >&2; failed=1
  fi
  rm -f "$log.${all[$i]}"
done
[ "$failed" = 0 ] || exit 1

cat > "$inv" <<INV
harbor_clients:
  hosts:
$(printf '    %s:\n      ansible_connection: community.docker.docker\n' "${all[@]}")
  vars:
    trust_registry: $registry
    trust_ca_src: $ca
    trust_ca_store: true
    trust_docker: true
    trust_containerd: false
    trust_podman: false
    trust_hosts_entry:
      address: $harbor_ip
      names: [$registry]
    # a lab VM is a container: /etc/hosts is a bind mount
    trust_hosts_unsafe_writes: true
INV

# --- timed: ansible-playbook harbor.deploy.trust, start-up included -----------------
# rollout LIMIT: sets $took (seconds) and $changed (changed= summed over the recap)
rollout() {
  local t0 t1 recap
  t0=$(now)
  ansible-playbook -i "$inv" harbor.deploy.trust --limit "$1" >"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }
  t1=$(now)
  took=$(secs "$t0" "$t1")
  recap=$(grep -E '^bench-client-[0-9]+ +:' "$log" || true)
  [ "$(wc -l <<<"$recap")" = "$(tr ',' '\n' <<<"$1" | wc -l)" ] || { tail -n 40 "$log" >&2; die "not every host of $1 in the recap"; }
  changed=$(grep -oE 'changed=[0-9]+' <<<"$recap" | awk -F= '{ s += $2 } END { print s + 0 }')
}
rollout "$(IFS=,; echo "${single[*]}")"
one=$took
rollout "$(IFS=,; echo "${eight[*]}")"
many=$took
rollout "$(IFS=,; echo "${eight[*]}")"
rerun=$took
rerun_changed=$changed

# --- untimed: each of the 8 reaches Harbor over HTTPS, verified by the OS store -----
# Harbor first answers here (bench/install.sh has just restarted its containers)
for _ in $(seq 1 120); do
  curl -sf --cacert "$ca" --resolve "$registry:443:$harbor_ip" "https://$registry/api/v2.0/ping" >/dev/null && break
  sleep 1
done
verified=0
for vm in "${eight[@]}"; do
  if docker exec "$vm" python3 -c "import urllib.request; print(urllib.request.urlopen('https://$registry/api/v2.0/ping', timeout=20).read())" >/dev/null 2>"$log"; then
    verified=$((verified + 1))
  else
    echo "bench/trust.sh: $vm: $(tail -n 1 "$log")" >&2
  fi
done

$lines_only || echo "bench/trust.sh ($(date -u +%FT%TZ), $(nproc) cores, forks $ANSIBLE_FORKS)"
cat <<FIG
  trust rollout, 1 client (first run)         ${one}s
  trust rollout, 8 clients (first run)        ${many}s  (ratio $(awk -v a="$many" -v b="$one" 'BEGIN { printf "%.1f", a / b }'), target <= 3)
  trust rerun, 8 clients                      ${rerun}s  (changed=$rerun_changed)
  clients verified (HTTPS via OS store)       $verified/${#eight[@]}
FIG
