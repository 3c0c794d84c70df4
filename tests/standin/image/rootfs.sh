#!/usr/bin/env bash
# Build the ONE root filesystem every stand-in Harbor image is made of: a
# debootstrap minbase of Debian bookworm plus the real servers the stand-in
# runs (nginx, docker-registry, PostgreSQL 15, Redis, rsyslog) and the Python
# it is written in. Writes a plain tarball (numeric owners) to $1.
#
# usage: rootfs.sh OUT.tar        (needs root, debootstrap, network to the mirror)
# The mirror is the one this machine's own apt sources name (STANDIN_MIRROR
# overrides); never a hard-coded host.
set -euo pipefail

out=${1:?usage: rootfs.sh OUT.tar}
suite=bookworm

mirror=${STANDIN_MIRROR:-${LAB_MIRROR:-}}
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -vE 'security|nodesource|google|docker' | awk '{print $2}' | head -n1 || true)
fi
[ -n "$mirror" ] || { echo "rootfs: no Debian mirror in /etc/apt/sources.list*; set STANDIN_MIRROR" >&2; exit 1; }

# debootstrap lays down minbase only (its resolver does not follow virtual
# packages); apt installs the rest in the chroot with service starts blocked,
# so no postinst starts a daemon on this host.
base_pkgs=adduser
server_pkgs="python3 python3-yaml python3-cryptography python3-psycopg2 python3-redis procps iproute2
  postgresql-15 redis-server nginx docker-registry rsyslog"

root=$(mktemp -d "${out%/*}/rootfs.XXXXXX")
cleanup() { rm -rf "$root"; }
trap cleanup EXIT

log="${out%.tar}.log"
echo "rootfs: debootstrap $suite from $mirror" >&2
debootstrap --variant=minbase --include="$base_pkgs" "$suite" "$root" "$mirror" >"$log" 2>&1 \
  || { tail -n 30 "$log" >&2; exit 1; }

# Harbor's uids: 10000 (harbor: core, registry, nginx, jobservice, ...) and
# 999 (postgres, redis). Created before the packages so they keep these ids.
chroot "$root" groupadd -g 10000 harbor
chroot "$root" useradd -u 10000 -g 10000 -d /home/harbor -m -s /bin/bash harbor
chroot "$root" groupadd -g 999 postgres
chroot "$root" useradd -r -u 999 -g 999 -d /var/lib/postgresql -s /bin/bash postgres

printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/etc/postgresql-common/createcluster.d"
printf 'create_main_cluster = false\n' >"$root/etc/postgresql-common/createcluster.d/standin.conf"
printf 'deb %s %s main\n' "$mirror" "$suite" >"$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

echo "rootfs: installing" $server_pkgs >&2
unshare -m --propagation private sh -c "
  mount -t proc proc '$root/proc'
  chroot '$root' env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 update -qq
  chroot '$root' env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends $(echo $server_pkgs)
" >>"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }

# Trim: PostgreSQL's JIT (LLVM, ~100 MB) is switched off at run time anyway;
# docs, man pages, translations and apt's caches are not needed.
rm -f "$root"/usr/lib/x86_64-linux-gnu/libLLVM-*.so* "$root"/usr/lib/x86_64-linux-gnu/libz3.so* \
      "$root"/usr/lib/postgresql/15/lib/llvmjit*.so
# Perl is only there for postgresql-common's wrappers; the stand-in calls
# /usr/lib/postgresql/15/bin directly (perl-base stays for dpkg).
rm -rf "$root"/usr/lib/x86_64-linux-gnu/perl "$root"/usr/share/perl "$root"/usr/lib/x86_64-linux-gnu/libperl.so* \
       "$root"/usr/bin/perl5* "$root"/usr/share/i18n
rm -rf "$root"/usr/lib/postgresql/15/lib/bitcode
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
       "$root"/usr/share/lintian "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
       "$root"/var/cache/debconf/*-old "$root"/usr/share/postgresql/15/man
find "$root/usr/lib/python3" -name '__pycache__' -prune -exec rm -rf {} + 2>/dev/null || true
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
: >"$root/etc/machine-id"
# Debian leaves the package's own service configs; the stand-in's configs come
# from prepare, mounted at the places Harbor's images use.
rm -f "$root/etc/nginx/sites-enabled/default"
install -d -o 999 -g 999 -m 2775 "$root/run/postgresql" "$root/var/lib/postgresql/data"

chmod 755 "$root"   # mktemp made it 0700: the image's / must be traversable
# numeric owners, stable order: the same input gives the same tarball
tar --numeric-owner --sort=name --mtime='2024-01-01 00:00:00' -C "$root" -cf "$out.part" .
mv "$out.part" "$out"
echo "rootfs: $(du -h "$out" | cut -f1) $out" >&2
