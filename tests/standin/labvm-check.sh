#!/usr/bin/env bash
# Optional check that the stand-in bundle runs where the roles will run it: inside a
# lab "VM" (the Debian 12 systemd container of tests/lab/build-image.sh) with Debian's
# Docker 20.10 and the Compose v2 plugin, Harbor on ports 80/443 with the VM's own
# address as hostname and a self-signed certificate, then docker login/push/pull
# trusted through /etc/docker/certs.d. Not part of selftest.sh (needs apt inside the VM).
#
# usage: tests/standin/labvm-check.sh [v2.15.2|v2.14.4]
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
release=${1:-v2.15.2}
name=standin-labvm-$$
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
vm() { docker exec "$name" bash -c "$1"; }

HARBOR_STANDIN_DIR=${HARBOR_STANDIN_DIR:-$("$top/tests/artefacts/standin.sh" | sed -n 's/^HARBOR_STANDIN_DIR=//p')}
image=$("$top/tests/lab/build-image.sh" bookworm)
plugin=/usr/local/lib/docker/cli-plugins/docker-compose
[ -x "$plugin" ] || { echo "needs the Compose v2 plugin at $plugin" >&2; exit 1; }
trap 'docker rm -f -v "$name" >/dev/null 2>&1' EXIT

caps=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
  NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
  SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
  SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)
docker run -d --name "$name" --hostname harbor-vm --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
  -v /var/lib/docker --tmpfs /run --tmpfs /tmp "${caps[@]/#/--cap-add=}" \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined "$image" /lib/systemd/systemd >/dev/null
sleep 3
vm 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io openssl >/dev/null 2>&1
    for i in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done; mkdir -p /usr/local/lib/docker/cli-plugins' \
  && ok "docker.io in the VM: $(vm 'docker version --format {{.Server.Version}}')" || { bad "docker in the VM"; exit 1; }
docker cp "$plugin" "$name:$plugin"
docker cp "$HARBOR_STANDIN_DIR/harbor-offline-installer-$release.tgz" "$name:/opt/bundle.tgz"
ip=$(vm "ip -4 -o addr show eth0 | awk '{print \$4}' | cut -d/ -f1")   # the VM's lab address
vm "cd /opt && tar xzf bundle.tgz && mkdir -p certs && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=$ip \
    -addext subjectAltName=IP:$ip -keyout certs/h.key -out certs/h.crt >/dev/null 2>&1 \
    && sed -e 's/^hostname: reg.mydomain.com/hostname: $ip/' -e 's#^  certificate: .*#  certificate: /opt/certs/h.crt#' \
           -e 's#^  private_key: .*#  private_key: /opt/certs/h.key#' harbor/harbor.yml.tmpl >harbor/harbor.yml"
t=$(date +%s)
vm 'cd /opt/harbor && ./install.sh --with-trivy' >/tmp/$name.install.log 2>&1 \
  && ok "install.sh --with-trivy in the VM ($(( $(date +%s) - t ))s)" || { bad "install.sh"; tail -n 20 /tmp/$name.install.log; }
rm -f /tmp/$name.install.log
for _ in $(seq 1 90); do
  h=$(vm "curl -s --cacert /opt/certs/h.crt https://$ip/api/v2.0/health" 2>/dev/null)
  [[ "$h" == '{"status": "healthy"'* ]] && break
  sleep 2
done
[[ "$h" == '{"status": "healthy"'* ]] && ok "healthy $(( $(date +%s) - t ))s after install.sh started: $h" || bad "health: $h"
vm "curl -si --cacert /opt/certs/h.crt https://$ip/v2/" | grep -qi "www-authenticate: Bearer realm=\"https://$ip/service/token\",service=\"harbor-registry\"" \
  && ok "GET /v2/ challenge names https://$ip/service/token" || bad "/v2/ challenge"
vm "mkdir -p /etc/docker/certs.d/$ip && cp /opt/certs/h.crt /etc/docker/certs.d/$ip/ca.crt
    echo Harbor12345 | docker login -u admin --password-stdin $ip >/dev/null 2>&1" && ok "docker login $ip (certs.d trust)" || bad "login"
vm "docker tag goharbor/harbor-log:$release $ip/library/t:1 && docker push $ip/library/t:1 >/dev/null 2>&1 \
    && docker rmi $ip/library/t:1 >/dev/null && docker logout $ip >/dev/null && docker pull $ip/library/t:1 >/dev/null 2>&1" \
  && ok "push, then anonymous pull of library/t:1" || bad "push/pull"
vm 'ls /var/log/harbor/core.log >/dev/null' && ok "logs in /var/log/harbor through harbor-log" || bad "no /var/log/harbor/core.log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
