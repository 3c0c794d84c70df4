#!/usr/bin/env bash
# Figures, not asserts: harbor.deploy.backup and harbor.deploy.restore on a Harbor whose
# registry holds >= 2 GB, run as users run them (ansible-playbook from this controller):
#   - fill: BENCH_IMAGES (8) images of one BENCH_LAYER_MIB (256) MiB incompressible layer each,
#     built from /dev/urandom inside the VM, pushed to its Harbor, local copies removed;
#     the registry's size on disk (du of data_volume/registry inside the VM)
#   - backup with backup_fetch=true backup_fetch_registry=true into a tmp dir: wall time, the
#     controller's peak memory of the whole ansible-playbook process tree, the sizes fetched,
#     `sha256sum -c SHA256SUMS` in the fetched copy, the umask (022) and the copy's modes
#   - restore of that controller copy onto the same VM (backup_restore_confirm=<vm>): wall time
#     and controller peak memory; then a pull of one big image, its digest against the pushed one
#   - the five slowest tasks of each run (ansible.posix.profile_tasks)
# Controller memory: the process tree of ansible-playbook (forks, `docker cp`, `docker exec`)
# sampled every 0.1 s: summed RSS (pages shared by the forks count once per process: an
# over-estimate) and summed PSS (shared pages split between them); dockerd is not in the tree.
# When the kernel has a cgroup v2 memory controller with memory.peak, each run also goes into
# its own child cgroup of /sys/fs/cgroup and its memory.peak is printed too: that one
# includes the page cache of the files written, so it grows with the copy even when streamed.
# The VM is the demo's (tests/demo/run.sh, `harbor-demo`), reused when it runs and answers
# healthy, else made afresh; it is kept, with the pushed images (reused by the next run,
# listed in .cache/demo/bench-backup-images.txt; `make demo-clean` removes all). The backups
# this run made inside the VM (/var/backups/harbor/NAME) and the tmp dir are removed at exit.
# Disk: about 5x the registry size at the restore's peak: 4x in the VM (the storage renamed
# aside, the unpacked one, the backup, the staged copy) and the fetched copy on the controller.
# usage: bench/backup.sh   after `make lab` (HARBOR_INSTALLER as for make demo when the VM is
#        made); BENCH_TMPDIR (default /tmp) holds the controller copy;
#        BENCH_RESTORE_REMOTE=true restores from the VM's backup_dir instead (remote_src).
set -euo pipefail
# one `docker exec` per module instead of several (what ansible.cfg's pipelining does over SSH)
export ANSIBLE_PIPELINING=true
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# what the Makefile exports, for a run by hand
export PATH=$top/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$top/.cache/collections}
umask 022

vm=harbor-demo
inv=$top/.cache/demo/inventory.yml
images=${BENCH_IMAGES:-8}
layer_mib=${BENCH_LAYER_MIB:-256}
min_bytes=2000000000
repo=127.0.0.1/library/bench-big
marker=$top/.cache/demo/bench-backup-images.txt
restore_remote=${BENCH_RESTORE_REMOTE:-false}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
gb() { awk -v n="$1" 'BEGIN { printf "%.2f GB", n / 1e9 }'; }
mb() { awk -v n="$1" 'BEGIN { printf "%.0f MB", n / 1e6 }'; }
size() { awk -v n="$1" 'BEGIN { split("B kB MB GB", u); i = 1; while (n >= 1000 && i < 4) { n /= 1000; i++ }
  printf (i == 1 ? "%d %s" : "%.2f %s"), n, u[i] }'; }
say() { echo "bench/backup: $*" >&2; }
in_vm() { docker exec "$vm" "$@"; }

load0=$(cut -d " " -f1-3 /proc/loadavg)
tmp=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/bench-backup.XXXXXX")
backups_before=""
cleanup() {
  local rc=$? name
  if [ -n "$backups_before" ] && docker inspect "$vm" >/dev/null 2>&1; then
    # only what this run added to the VM's backup_dir (backups, restore staging, safety copies)
    for name in $(in_vm sh -c 'ls -A /var/backups/harbor 2>/dev/null' || true); do
      grep -qxF "$name" <<<"$backups_before" || in_vm rm -rf "/var/backups/harbor/$name"
    done
  fi
  rm -rf "$tmp"
  for cg in /sys/fs/cgroup/bench-backup-$$-*; do [ -d "$cg" ] && rmdir "$cg" 2>/dev/null; done
  exit "$rc"
}
trap cleanup EXIT

# --- 1. the demo VM: reused when it runs and Harbor answers healthy ----------------------
healthy() {
  [ -f "$inv" ] && [ "$(docker inspect -f '{{.State.Running}}' "$vm" 2>/dev/null)" = true ] &&
    in_vm curl -sfk https://127.0.0.1/api/v2.0/health 2>/dev/null | grep -qE '"status": *"healthy"'
}
if healthy; then
  vm_note="reused"
else
  say "no healthy $vm: making it with tests/demo/run.sh (site.yml, a few minutes)"
  tests/demo/run.sh clean >/dev/null
  tests/demo/run.sh >"$tmp/demo.log" 2>&1 || { tail -n 40 "$tmp/demo.log"; exit 1; }
  vm_note="made, site.yml $(grep -oE 'site.yml took [0-9]+s' "$tmp/demo.log" | grep -oE '[0-9]+s')"
fi
backups_before=$(in_vm sh -c 'ls -A /var/backups/harbor 2>/dev/null' || true)
# keep one entry per line even when empty, so cleanup() knows it ran
backups_before=${backups_before:-.}
data_volume=$(in_vm awk '$1 == "data_volume:" { print $2 }' /opt/harbor/current/harbor/harbor.yml)
data_volume=${data_volume:-/data}
registry_bytes() { in_vm du -sB1 "$data_volume/registry" | cut -f1; }
password=$(ansible-inventory -i "$inv" --host "$vm" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["install_admin_password"])')
login() {
  printf '%s' "$password" | docker exec -i "$vm" docker login -u admin --password-stdin 127.0.0.1 >"$tmp/login.log" 2>&1 ||
    { cat "$tmp/login.log" >&2; return 1; }
}
login

# --- 2. a registry of >= 2 GB: random layers pushed from inside the VM -------------------
if [ -f "$marker" ] && [ "$(wc -l <"$marker")" -ge "$images" ] && [ "$(registry_bytes)" -ge "$min_bytes" ]; then
  fill_note="reused the $(wc -l <"$marker") images of a previous run ($marker)"
else
  say "pushing $images images of $layer_mib MiB random data to $vm's Harbor"
  : >"$marker.new"
  t0=$(now)
  for i in $(seq 1 "$images"); do
    # /var/tmp is on the VM's disk (/tmp is a tmpfs); the tar stream goes straight to import
    in_vm sh -c "set -e; d=\$(mktemp -d /var/tmp/bench.XXXXXX)
      head -c ${layer_mib}M /dev/urandom > \$d/layer.bin
      tar -C \$d -c layer.bin | docker import - $repo:$i >/dev/null
      rm -rf \$d"
    digest=$(in_vm docker push "$repo:$i" | grep -oE 'digest: sha256:[0-9a-f]{64}' | grep -oE 'sha256:.*')
    in_vm docker image rm "$repo:$i" >/dev/null
    echo "$repo:$i $digest" >>"$marker.new"
  done
  t1=$(now)
  in_vm docker image prune -f >/dev/null
  mv "$marker.new" "$marker"
  fill_note="pushed $images x $layer_mib MiB in $(secs "$t0" "$t1")s"
fi
registry=$(registry_bytes)
[ "$registry" -ge "$min_bytes" ] || { say "registry is only $(gb "$registry"): raise BENCH_IMAGES"; exit 1; }

# --- measuring one ansible-playbook run --------------------------------------------------
# The sampler: the tree under one pid (every thread's children), every 0.1 s, until it exits.
cat >"$tmp/sample.py" <<'PY'
import os, sys, time
root, page = int(sys.argv[1]), os.sysconf("SC_PAGE_SIZE")
def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""
def tree():
    procs, todo = [], [root]
    while todo:
        pid = todo.pop()
        procs.append(pid)
        for tid in (os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []):
            todo += [int(c) for c in read(f"/proc/{pid}/task/{tid}/children").split()]
    return procs
def name(pid):
    # the program, not its interpreter: ansible-playbook, docker, ...
    argv = [os.path.basename(a) for a in read(f"/proc/{pid}/cmdline").split("\0") if a]
    while len(argv) > 1 and argv[0].startswith("python"):
        argv = argv[1:]
    return (argv or ["?"])[0]
peak_rss = peak_pss = samples = 0
biggest = (0, "-")
while True:
    stat = read(f"/proc/{root}/stat")
    if not stat or stat.rsplit(")", 1)[1].split()[0] == "Z":
        break
    rss = pss = 0
    for pid in tree():
        r = int((read(f"/proc/{pid}/statm").split() or [0, 0])[1]) * page
        rss += r
        for line in read(f"/proc/{pid}/smaps_rollup").splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1]) * 1024
        biggest = max(biggest, (r, name(pid)))
    peak_rss, peak_pss, samples = max(peak_rss, rss), max(peak_pss, pss), samples + 1
    time.sleep(0.1)
print(peak_rss, peak_pss, biggest[0], biggest[1], samples)
PY
cgroup_v2=false
if grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null &&
   mkdir "/sys/fs/cgroup/bench-backup-$$-probe" 2>/dev/null; then
  # memory.peak there, and a process may move itself in (not so in every container)
  if [ -f "/sys/fs/cgroup/bench-backup-$$-probe/memory.peak" ] &&
     (echo "$BASHPID" >"/sys/fs/cgroup/bench-backup-$$-probe/cgroup.procs") 2>/dev/null; then
    cgroup_v2=true
  fi
  rmdir "/sys/fs/cgroup/bench-backup-$$-probe"
fi

# measure NAME CMD...: runs CMD (output in $tmp/NAME.log); sets wall_NAME, rss_NAME,
# pss_NAME, big_NAME (the largest single process) and cg_NAME (memory.peak or "")
measure() {
  local name=$1 cg="" rc=0 t0 t1 pid spid peak_rss peak_pss big_rss big_comm samples
  shift
  if $cgroup_v2; then
    cg=/sys/fs/cgroup/bench-backup-$$-$name
    mkdir "$cg"
  fi
  t0=$(now)
  (
    [ -z "$cg" ] || echo "$BASHPID" >"$cg/cgroup.procs"
    exec "$@"
  ) >"$tmp/$name.log" 2>&1 &
  pid=$!
  python3 "$tmp/sample.py" "$pid" >"$tmp/$name.mem" &
  spid=$!
  wait "$pid" || rc=$?
  t1=$(now)
  wait "$spid"
  read -r peak_rss peak_pss big_rss big_comm samples <"$tmp/$name.mem"
  printf -v "wall_$name" '%s' "$(secs "$t0" "$t1")"
  printf -v "rss_$name" '%s' "$(mb "$peak_rss")"
  printf -v "pss_$name" '%s' "$(mb "$peak_pss")"
  printf -v "big_$name" '%s' "$big_comm $(mb "$big_rss")"
  printf -v "cg_$name" '%s' ""
  if [ -n "$cg" ]; then
    printf -v "cg_$name" '%s' "$(mb "$(cat "$cg/memory.peak")")"
    rmdir "$cg"
  fi
  return "$rc"
}

# run NAME CMD...: measure, and when the backup role is mid-edit (a syntax or undefined
# error inside roles/backup) wait a minute and try again, three times at most
run() {
  local name=$1 try
  for try in 1 2 3; do
    if measure "$@"; then return 0; fi
    if [ "$try" -lt 3 ] &&
       grep -qE "is undefined|[Ss]yntax|YAML|not a valid attribute|Unsupported parameters|arg spec" "$tmp/$name.log"; then
      say "$name: an Ansible syntax/undefined error (roles/backup being edited?): retrying in 60 s"
      grep -E "is undefined|[Ss]yntax|YAML|not a valid attribute|Unsupported parameters|arg spec" "$tmp/$name.log" |
        head -n 3 >&2
      # a failed backup may have left a partial controller copy
      [ "$name" != backup ] || rm -rf "$tmp/backups"
      sleep 60
      continue
    fi
    tail -n 40 "$tmp/$name.log"
    return 1
  done
}
slowest() {
  sed -n '/^====/,$p' "$tmp/$1.log" | grep -E -- '-+ +[0-9.]+s$' | head -n 5 |
    sed -E 's/ -+ +/  /; s/^/    /'
}

# --- 3. backup, fetched with registry.tar --------------------------------------------------
say "backup of $(gb "$registry") with the controller copy into $tmp/backups"
run backup ansible-playbook -i "$inv" harbor.deploy.backup \
  -e backup_fetch=true -e "backup_fetch_dir=$tmp/backups" -e backup_fetch_registry=true
fetched=$(find "$tmp/backups" -mindepth 1 -maxdepth 1 -type d)
[ "$(wc -l <<<"$fetched")" = 1 ] || { say "expected one backup in $tmp/backups: $fetched"; exit 1; }
name=$(basename "$fetched")
fetched_bytes=$(du -sB1 "$fetched" | cut -f1)
files=$(cd "$fetched" && for f in *; do printf '%s %s\n' "$f" "$(size "$(stat -c %s "$f")")"; done | paste -sd, | sed 's/,/, /g')
t0=$(now)
if (cd "$fetched" && sha256sum -c --quiet SHA256SUMS); then sums="ok"; else sums="FAILED"; fi
t1=$(now)
sums_secs=$(secs "$t0" "$t1")
mode() { stat -c %a "$@" | sed 's/^/0/' | sort -u | paste -sd,; }
modes="$(mode "$tmp/backups")/$(mode "$fetched")/$(mode "$fetched"/*)"
modes_summary="$(mode "$fetched")/$(mode "$fetched"/*)"
host_copy=$(in_vm du -sB1 "/var/backups/harbor/$name" | cut -f1)

# --- 4. restore of that backup onto the same VM, then a pull ------------------------------
if [ "$restore_remote" = true ]; then
  src="/var/backups/harbor/$name"
  restore_note="from the VM's backup_dir (backup_restore_remote_src=true)"
else
  src=$fetched
  restore_note="from the controller copy (registry.tar streamed up)"
fi
say "restore of $name $restore_note"
run restore ansible-playbook -i "$inv" harbor.deploy.restore \
  -e "backup_hosts=$vm" -e "backup_restore_confirm=$vm" \
  -e "backup_restore_src=$src" -e "backup_restore_remote_src=$restore_remote"
registry_after=$(registry_bytes)
read -r image pushed < <(tail -n 1 "$marker")
login
t0=$(now)
pulled=$(in_vm docker pull "$image" | grep -oE 'Digest: sha256:[0-9a-f]{64}' | grep -oE 'sha256:.*' || true)
t1=$(now)
pull_secs=$(secs "$t0" "$t1")
in_vm docker image rm "$image" >/dev/null 2>&1 || true
if [ -n "$pulled" ] && [ "$pulled" = "$pushed" ]; then pull="digest same"; else pull="DIGEST DIFFERS ($pushed vs ${pulled:-none})"; fi

# --- 5. figures ------------------------------------------------------------------------
fig() { printf '  %-40s %s\n' "$1" "$2"; }
{
  echo "bench/backup.sh ($(date -u +%FT%TZ), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GB RAM, load at start $load0)"
  fig "VM $vm" "$vm_note"
  fig "fill" "$fill_note"
  fig "registry on disk (du $data_volume/registry)" "$(gb "$registry")"
  if $cgroup_v2; then
    fig "controller memory" "ansible-playbook's process tree: summed RSS / PSS, sampled every 0.1 s;"
    fig "" "and its cgroup v2 memory.peak (includes the page cache of the files written)"
  else
    fig "controller memory" "ansible-playbook's process tree: summed RSS / PSS, sampled every 0.1 s"
    fig "" "(no cgroup v2 memory controller with memory.peak on this kernel)"
  fi
  echo "backup (harbor.deploy.backup, backup_fetch + backup_fetch_registry)"
  fig "wall" "${wall_backup}s"
  fig "controller peak RSS / PSS" "$rss_backup / $pss_backup  (largest process: $big_backup)"
  if $cgroup_v2; then fig "controller cgroup memory.peak" "$cg_backup"; fi
  fig "backup on the VM" "$(size "$host_copy")  /var/backups/harbor/$name"
  fig "fetched" "$(size "$fetched_bytes")"
  fig "" "$files"
  fig "sha256sum -c SHA256SUMS (fetched copy)" "$sums  (${sums_secs}s)"
  fig "umask; modes fetch dir/copy/files" "$(umask); $modes"
  echo "  slowest tasks"
  slowest backup
  echo "restore (harbor.deploy.restore, $restore_note)"
  fig "wall" "${wall_restore}s"
  fig "controller peak RSS / PSS" "$rss_restore / $pss_restore  (largest process: $big_restore)"
  if $cgroup_v2; then fig "controller cgroup memory.peak" "$cg_restore"; fi
  fig "registry on disk after" "$(gb "$registry_after")"
  fig "pull of ${image#*/library/} after restore" "${pull_secs}s, $pull"
  echo "  slowest tasks"
  slowest restore
  echo
  echo "backup: registry $(gb "$registry"), wall ${wall_backup} s, controller peak $rss_backup (RSS; PSS $pss_backup)," \
    "fetched $(gb "$fetched_bytes"), sha256 $sums, modes $modes_summary"
  echo "restore: wall ${wall_restore} s, controller peak $rss_restore (RSS; PSS $pss_restore); pull after restore: $pull"
}
