#!/usr/bin/env bash
# Build the lab "VM" image: a Debian systemd root made by debootstrap, imported
# into the local Docker engine. Cached by its inputs: the image tag carries a
# hash of this script, the suite and the package list, and the rootfs tarball
# is kept under .cache/lab/ so a rerun (or an engine wiped of images) is fast.
#
# usage: tests/lab/build-image.sh [SUITE]   (SUITE: bookworm (default), trixie, bullseye)
# prints the image reference on stdout (e.g. lab/debian-systemd:12-3f9a1c2b).
set -euo pipefail

suite=${1:-bookworm}
case "$suite" in
  bullseye) release=11 ;;
  bookworm) release=12 ;;
  trixie) release=13 ;;
  *) echo "unknown suite $suite (bullseye|bookworm|trixie)" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${LAB_CACHE:-$top/.cache/lab}
mkdir -p "$cache"

# Packages every lab VM needs: systemd as PID 1, python3 for Ansible, and the
# bits molecule/testinfra use. Everything else is the roles' job to install.
packages=systemd,systemd-sysv,python3,python3-apt,sudo,iproute2,procps,ca-certificates,iputils-ping,curl,dbus

# The mirror the machine itself uses (never a hard-coded host).
mirror=${LAB_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -vE 'security|nodesource|google|docker' | awk '{print $2}' | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "no Debian mirror found in /etc/apt/sources.list*; set LAB_MIRROR" >&2; exit 1; }

key=$( { cat "$0"; echo "$suite $packages"; } | sha256sum | cut -c1-10)
image="lab/debian-systemd:${release}-${key}"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"; exit 0
fi

tarball="$cache/rootfs-${suite}-${key}.tar"
if [ ! -s "$tarball" ]; then
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "debootstrap $suite from $mirror (about a minute)" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" >"$cache/debootstrap-$suite.log" 2>&1 \
    || { tail -n 30 "$cache/debootstrap-$suite.log" >&2; exit 1; }
  # A lab VM is a container: no getty on consoles, no need to wait for udev
  # settle; keep the journal small. Everything else stays as Debian ships it.
  for unit in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
              systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-timesyncd.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  mkdir -p "$root/etc/systemd/journald.conf.d"
  printf '[Journal]\nSystemMaxUse=32M\n' >"$root/etc/systemd/journald.conf.d/lab.conf"
  # apt inside the VM uses the same mirror the build used
  printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
  : >"$root/etc/machine-id"
  tar -C "$root" -cf "$tarball.part" .
  mv "$tarball.part" "$tarball"
  rm -rf "$root"; trap - EXIT
fi
docker import -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' "$tarball" "$image" >/dev/null
docker tag "$image" "lab/debian-systemd:${release}"
echo "$image"
