#!/usr/bin/env bash
# Figures, not asserts: one lab VM (the demo's), then
#   - first install wall time (playbooks/site.yml on a fresh VM, VM creation excluded)
#   - rerun wall time, the ratio rerun/first, and how many containers the rerun restarted
#   - the image step: a bare `docker load` of the bundle's archive vs harbor.deploy.harbor_images
#     loading the same archive (engine emptied of those images before each), and the module's
#     no-op rerun when every tag is present.
#   - the trust role rolled out to 1 vs 8 client VMs of that Harbor, its rerun, the clients
#     verified over HTTPS (bench/trust.sh, which also runs alone after `make demo`).
# usage: make bench   (or bench/install.sh after `make lab`); HARBOR_INSTALLER as for make demo.
set -euo pipefail
# one `docker exec` per module instead of several (what ansible.cfg's pipelining does over SSH)
export ANSIBLE_PIPELINING=true
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
vm=harbor-demo
inv=$top/.cache/demo/inventory.yml
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

tests/demo/run.sh clean >/dev/null
log=$(mktemp)
tests/demo/run.sh >"$log" 2>&1 || { tail -n 40 "$log"; exit 1; }
first=$(grep -oE 'site.yml took [0-9]+s' "$log" | grep -oE '[0-9]+')

started() {
  docker exec "$vm" sh -c 'docker inspect --format "{{.Name}} {{.State.StartedAt}}" $(docker ps -aq --filter label=com.docker.compose.project=harbor)' | sort
}
before=$(started)
t0=$(now)
ansible-playbook -i "$inv" harbor.deploy.site >"$log" 2>&1 || { tail -n 40 "$log"; exit 1; }
t1=$(now)
rerun=$(secs "$t0" "$t1")
changed=$(grep -E "^$vm +:" "$log" | grep -oE 'changed=[0-9]+')
after=$(started)
restarted=$(diff <(echo "$before") <(echo "$after") | grep -c '^>' || true)

release=$(docker exec "$vm" readlink -f /opt/harbor/current)/harbor
archive=$(docker exec "$vm" sh -c "ls $release/harbor.v*.tar.gz")
tags=$(docker exec "$vm" sh -c "docker images --format '{{.Repository}}:{{.Tag}}' | grep '^goharbor/'" | tr '\n' ' ')
docker exec "$vm" sh -c "cd $release && docker compose stop >/dev/null 2>&1 && docker compose rm -f >/dev/null 2>&1"
empty() { docker exec "$vm" sh -c "docker image rm $tags >/dev/null && docker image prune -f >/dev/null"; }
empty
t0=$(now); docker exec "$vm" docker load -i "$archive" >/dev/null; t1=$(now)
bare=$(secs "$t0" "$t1")
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
rm -f "$log"

# the trust role on 1 vs 8 client VMs of this Harbor (bench/trust.sh)
trust=$(bench/trust.sh --lines)

cat <<FIG
bench/install.sh ($(date -u +%FT%TZ), $(nproc) cores)
  first install (site.yml, fresh VM)          ${first}s
  rerun (site.yml, nothing to do)             ${rerun}s  ($changed)
  rerun / first                               $(awk -v a="$rerun" -v b="$first" 'BEGIN { printf "%.2f", a / b }')   (target <= 0.15)
  containers restarted by the rerun           $restarted   (target 0)
  bare docker load of the archive             ${bare}s
  harbor_images loading the same archive      ${module}s  (ratio $(awk -v a="$module" -v b="$bare" 'BEGIN { printf "%.2f", a / b }'), target <= 1.10; includes Ansible's start-up)
  harbor_images with every tag present        ${noop}s
$trust
FIG
