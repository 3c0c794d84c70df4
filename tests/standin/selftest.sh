#!/usr/bin/env bash
# End-to-end self-test of the stand-in Harbor bundle on THIS machine's Docker
# engine (no VM): install v2.14.4, push and seed data, upgrade to v2.15.2 (schema
# 140 -> 150, data kept), check health, the API/token contract, docker
# login/push/pull with digest comparison, read-only mode (pushes and API writes
# refused, pulls served), a registry-API push into a private project, the
# configuration-as-code endpoints (registries, project metadata/quotas/proxy cache,
# robots, a simulated GC run, configurations; 400 on bad bodies), data
# surviving `up -d --force-recreate`, the admin password applying at first start
# only, prepare's validation messages, migrate, and an external database (prepare's
# output; v2.15.2's core migrates it, v2.15.3's migrates it to 153 and reports
# itself unhealthy, then v2.15.2's core refuses the newer schema). Cleans up after
# itself.
#
# usage: tests/standin/selftest.sh            (builds or reuses the bundle)
#        HARBOR_STANDIN_DIR=... tests/standin/selftest.sh
# Ends with "N passed, M failed"; exit code 0 only when nothing failed.
#
# Traffic stays on loopback: hostname is "localhost" (Harbor's prepare refuses
# only 127.0.0.1), which dockerd also treats as an insecure registry, so the
# real docker client can log in, push and pull without touching daemon.json.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here="$top/tests/standin"
release=${STANDIN_SELFTEST_RELEASE:-v2.15.2}
t0=$(date +%s)
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
step() { echo; echo "=== $* ($(( $(date +%s) - t0 ))s)"; }
count() { # count the ok:/FAIL: lines of a helper's output
  local out=$1
  echo "$out"
  pass=$((pass + $(grep -c '^ok:' <<<"$out" || true)))
  fail=$((fail + $(grep -c '^FAIL:' <<<"$out" || true)))
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [ -z "${HARBOR_STANDIN_DIR:-}" ]; then
  HARBOR_STANDIN_DIR=$("$top/tests/artefacts/standin.sh" | sed -n 's/^HARBOR_STANDIN_DIR=//p')
fi
bundle="$HARBOR_STANDIN_DIR/harbor-offline-installer-$release.tgz"
[ -s "$bundle" ] || { echo "no bundle $bundle" >&2; exit 1; }

tmp=$(mktemp -d /tmp/standin-selftest.XXXXXX)
export DOCKER_CONFIG="$tmp/docker-config"   # keep docker login away from ~/.docker
mkdir -p "$DOCKER_CONFIG"
if ! docker compose version >/dev/null 2>&1; then
  # no Compose plugin on this machine: the docker bundle's (COMPOSE_BINARY, from `make lab`), private to the test
  compose_bin=${COMPOSE_BINARY:-$(sed -n 's/^COMPOSE_BINARY=//p' "$top/.cache/lab.env" 2>/dev/null | tail -n 1)}
  [ -x "$compose_bin" ] || { echo "no docker compose plugin and no COMPOSE_BINARY (make lab)" >&2; rm -rf "$tmp"; exit 1; }
  mkdir -p "$DOCKER_CONFIG/cli-plugins" && ln -s "$compose_bin" "$DOCKER_CONFIG/cli-plugins/docker-compose"
fi
preloaded=$(docker images -q "goharbor/harbor-core:$release")
preloaded_old=$(docker images -q "goharbor/harbor-core:v2.14.4")
preloaded_bad=$(docker images -q "goharbor/harbor-core:v2.15.3")
extnet=standin-selftest-net
cleanup() {
  echo
  echo "=== cleanup"
  docker rm -f standin-selftest-extdb standin-selftest-core >/dev/null 2>&1
  docker network rm "$extnet" >/dev/null 2>&1
  for d in "$tmp/v2.14.4/harbor" "$tmp/harbor"; do
    if [ -f "$d/docker-compose.yml" ]; then
      (cd "$d" && docker compose down -v --remove-orphans >/dev/null 2>&1)
    fi
  done
  docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^localhost:${https_port:-x}/|^standin-selftest:" \
    | xargs -r docker rmi -f >/dev/null 2>&1
  if [ -z "$preloaded" ]; then
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^goharbor/.*:$release\$" | xargs -r docker rmi >/dev/null 2>&1
  fi
  if [ -z "$preloaded_old" ]; then
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^goharbor/.*:v2.14.4\$" | xargs -r docker rmi >/dev/null 2>&1
  fi
  if [ -z "$preloaded_bad" ]; then
    docker images --format '{{.Repository}}:{{.Tag}}' | grep -E "^goharbor/.*:v2.15.3\$" | xargs -r docker rmi >/dev/null 2>&1
  fi
  if command -v ctr >/dev/null; then
    ctr -a /var/run/docker/containerd/containerd.sock namespaces rm standin-selftest >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step "unpack $bundle"
(cd "$HARBOR_STANDIN_DIR" && sha256sum -c --quiet "harbor-offline-installer-$release.tgz.sha256" \
  && grep " harbor-offline-installer-$release.tgz\$" md5sum | md5sum -c --quiet) \
  && ok "sha256 and md5sum files match the bundle" || bad "checksum files"
tar -C "$tmp" -xzf "$bundle"
listing=$(cd "$tmp/harbor" && ls | sort | tr '\n' ' ')
[ "$listing" = "LICENSE common.sh harbor.$release.tar.gz harbor.yml.tmpl install.sh prepare " ] \
  && ok "bundle holds: $listing" || bad "bundle layout: $listing"
cmp -s "$tmp/harbor/harbor.yml.tmpl" "$top/../shared/reference/harbor/$release/harbor.yml.tmpl" \
  || [ ! -d "$top/../shared/reference/harbor" ] && ok "harbor.yml.tmpl is the release's own" || bad "harbor.yml.tmpl differs"
"$tmp/harbor/install.sh" --with-notary >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok "install.sh --with-notary exits 1" || bad "install.sh --with-notary exit $rc"
"$tmp/harbor/install.sh" --help | grep -q -- --with-trivy && ok "install.sh --help" || bad "install.sh --help"

step "harbor.yml: hostname localhost, http and https on free ports, data in $tmp"
http_port=$(free_port)
https_port=$(free_port)
mkdir -p "$tmp/certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
  -keyout "$tmp/certs/harbor.key" -out "$tmp/certs/harbor.crt" >/dev/null 2>&1 || { bad "openssl"; exit 1; }
write_yml() { # $1 admin password, $2 install dir (default $tmp/harbor)
  python3 - "$tmp" "$http_port" "$https_port" "$1" "${2:-$tmp/harbor}" <<'EOF'
import re, sys
tmp, http_port, https_port, pw, dest = sys.argv[1:]
s = open(f"{dest}/harbor.yml.tmpl").read()
s = s.replace("hostname: reg.mydomain.com", "hostname: localhost")
s = s.replace("  port: 80\n", f"  port: {http_port}\n", 1)
s = s.replace("  port: 443\n", f"  port: {https_port}\n", 1)
s = s.replace("/your/certificate/path", f"{tmp}/certs/harbor.crt", 1)
s = s.replace("/your/private/key/path", f"{tmp}/certs/harbor.key", 1)
s = s.replace("harbor_admin_password: Harbor12345", f"harbor_admin_password: {pw}")
s = s.replace("data_volume: /data", f"data_volume: {tmp}/data")
s = s.replace("location: /var/log/harbor", f"location: {tmp}/log")
open(f"{dest}/harbor.yml", "w").write(s)
EOF
}
base="https://localhost:$https_port"
api() { python3 "$here/selftest_api.py" "$base" "$tmp/certs/harbor.crt" "$@"; }
reg="localhost:$https_port"
psql=/usr/lib/postgresql/15/bin/psql
dbq() { docker exec harbor-db "$psql" -h /tmp -U postgres -d registry -tAc "$1" 2>&1; }

if [ "${STANDIN_SELFTEST_UPGRADE:-1}" = 1 ] && [ "$release" = v2.15.2 ]; then
  step "upgrade path: install v2.14.4 first, push, stop"
  old="$HARBOR_STANDIN_DIR/harbor-offline-installer-v2.14.4.tgz"
  mkdir -p "$tmp/v2.14.4" && tar -C "$tmp/v2.14.4" -xzf "$old"
  write_yml 'Selftest-Pw1' "$tmp/v2.14.4/harbor"
  if (cd "$tmp/v2.14.4/harbor" && ./install.sh) >"$tmp/install-old.log" 2>&1; then ok "v2.14.4 install.sh"
  else bad "v2.14.4 install.sh"; tail -n 20 "$tmp/install-old.log"; fi
  grep -q 'goharbor/redis-photon:v2.14.4' "$tmp/v2.14.4/harbor/docker-compose.yml" && ok "v2.14.4 runs redis-photon" \
    || bad "v2.14.4 redis image"
  count "$(api wait-healthy 240)"
  v=$(dbq "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")
  [ "$v" = 140 ] && ok "v2.14.4: schema_migrations holds 140" || bad "v2.14.4 schema_migrations: $v"
  count "$(api seed 'Selftest-Pw1')"
  mkdir -p "$tmp/img0" && head -c 4096 /dev/urandom >"$tmp/img0/payload"
  tar -C "$tmp/img0" -c . | docker import - standin-selftest:old >/dev/null
  docker tag standin-selftest:old "$reg/library/old:1"
  echo 'Selftest-Pw1' | docker login -u admin --password-stdin "$reg" >/dev/null 2>&1
  old_digest=$(docker push "$reg/library/old:1" 2>&1 | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p')
  [ -n "$old_digest" ] && ok "pushed $reg/library/old:1 to v2.14.4" || bad "push to v2.14.4"
  docker logout "$reg" >/dev/null 2>&1
  (cd "$tmp/v2.14.4/harbor" && docker compose down) >/dev/null 2>&1 && ok "v2.14.4 compose down" || bad "v2.14.4 down"
fi
write_yml 'Selftest-Pw1'

step "./install.sh"
i0=$(date +%s)
if (cd "$tmp/harbor" && ./install.sh) >"$tmp/install.log" 2>&1; then
  ok "install.sh ($(( $(date +%s) - i0 ))s)"
else
  bad "install.sh failed"; tail -n 30 "$tmp/install.log"; exit 1
fi
grep -q 'loading Harbor images' "$tmp/install.log" && ok "install.sh loaded harbor.$release.tar.gz" || bad "no image load"
compose="$tmp/harbor/docker-compose.yml"
for pair in log:harbor-log registry:registry registryctl:registryctl postgresql:harbor-db core:harbor-core \
            portal:harbor-portal jobservice:harbor-jobservice redis:redis proxy:nginx; do
  svc=${pair%%:*}; name=${pair#*:}
  python3 - "$compose" "$svc" "$name" <<'EOF' && ok "compose service $svc -> container $name" || bad "compose service $svc"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
s = c["services"][sys.argv[2]]
assert s["container_name"] == sys.argv[3] and s["restart"] == "always" and s["image"].startswith("goharbor/")
EOF
done

step "health"
h0=$(date +%s)
count "$(api wait-healthy 240)"
echo "healthy $(( $(date +%s) - h0 ))s after install.sh returned"
for _ in $(seq 1 45); do
  bad_health=$(docker ps --filter label=com.docker.compose.project=harbor --format '{{.Names}} {{.Status}}' | grep -v '(healthy)' || true)
  [ -z "$bad_health" ] && break
  sleep 2
done
[ -z "$bad_health" ] && ok "every container's own healthcheck is healthy ($(( $(date +%s) - h0 ))s)" \
  || bad "container health: $bad_health"
ls "$tmp/log"/core.log "$tmp/log"/registry.log >/dev/null 2>&1 && ok "syslog -> harbor-log -> log.local.location" \
  || bad "no logs in $tmp/log"
code=$(python3 -c "
import urllib.request, sys
class N(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
try: urllib.request.build_opener(N).open('http://localhost:$http_port/api/v2.0/ping')
except urllib.error.HTTPError as e: print(e.code, e.headers.get('Location'))")
[ "$code" = "308 https://localhost:$https_port/api/v2.0/ping" ] && ok "http redirects to https ($code)" || bad "http redirect: $code"

if [ -n "${old_digest:-}" ]; then
  docker run --rm -v /:/hostfs "goharbor/prepare:$release" migrate -i "$tmp/v2.14.4/harbor/harbor.yml" \
    -o "$tmp/migrated.yml" >"$tmp/migrate-old.log" 2>&1 && grep -q '^_version: 2.15.0' "$tmp/migrated.yml" \
    && ok "migrate v2.14.4's harbor.yml: _version 2.15.0" || bad "migrate old harbor.yml"
  docker rmi "$reg/library/old:1" standin-selftest:old >/dev/null 2>&1
  docker pull -q "$reg/library/old:1" >/dev/null 2>&1 \
    && [[ "$(docker inspect --format '{{range .RepoDigests}}{{.}} {{end}}' "$reg/library/old:1")" == *"@$old_digest"* ]] \
    && ok "the image pushed to v2.14.4 is served by $release (same digest)" || bad "old image after upgrade"
  api password-is 'Selftest-Pw1' && ok "admin password from v2.14.4's first start still valid" \
    || bad "admin password after upgrade"
  v=$(dbq "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")
  [ "$v" = 140,150 ] && ok "upgrade migrated the schema: schema_migrations holds $v" || bad "schema_migrations: $v"
  grep -q 'migrated the database schema to 150' "$tmp/log/core.log" && ok "core.log: migrated the database schema to 150" \
    || bad "no migration line in core.log"
  count "$(api seeded 'Selftest-Pw1')"
fi

step "API and token contract"
count "$(api contract 'Selftest-Pw1')"

step "docker login / push / pull (real client, token auth)"
mkdir -p "$tmp/img" && head -c 4096 /dev/urandom >"$tmp/img/payload" && echo selftest >"$tmp/img/hello.txt"
tar -C "$tmp/img" -c . | docker import -c 'CMD ["/hello.txt"]' - standin-selftest:1 >/dev/null
echo 'wrong' | docker login -u admin --password-stdin "$reg" >/dev/null 2>&1 \
  && bad "docker login with a wrong password succeeded" || ok "docker login with a wrong password is refused"
echo 'Selftest-Pw1' | docker login -u admin --password-stdin "$reg" >/dev/null 2>&1 \
  && ok "docker login $reg" || bad "docker login $reg"
docker tag standin-selftest:1 "$reg/library/selftest:1"
pushed=$(docker push "$reg/library/selftest:1" 2>&1 | sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p')
[ -n "$pushed" ] && ok "docker push $reg/library/selftest:1 ($pushed)" || bad "docker push"
docker rmi "$reg/library/selftest:1" standin-selftest:1 >/dev/null 2>&1
docker logout "$reg" >/dev/null 2>&1
if docker pull -q "$reg/library/selftest:1" >/dev/null 2>&1; then
  pulled=$(docker inspect --format '{{range .RepoDigests}}{{.}} {{end}}' "$reg/library/selftest:1")
  [[ "$pulled" == *"@$pushed"* ]] && ok "anonymous docker pull from public library, same digest" \
    || bad "digest differs: pushed $pushed pulled $pulled"
else
  bad "anonymous docker pull"
fi
docker tag "$reg/library/selftest:1" "$reg/library/anon:1"
docker push "$reg/library/anon:1" >/dev/null 2>&1 && bad "anonymous push succeeded" || ok "anonymous push is denied"

sock=/var/run/docker/containerd/containerd.sock
[ -S "$sock" ] || sock=/run/containerd/containerd.sock
if command -v ctr >/dev/null && [ -S "$sock" ]; then
  step "containerd (ctr): OAuth2 POST token with credentials, GET anonymous"
  # ctr talks plain http to localhost unless a hosts.toml says https (as a node would have)
  mkdir -p "$tmp/certs.d/$reg"
  printf 'server = "https://%s"\n\n[host."https://%s"]\n  capabilities = ["pull", "resolve", "push"]\n  ca = "%s"\n' \
    "$reg" "$reg" "$tmp/certs/harbor.crt" >"$tmp/certs.d/$reg/hosts.toml"
  C=(ctr -a "$sock" -n standin-selftest)
  "${C[@]}" images pull --hosts-dir "$tmp/certs.d" --user admin:Selftest-Pw1 "$reg/library/selftest:1" \
    >/dev/null 2>&1 && ok "ctr pull with credentials" || bad "ctr pull with credentials"
  "${C[@]}" images rm "$reg/library/selftest:1" >/dev/null 2>&1
  "${C[@]}" images pull --hosts-dir "$tmp/certs.d" "$reg/library/selftest:1" >/dev/null 2>&1 \
    && ok "ctr pull anonymous (public library)" || bad "ctr pull anonymous"
  "${C[@]}" images rm "$reg/library/selftest:1" >/dev/null 2>&1
  "${C[@]}" images pull --hosts-dir "$tmp/certs.d" --user admin:wrong "$reg/library/selftest:1" >/dev/null 2>&1 \
    && bad "ctr pull with a wrong password succeeded" || ok "ctr pull with a wrong password is refused"
  "${C[@]}" images rm "$reg/library/selftest:1" >/dev/null 2>&1
  "${C[@]}" namespaces rm standin-selftest >/dev/null 2>&1
  grep -q '"POST /service/token' "$tmp/log/core.log" && ok "containerd asked with POST (OAuth2 password grant)" \
    || bad "no POST /service/token in core.log"
fi

step "read-only mode: pushes and API writes refused (403 DENIED), pulls served"
count "$(api read-only 'Selftest-Pw1' on)"
echo 'Selftest-Pw1' | docker login -u admin --password-stdin "$reg" >/dev/null 2>&1
docker tag "$reg/library/selftest:1" "$reg/library/ro:1"
out=$(docker push "$reg/library/ro:1" 2>&1) && bad "docker push in read-only mode succeeded" || {
  grep -qF 'denied: The system is in read only mode. Any modification is prohibited.' <<<"$out" \
    && ok "docker push refused: $(grep -F denied: <<<"$out" | tail -n 1)" || bad "docker push in read-only mode: $out"; }
docker rmi "$reg/library/selftest:1" >/dev/null 2>&1
docker pull -q "$reg/library/selftest:1" >/dev/null 2>&1 && ok "docker pull in read-only mode" \
  || bad "docker pull in read-only mode"
count "$(api read-only 'Selftest-Pw1' off)"
docker push "$reg/library/ro:1" >/dev/null 2>&1 && ok "docker push again once read_only is off" \
  || bad "docker push after read_only off"
docker logout "$reg" >/dev/null 2>&1
grep -q 'refused in read-only mode' "$tmp/log/core.log" && ok "core.log names the refused writes" \
  || bad "no read-only line in core.log"

step "registry API push into a private project, pull back"
count "$(api registry-flow 'Selftest-Pw1' selftest-private/flow)"
count "$(api registry-flow 'Selftest-Pw1' library/flow)"

step "configuration as code API: registries, projects (metadata, quotas, proxy cache), robots, GC, configurations"
count "$(api config-as-code 'Selftest-Pw1')"

step "data survives docker compose up -d --force-recreate"
r0=$(date +%s)
(cd "$tmp/harbor" && docker compose up -d --force-recreate) >"$tmp/recreate.log" 2>&1 \
  && ok "compose up -d --force-recreate ($(( $(date +%s) - r0 ))s)" || bad "force-recreate"
count "$(api wait-healthy 240)"
docker rmi "$reg/library/selftest:1" "$reg/library/anon:1" "$reg/library/ro:1" >/dev/null 2>&1
docker pull -q "$reg/library/selftest:1" >/dev/null 2>&1 && ok "image still pullable after recreate" \
  || bad "pull after recreate"
api password-is 'Selftest-Pw1' && ok "admin password kept" || bad "admin password lost"

step "harbor_admin_password applies at first start only: change it, ./install.sh again"
write_yml 'Changed-Pw2'
r0=$(date +%s)
(cd "$tmp/harbor" && ./install.sh) >"$tmp/install2.log" 2>&1 && ok "second install.sh ($(( $(date +%s) - r0 ))s)" \
  || bad "second install.sh"
count "$(api wait-healthy 240)"
api password-is 'Selftest-Pw1' && ok "old admin password still valid" || bad "old admin password refused"
api password-is 'Changed-Pw2' && bad "new harbor_admin_password took effect" || ok "new harbor_admin_password ignored"
[ -s "$tmp/data/secret/keys/secretkey" ] && ok "secret/keys/secretkey kept" || bad "secretkey missing"

step "docker compose down -v"
(cd "$tmp/harbor" && docker compose down -v) >/dev/null 2>&1 && ok "compose down -v" || bad "compose down -v"

step "prepare refuses bad harbor.yml with Harbor's messages"
cp "$tmp/harbor/harbor.yml" "$tmp/good.yml"
bad_case() { # $1 python edit of s, $2 expected message
  python3 - "$tmp" "$1" <<'EOF'
import sys
tmp, edit = sys.argv[1:]
s = open(f"{tmp}/good.yml").read()
exec(edit)
open(f"{tmp}/harbor/harbor.yml", "w").write(s)
EOF
  out=$(cd "$tmp/harbor" && ./prepare 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -qF -- "$2" <<<"$out"; then ok "prepare rc=$rc: $2"; else bad "prepare rc=$rc, wanted '$2': $(tail -n 3 <<<"$out")"; fi
}
bad_case 's = s.replace("hostname: localhost", "hostname: 127.0.0.1")' "127.0.0.1 can not be the hostname"
bad_case 's = s.replace("hostname: localhost", "hostname: reg.mydomain.com")' "Please specify hostname"
bad_case "import re; s = re.sub(r'certificate: .*', 'certificate: /your/certificate/path', s)" \
  "Error: The protocol is https but attribute ssl_cert is not set"
bad_case "import re; s = re.sub(r'  private_key: .*\n', '', s)" "private_key"
bad_case 's = s.replace("  level: info", "  level: verbose")' "log level must be one of debug, info, warning, error, fatal"
bad_case 's = s.replace("  age: 168h", "  age: 1h")' "purge upload age should set with with nh"
bad_case 's = s.replace("  interval: 24h", "  interval: 24m")' "purge upload interval should set with with nh"
bad_case 's = s.replace("# trace:\n#   enabled: true", "trace:\n  enabled: true\n  jaeger:\n    endpoint: http://j:14268/api/traces\n  otel:\n    endpoint: o:4318\n    url_path: /v1/traces\n#")' \
  "Only can have one trace exporter at a time"
bad_case 's = s.replace("  enabled: false\n  # keep cache for one day by default\n  expire_hours: 24", "  enabled: true\n  expire_hours: 0")' \
  "cache expire hours should be a positive integer"
bad_case 's = s.replace("  # external_endpoint:\n  #   # protocol used to transmit log to external endpoint, options is tcp or udp\n  #   protocol: tcp", "  external_endpoint:\n    protocol: http\n    host: h\n    port: 5140\n  #")' \
  "Protocol in external log endpoint must be one of 'udp' or 'tcp'"
cp "$tmp/good.yml" "$tmp/harbor/harbor.yml"
(cd "$tmp/harbor" && ./prepare >/dev/null 2>&1) && ok "prepare with the good harbor.yml again" || bad "prepare good"
owner() { stat -c '%u' "$1"; }
[ "$(owner "$tmp/data/registry")" = 10000 ] && [ "$(owner "$tmp/data/database")" = 999 ] \
  && [ "$(stat -c '%a' "$tmp/data/database")" = 700 ] && [ "$(owner "$tmp/data/redis")" = 999 ] \
  && [ "$(owner "$tmp/data/secret/core/private_key.pem")" = 10000 ] \
  && ok "data_volume ownership: registry 10000, database 999/0700, redis 999, secret 10000" || bad "ownership"

step "trivy: prepare --with-trivy (env file, mounts), the adapter's /api/v1/metadata from the DB's metadata.json"
python3 - "$tmp/good.yml" "$tmp/harbor/harbor.yml" <<'EOF2'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
cfg["trivy"] = dict(cfg.get("trivy") or {}, skip_update=True, skip_java_db_update=True, offline_scan=True)
open(sys.argv[2], "w").write(yaml.safe_dump(cfg, sort_keys=False))
EOF2
if (cd "$tmp/harbor" && ./prepare --with-trivy >"$tmp/prepare-trivy.log" 2>&1); then
  tenv="$tmp/harbor/common/config/trivy-adapter/env"
  grep -qx SCANNER_TRIVY_SKIP_UPDATE=true "$tenv" && grep -qx SCANNER_TRIVY_SKIP_JAVA_DB_UPDATE=true "$tenv" \
    && grep -qx SCANNER_TRIVY_OFFLINE_SCAN=true "$tenv" && ok "trivy env file: skip_update, skip_java_db_update, offline_scan true" \
    || bad "trivy env file: $(grep SCANNER_TRIVY_ "$tenv" | tr '\n' ' ')"
  python3 - "$tmp/harbor/docker-compose.yml" "$tmp/data" <<'EOF2' && ok "trivy-adapter mounts data_volume/trivy-adapter/{trivy,reports} and reads its env file" || bad "trivy-adapter compose entry"
import sys, yaml
svc = yaml.safe_load(open(sys.argv[1]))["services"]["trivy-adapter"]
vols = [v if isinstance(v, str) else f"{v['source']}:{v['target']}" for v in svc["volumes"]]
want = [f"{sys.argv[2]}/trivy-adapter/trivy:/home/scanner/.cache/trivy", f"{sys.argv[2]}/trivy-adapter/reports:/home/scanner/.cache/reports"]
assert all(any(v.startswith(w) for v in vols) for w in want), vols
assert svc["env_file"] == ["./common/config/trivy-adapter/env"], svc["env_file"]
EOF2
  [ "$(stat -c '%u:%g %a' "$tmp/data/trivy-adapter/trivy")" = "10000:10000 755" ] && ok "data_volume/trivy-adapter/trivy 10000:10000 0755" \
    || bad "trivy cache dir $(stat -c '%u:%g %a' "$tmp/data/trivy-adapter/trivy")"
else
  bad "prepare --with-trivy"; tail -n 5 "$tmp/prepare-trivy.log"
fi
tcache="$tmp/trivy-cache"
mkdir -p "$tcache/db"
echo '{"Version":2,"NextUpdate":"2026-01-02T06:00:00.25Z","UpdatedAt":"2026-01-02T00:00:00.123456789Z","DownloadedAt":"0001-01-01T00:00:00Z"}' >"$tcache/db/metadata.json"
chown -R 10000:10000 "$tcache"
tmeta() { docker exec standin-selftest-trivy python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:8080/api/v1/metadata").read().decode())'; }
tprop() { python3 -c 'import json, sys; print(json.load(sys.stdin)["properties"].get(sys.argv[1], "absent"))' "$1"; }
for skip in true false; do
  docker rm -f standin-selftest-trivy >/dev/null 2>&1
  docker run -d --name standin-selftest-trivy --env-file "$tmp/harbor/common/config/trivy-adapter/env" -e "SCANNER_TRIVY_SKIP_UPDATE=$skip" \
    -v "$tcache:/home/scanner/.cache/trivy" "goharbor/trivy-adapter-photon:$release" >/dev/null
  for _ in $(seq 50); do m=$(tmeta 2>/dev/null) && break; sleep 0.2; done
  up=$(tprop harbor.scanner-adapter/vulnerability-database-updated-at <<<"$m")
  next=$(tprop harbor.scanner-adapter/vulnerability-database-next-update-at <<<"$m")
  sk=$(tprop env.SCANNER_TRIVY_SKIP_UPDATE <<<"$m"); off=$(tprop env.SCANNER_TRIVY_OFFLINE_SCAN <<<"$m")
  want_next=$([ $skip = true ] && echo absent || echo 2026-01-02T06:00:00Z)
  [ "$up" = 2026-01-02T00:00:00Z ] && [ "$next" = "$want_next" ] && [ "$sk" = $skip ] && [ "$off" = true ] \
    && ok "adapter metadata (skip_update=$skip): updated-at $up, next-update-at $next, offline_scan $off" \
    || bad "adapter metadata (skip_update=$skip): $m"
done
chown 0:0 "$tcache/db/metadata.json"; chmod 600 "$tcache/db/metadata.json"
m=$(tmeta)
[ "$(tprop harbor.scanner-adapter/vulnerability-database-updated-at <<<"$m")" = absent ] \
  && ok "a metadata.json uid 10000 cannot read: no updated-at (as the real adapter without a DB)" || bad "unreadable metadata.json: $m"
docker rm -f standin-selftest-trivy >/dev/null 2>&1
cp "$tmp/good.yml" "$tmp/harbor/harbor.yml"
(cd "$tmp/harbor" && ./prepare >/dev/null 2>&1) && ok "prepare without trivy again" || bad "prepare good (after trivy)"

step "migrate (docker run -v /:/hostfs goharbor/prepare:$release migrate -i ...)"
sed 's/^_version: .*/_version: 2.14.0/' "$tmp/good.yml" >"$tmp/old.yml"
docker run --rm -v /:/hostfs "goharbor/prepare:$release" migrate -i "$tmp/old.yml" >"$tmp/migrate.log" 2>&1 \
  && grep -q '^_version: 2.15.0' "$tmp/old.yml" && grep -q "^hostname: localhost" "$tmp/old.yml" \
  && ok "migrate rewrote _version to 2.15.0, kept the rest" || { bad "migrate"; cat "$tmp/migrate.log"; }

if [ "$release" = v2.15.2 ]; then
  step "external database: prepare's output; v2.15.2 migrates it, v2.15.3 breaks after migrating, v2.15.2 refuses"
  bad_bundle="$HARBOR_STANDIN_DIR/harbor-offline-installer-v2.15.3.tgz"
  (cd "$HARBOR_STANDIN_DIR" && sha256sum -c --quiet harbor-offline-installer-v2.15.3.tgz.sha256 \
    && grep ' harbor-offline-installer-v2.15.3.tgz$' md5sum | md5sum -c --quiet) \
    && ok "v2.15.3 (test data): sha256 and md5sum files list it" || bad "v2.15.3 checksums"
  tar -xzOf "$bad_bundle" harbor/harbor.v2.15.3.tar.gz | docker load -q >/dev/null \
    && ok "v2.15.3 images loaded" || bad "docker load v2.15.3"
  docker network create "$extnet" >/dev/null
  docker run -d --name standin-selftest-extdb --network "$extnet" -e POSTGRES_PASSWORD=Ext-Root1 \
    "goharbor/harbor-db:$release" >/dev/null
  for _ in $(seq 1 30); do
    docker exec standin-selftest-extdb /opt/standin/bin/db.sh healthcheck 2>/dev/null && break
    sleep 1
  done
  extq() { docker exec standin-selftest-extdb "$psql" -h /tmp -U postgres -d "${2:-harbor_ext}" -tAc "$1" 2>&1; }
  out=$(extq "CREATE ROLE harbor LOGIN PASSWORD 'Ext-Db-Pw1'" postgres; extq "CREATE DATABASE harbor_ext OWNER harbor" postgres)
  [ "$out" = "$(printf 'CREATE ROLE\nCREATE DATABASE')" ] && ok "external server up: role harbor, database harbor_ext" \
    || bad "external server: $out"
  python3 - "$tmp/good.yml" "$tmp/harbor/harbor.yml" <<'EOF2'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
del c["database"]
c["external_database"] = {"harbor": {"host": "standin-selftest-extdb", "port": 5432, "db_name": "harbor_ext",
                                     "username": "harbor", "password": "Ext-Db-Pw1", "ssl_mode": "disable",
                                     "max_idle_conns": 2, "max_open_conns": 0}}
yaml.safe_dump(c, open(sys.argv[2], "w"), sort_keys=False)
EOF2
  if (cd "$tmp/harbor" && ./prepare >"$tmp/prepare-ext.log" 2>&1); then ok "prepare with external_database.harbor"
  else bad "prepare with external_database: $(tail -n 3 "$tmp/prepare-ext.log")"; fi
  python3 - "$compose" <<'EOF2' && ok "docker-compose.yml: no postgresql service, core does not depend on it" \
    || bad "docker-compose.yml with an external database"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
assert "postgresql" not in c["services"] and "postgresql" not in c["services"]["core"]["depends_on"]
assert not any(s["image"].startswith("goharbor/harbor-db:") for s in c["services"].values())
EOF2
  env_core="$tmp/harbor/common/config/core/env"
  grep -qx 'POSTGRESQL_HOST=standin-selftest-extdb' "$env_core" && grep -qx 'POSTGRESQL_DATABASE=harbor_ext' "$env_core" \
    && grep -qx 'POSTGRESQL_USERNAME=harbor' "$env_core" && grep -qx 'POSTGRESQL_SSLMODE=disable' "$env_core" \
    && [ ! -e "$tmp/harbor/common/config/db/env" ] \
    && ok "core env names the external database (host, db_name, username, ssl_mode); no db/env" \
    || bad "core env: $(grep ^POSTGRESQL "$env_core" | tr '\n' ' ')"
  # core alone (the rest of Harbor is not needed to see it migrate), as compose would run it
  run_core() { # $1 release; runs detached as standin-selftest-core
    docker rm -f standin-selftest-core >/dev/null 2>&1
    docker run -d --name standin-selftest-core --network "$extnet" --env-file "$env_core" \
      -v "$tmp/data/secret/core/private_key.pem:/etc/core/private_key.pem:ro" "goharbor/harbor-core:$1" >/dev/null
  }
  core_log_has() { # $1 text; waits up to 30 s for it in core's log
    for _ in $(seq 1 60); do
      docker logs standin-selftest-core 2>&1 | grep -qF -- "$1" && return 0
      sleep 0.5
    done
    return 1
  }
  core_health() { # $1 wanted status of the core component; prints "status error" (waits up to 30 s for it)
    docker exec standin-selftest-core python3 -c '
import json, sys, time, urllib.request
for _ in range(30):
    h = json.load(urllib.request.urlopen("http://127.0.0.1:8080/api/v2.0/health"))
    c = {x["name"]: x for x in h["components"]}
    if c["database"]["status"] == "healthy" and c["core"]["status"] == sys.argv[1]:
        break
    time.sleep(1)
err = c["core"].get("error")
print(c["core"]["status"] + (f" ({err})" if err else "") + ", database " + c["database"]["status"])' "$1"
  }
  run_core "$release"
  core_log_has "database ready" && ok "v2.15.2 core started on the external database" \
    || bad "v2.15.2 core on the external database: $(docker logs standin-selftest-core 2>&1 | tail -n 3)"
  v=$(extq "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")
  [ "$v" = 140,150 ] && ok "external database migrated: schema_migrations $v" || bad "external schema_migrations: $v"
  [ "$(extq "SELECT count(*) FROM harbor_user WHERE username='admin' AND password <> ''")" = 1 ] \
    && ok "admin seeded in the external database" || bad "no admin in the external database"
  h=$(core_health healthy); [ "$h" = "healthy, database healthy" ] && ok "v2.15.2 core's health: core $h" \
    || bad "v2.15.2 health: $h"
  run_core v2.15.3
  core_log_has "database ready (schema version 153)" && ok "v2.15.3 core migrated and started" \
    || bad "v2.15.3 core: $(docker logs standin-selftest-core 2>&1 | tail -n 3)"
  v=$(extq "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")
  [ "$v" = 140,150,153 ] && ok "v2.15.3 committed schema 153 ($v)" || bad "v2.15.3 schema_migrations: $v"
  h=$(core_health unhealthy); [[ "$h" == "unhealthy"*"breaks after migrating"*"database healthy" ]] && ok "v2.15.3 core reports: core $h" \
    || bad "v2.15.3 health: $h"
  docker rm -f standin-selftest-core >/dev/null 2>&1
  out=$(timeout 60 docker run --rm --name standin-selftest-core --network "$extnet" --env-file "$env_core" \
    -v "$tmp/data/secret/core/private_key.pem:/etc/core/private_key.pem:ro" "goharbor/harbor-core:$release" 2>&1); rc=$?
  want='the database schema version 153 is newer than this release supports (150): refusing to start'
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF "$want" <<<"$out" && ok "v2.15.2 core on schema 153 exits $rc: $want" \
    || bad "v2.15.2 core on schema 153: rc=$rc $(tail -n 2 <<<"$out")"
  [ "$(extq "SELECT max(version) FROM schema_migrations")" = 153 ] && ok "the refusing core changed nothing" \
    || bad "schema changed by the refusing core"
  docker rm -f standin-selftest-extdb >/dev/null 2>&1
  docker network rm "$extnet" >/dev/null 2>&1
  cp "$tmp/good.yml" "$tmp/harbor/harbor.yml"
fi

echo
echo "selftest wall time $(( $(date +%s) - t0 ))s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
