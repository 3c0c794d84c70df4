#!/bin/bash
# Downtime probe, run on a Harbor VM while a backup runs: until /root/probe.stop exists,
# pull an existing image (its local copy removed first) and push a new one-layer image,
# one after the other; one line per attempt: "EPOCH pull|push RC". Needs a docker login.
set -u
img=${1:?image}
dir=$(mktemp -d)
i=0
rm -f /root/probe.stop /root/probe.log
# beside the pulls and pushes, whose local steps (import, rm) take seconds on a loaded
# machine: the API's ping through nginx every 0.2 s, so no refusal window is missed
python3 - <<'PY' &
import os, time, urllib.request
while not os.path.exists("/root/probe.stop"):
    t = time.time()
    try:
        rc = 0 if urllib.request.urlopen("http://127.0.0.1/api/v2.0/ping", timeout=2).status == 200 else 1
    except Exception:  # noqa: BLE001 - any failure is a refusal
        rc = 1
    with open("/root/probe.log", "a") as log:
        log.write("%.3f ping %d\n" % (t, rc))
    time.sleep(0.2)
PY
pinger=$!
while [ ! -e /root/probe.stop ]; do
  i=$((i + 1))
  docker image rm -f "$img:1" >/dev/null 2>&1
  t=$(date +%s.%N); docker pull -q "$img:1" >/dev/null 2>&1; echo "$t pull $?" >>/root/probe.log
  head -c 4096 /dev/urandom >"$dir/payload"
  tar -C "$dir" -c . | docker import - "$img:probe$i" >/dev/null 2>&1
  t=$(date +%s.%N); docker push -q "$img:probe$i" >/dev/null 2>&1; echo "$t push $?" >>/root/probe.log
  docker image rm -f "$img:probe$i" >/dev/null 2>&1
done
wait "$pinger"
rm -rf "$dir"
echo done >>/root/probe.done
