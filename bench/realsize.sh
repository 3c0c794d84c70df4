#!/usr/bin/env bash
# Build (or reuse) the real-size stand-in installer FOR THE BENCH ONLY (never for CI
# scenarios, never shipped: bench/ is in galaxy.yml's build_ignore):
#   .cache/bench/realsize/<key>/harbor-offline-installer-v2.15.2.tgz  (+ .sha256, md5sum, realsize.json)
# the stand-in's v2.15.2 offline installer whose image archive carries, per image, one
# extra layer of seeded data: real per-image sizes, ~650 MB gzip'ed, ~2.2 GB loaded
# (bench/realsize.py says how and where the sizes come from).
# Starts from the cached normal stand-in ($HARBOR_STANDIN_DIR, `make lab`): about 2 min.
# Key = the stand-in installer's sha256, bench/realsize.py, python3's minor version
# (random.Random's byte stream); older realsize dirs are removed after a build.
# Logs go to stderr; stdout is one line:  REALSIZE_DIR=/abs/path
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${HARBOR_STANDIN_DIR:-}" ]; then
  set -a; . "$top/.cache/lab.env"; set +a
fi
src=$HARBOR_STANDIN_DIR/harbor-offline-installer-v2.15.2.tgz
[ -s "$src" ] || { echo "realsize: no $src: run \`make lab\`" >&2; exit 1; }
cache=$top/.cache/bench/realsize
mkdir -p "$cache"
key=$( {
  cat "$src.sha256"
  sha256sum <"$top/bench/realsize.py"
  python3 -c 'import sys; print(sys.version_info[:2])'
} | sha256sum | cut -c1-12)
out=$cache/$key
exec 9>"$cache/.lock"
flock 9
if [ -s "$out/md5sum" ] && [ -s "$out/harbor-offline-installer-v2.15.2.tgz" ]; then
  echo "realsize: cached $out" >&2
  echo "REALSIZE_DIR=$out"
  exit 0
fi
df_free=$(df -Pk "$cache" | awk 'NR == 2 { print $4 }')
[ "$df_free" -gt $((3 * 1024 * 1024)) ] || { echo "realsize: less than 3 GB free under $cache" >&2; exit 1; }
rm -rf "$out.part"
python3 "$top/bench/realsize.py" "$src" "$out.part"
rm -rf "$out"
mv "$out.part" "$out"
for d in "$cache"/*/; do
  d=${d%/}
  [ "${d##*/}" = "$key" ] || rm -rf "$d"
done
echo "REALSIZE_DIR=$out"
