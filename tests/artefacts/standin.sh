#!/usr/bin/env bash
# Build (or reuse) the stand-in Harbor installers: harbor-{offline,online}-installer-
# v2.14.4/v2.15.2/v2.15.3 .tgz, a .sha256 beside each and an md5sum file, with the
# layout and contract of Harbor's release bundles but images made of Debian packages
# (see tests/standin/README.md; v2.15.3 is test data: it breaks after migrating).
# The releases and the reference harbor.yml.tmpl each one ships come from
# `mkbundle.py --releases` (v2.15.3 ships v2.15.2's).
#
# Cached under .cache/standin/<key>/, key = hash of tests/standin/**, this script,
# the reference harbor.yml.tmpl files and v2.15.2's swagger.yaml (core checks API
# request bodies against it); the debootstrap rootfs is cached apart
# (.cache/standin/rootfs-<key>.tar, keyed by tests/standin/image/rootfs.sh), so a
# code change only repackages. Older bundle dirs are removed after a build, except
# the one .cache/lab.env names (a running `make molecule` may still read it).
# Logs go to stderr; stdout is one line:
#   HARBOR_STANDIN_DIR=/abs/path/to/.cache/standin/<key>
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${STANDIN_CACHE:-$top/.cache/standin}
ref=${HARBOR_REFERENCE_DIR:-$top/../shared/reference/harbor}
mkdir -p "$cache"
ref=$(cd "$ref" && pwd) || { echo "standin: no reference dir $ref (set HARBOR_REFERENCE_DIR)" >&2; exit 1; }
# "TAG TEMPLATE_TAG" lines: each release and whose reference harbor.yml.tmpl it ships
release_list=$(python3 "$top/tests/standin/image/mkbundle.py" --releases)
releases=$(awk '{print $1}' <<<"$release_list")

key=$( {
  cd "$top"
  find tests/standin -type f ! -name '*.pyc' ! -path '*/__pycache__/*' | LC_ALL=C sort | while read -r f; do
    printf '%s\n' "$f"; sha256sum <"$f"
  done
  sha256sum <tests/artefacts/standin.sh
  while read -r r t; do printf '%s %s\n' "$r" "$t"; sha256sum <"$ref/$t/harbor.yml.tmpl"; done <<<"$release_list"
  sha256sum <"$ref/v2.15.2/swagger.yaml"   # packed into the images (core checks request bodies against it)
} | sha256sum | cut -c1-12)
out="$cache/$key"

done_already() {
  [ -s "$out/md5sum" ] || return 1
  for r in $releases; do
    for kind in offline online; do
      [ -s "$out/harbor-$kind-installer-$r.tgz" ] && [ -s "$out/harbor-$kind-installer-$r.tgz.sha256" ] || return 1
    done
  done
}

exec 9>"$cache/.lock"
flock 9
if done_already; then
  echo "standin: cached $out" >&2
  echo "HARBOR_STANDIN_DIR=$out"
  exit 0
fi

start=$(date +%s)
rkey=$(cat "$top/tests/standin/image/rootfs.sh" | sha256sum | cut -c1-12)
rootfs="$cache/rootfs-$rkey.tar"
if [ ! -s "$rootfs" ]; then
  command -v debootstrap >/dev/null || { echo "standin: debootstrap is needed (apt-get install debootstrap)" >&2; exit 1; }
  echo "standin: building the root filesystem (debootstrap, about a minute)" >&2
  "$top/tests/standin/image/rootfs.sh" "$rootfs"
fi

rm -rf "$out.part"
python3 "$top/tests/standin/image/mkbundle.py" "$rootfs" "$top/tests/standin/app" "$top/tests/standin/bundle" \
  "$ref" "$out.part"
rm -rf "$out"
mv "$out.part" "$out"

# keep the cache small: older bundle dirs go (the rootfs stays), but not the one the
# lab env names: scenarios running now read their bundles from it
# no lab.env yet on a fresh clone: nothing is in use
in_use=$(sed -n 's/^HARBOR_STANDIN_DIR=//p' "$top/.cache/lab.env" 2>/dev/null | tail -n 1 || true)
for d in "$cache"/*/; do
  d=${d%/}
  [ "$d" = "${in_use%/}" ] && continue
  case "${d##*/}" in "$key") ;; [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) rm -rf "$d" ;; esac
done

echo "standin: built $out in $(( $(date +%s) - start ))s: $(cd "$out" && du -h ./*.tgz | awk '{printf "%s %s, ", $2, $1}')" >&2
echo "HARBOR_STANDIN_DIR=$out"
