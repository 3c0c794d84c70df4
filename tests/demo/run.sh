#!/usr/bin/env bash
# `make demo`: one lab VM on the local Docker engine with Harbor installed by
# playbooks/site.yml, then a real login + push + pull through it.
#   HARBOR_INSTALLER=/path/or/URL/harbor-offline-installer-vX.Y.Z.tgz make demo
# Without HARBOR_INSTALLER the test stand-in installer is used (and said so).
# `make demo-clean` (run.sh clean) removes the VM and its network.
set -euo pipefail
# one `docker exec` per module instead of several (what ansible.cfg's pipelining does over SSH)
export ANSIBLE_PIPELINING=true
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
vm=harbor-demo
net=harbor-demo-net
work=$top/.cache/demo
admin_password=${HARBOR_DEMO_PASSWORD:-Demo-Admin-Passw0rd}

if [ "${1:-}" = clean ]; then
  docker rm -f -v "$vm" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
  echo "demo: removed $vm and $net"
  exit 0
fi

set -a; . "$top/.cache/lab.env"; set +a
mkdir -p "$work"

installer=${HARBOR_INSTALLER:-}
if [ -z "$installer" ]; then
  installer=$HARBOR_STANDIN_DIR/harbor-offline-installer-v2.15.2.tgz
  echo "demo: HARBOR_INSTALLER not set: using the TEST STAND-IN installer $installer"
  echo "demo: (set HARBOR_INSTALLER to a real harbor-offline-installer-vX.Y.Z.tgz path or URL to install real Harbor)"
fi
version=$(basename "$installer" | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' | head -n1)
[ -n "$version" ] || { echo "demo: cannot read a version vX.Y.Z from $installer" >&2; exit 2; }
case "$installer" in
  http://*|https://*)
    source_vars="bundle_source: url
bundle_url: \"$installer\"
bundle_checksum_url: \"$(dirname "$installer")/md5sum\"" ;;
  *)
    installer=$(cd "$(dirname "$installer")" && pwd)/$(basename "$installer")
    [ -f "$installer" ] || { echo "demo: no file $installer" >&2; exit 2; }
    checksum=""
    if [ ! -f "$(dirname "$installer")/md5sum" ]; then
      checksum="sha256:$(sha256sum "$installer" | cut -d' ' -f1)"
      echo "demo: no md5sum file beside the installer: trusting the local file (checksum $checksum)"
    fi
    source_vars="bundle_source: controller
bundle_src: \"$installer\"
bundle_checksum: \"$checksum\"" ;;
esac

if ! docker inspect "$vm" >/dev/null 2>&1; then
  docker network inspect "$net" >/dev/null 2>&1 || docker network create "$net" >/dev/null
  caps=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
        NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT
        SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL
        SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ)
  args=(); for c in "${caps[@]}"; do args+=(--cap-add "$c"); done
  docker run -d --name "$vm" --hostname "$vm" --network "$net" "${args[@]}" --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/docker --tmpfs /run --tmpfs /tmp \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined "$LAB_IMAGE" /lib/systemd/systemd >/dev/null
  for _ in $(seq 1 30); do
    state=$(docker exec "$vm" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) break ;; esac; sleep 1
  done
  docker exec "$vm" mount -o remount,rw /proc/sys
  docker exec "$vm" apt-get update -qq
fi

cat > "$work/inventory.yml" <<INV
harbor:
  hosts:
    $vm:
      ansible_connection: community.docker.docker
  vars:
    install_hostname: $vm
    install_admin_password: "$admin_password"
    install_database_password: Demo-Db-Passw0rd
    certs_pki_dir: $work/harbor-pki
    bundle_version: $version
    bundle_flavor: offline
$(printf '%s\n' "$source_vars" | sed 's/^/    /')
    docker_source: distro
    docker_compose_src: "$COMPOSE_BINARY"
    docker_compose_checksum: "sha256:$COMPOSE_SHA256"
    host_prep_chrony_local_server: true
    # a lab VM is a container: what a real VM does not need
    host_prep_hosts_unsafe_writes: true
    host_prep_chrony_no_clock_control: true
    host_prep_limits_nofile: 16384
    host_prep_limits_service_nofile: 16384
    host_prep_limits_service_nproc: 4096
INV

start=$(date +%s)
ansible-playbook -i "$work/inventory.yml" harbor.deploy.site
echo "demo: site.yml took $(( $(date +%s) - start ))s"

image=127.0.0.1/library/demo
docker exec "$vm" sh -c "head -c 65536 /dev/urandom > /tmp/payload && tar -C /tmp -c payload | docker import - $image:1 >/dev/null"
printf '%s' "$admin_password" | docker exec -i "$vm" docker login -u admin --password-stdin 127.0.0.1
pushed=$(docker exec "$vm" docker push "$image:1" | grep -oE 'sha256:[0-9a-f]{64}' | tail -n1)
docker exec "$vm" docker image rm "$image:1" >/dev/null
pulled=$(docker exec "$vm" docker pull "$image:1" | grep -oE 'sha256:[0-9a-f]{64}' | tail -n1)
[ -n "$pushed" ] && [ "$pushed" = "$pulled" ] || { echo "demo: push/pull digests differ: $pushed vs $pulled" >&2; exit 1; }
ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$vm")
cat <<MSG

Harbor $version is running in the lab VM '$vm'.
  URL:       https://$ip/   (from this machine; inside the lab network: https://$vm/)
  CA:        $work/harbor-pki/ca.crt   (made by harbor.deploy.certs; trust it in your browser or client)
  Log in:    user admin, password $admin_password
  Try it:    docker exec -it $vm docker login 127.0.0.1 -u admin
  Worked:    pushed $image:1, removed it, pulled it back: same digest $pushed
  Health:    curl -s --cacert $work/harbor-pki/ca.crt https://$ip/api/v2.0/health
  Remove:    make demo-clean
MSG
