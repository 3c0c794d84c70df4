#!/usr/bin/env bash
# usage: kill-during.sh HOST 'TASK TITLE' 'READY TEST' 'VM PROCESSES' ['AFTER PROBE']
# Runs site.yml on HOST (the scenario's inventory), waits until the task titled
# TASK TITLE has started and READY TEST (sh, run in the VM) succeeds, then kills
# with SIGKILL the whole ansible-playbook process group on the controller and the
# processes matching VM PROCESSES (pkill -f) in the VM: a lost controller and a
# power cut at once. Fails when the task ended before the kill (nothing tested).
# AFTER PROBE (sh, in the VM) prints the state the kill left.
set -euo pipefail
host=$1 task=$2 ready=$3 procs=$4 probe=${5:-}
inv=$MOLECULE_EPHEMERAL_DIRECTORY/inventory
log=$MOLECULE_EPHEMERAL_DIRECTORY/kill-during.$(date +%s%N).log
export PYTHONUNBUFFERED=1
unset ANSIBLE_CALLBACKS_ENABLED
setsid ansible-playbook -i "$inv" --limit "$host" harbor.deploy.site >"$log" 2>&1 &
pid=$!
end=$((SECONDS + 1200))
started() { grep -qF "TASK [$task" "$log"; }
until started && docker exec "$host" sh -c "$ready" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "kill-during: site.yml ended before '$task' was under way"; tail -n 30 "$log"; exit 1
  fi
  [ "$SECONDS" -lt "$end" ] || { echo "kill-during: timed out waiting for '$task'"; exit 1; }
  sleep 0.2
done
kill -KILL -- "-$pid"
docker exec "$host" pkill -KILL -f "$procs" || true
wait "$pid" 2>/dev/null || true
# the task must still have been running: no result line after its title
after=$(awk -v t="TASK [$task" 'f && /^(ok|changed|fatal|skipping):/ { n++ } index($0, t) { f = 1 } END { print n + 0 }' "$log")
if [ "$after" -ne 0 ]; then
  echo "kill-during: '$task' had already ended when the kill came"; tail -n 20 "$log"; exit 1
fi
echo "kill-during: site.yml killed during '$task' on $host"
if [ -n "$probe" ]; then
  echo "kill-during: left $(docker exec "$host" sh -c "$probe" 2>&1 | tr '\n' ' ')"
fi
