#!/bin/bash
# Downtime probe, run on a Harbor VM while a backup runs: until /root/probe.stop exists,
# pull an existing image (its local copy removed first) and push a new one-layer image,
# one after the other; one line per attempt: "EPOCH pull|push RC". Needs a docker login.
set -u
img=${1:?image}
dir=$(mktemp -d)
i=0
rm -f /root/probe.stop /root/probe.log
while [ ! -e /root/probe.stop ]; do
  i=$((i + 1))
  docker image rm -f "$img:1" >/dev/null 2>&1
  t=$(date +%s.%N); docker pull -q "$img:1" >/dev/null 2>&1; echo "$t pull $?" >>/root/probe.log
  head -c 4096 /dev/urandom >"$dir/payload"
  tar -C "$dir" -c . | docker import - "$img:probe$i" >/dev/null 2>&1
  t=$(date +%s.%N); docker push -q "$img:probe$i" >/dev/null 2>&1; echo "$t push $?" >>/root/probe.log
  docker image rm -f "$img:probe$i" >/dev/null 2>&1
done
rm -rf "$dir"
echo done >>/root/probe.done
