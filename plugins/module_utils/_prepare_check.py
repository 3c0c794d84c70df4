# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Check, on the Harbor host, the files Harbor's ``prepare`` reads, before it runs.

Private to the harbor.deploy collection: the interface may change without notice.
Standard library, plus ``cryptography`` when the host has it, else the ``openssl``
binary, for the checks that parse certificates and keys.

Facts from prepare's source (goharbor/harbor make/photon/prepare, v2.9 to v2.15):

- ``https.certificate`` / ``https.private_key`` are copied by prepare (root, in a
  container that sees the host under ``/hostfs``) into data_volume/secret/cert.
- ``storage_service.ca_bundle``: prepare's validate() refuses the file unless it is
  owned by uid 10000 with the owner read bit, or (other owner) readable by others.
- ``internal_tls`` (enabled): prepare copies ``dir`` (copytree, symlinks kept as links)
  and needs harbor_internal_ca.crt, core, job_service, portal, proxy, registry,
  registryctl .crt/.key, trivy_adapter.* with --with-trivy, harbor_db.* unless
  external_database; every .crt but the CA's must have a subjectAltName (it greps
  ``openssl x509 -text``). A missing file crashes it (its existence test is a no-op).
- ``external_redis.tlsOptions.rootCA`` (v2.13+, when tlsOptions.enable): required (a
  KeyError otherwise), copied into the trust store when the file exists.
- ``uaa.ca_file``: bind-mounted into core, which runs as uid/gid 10000.
- prepare resolves paths inside its container, so a symlink with an absolute target
  (on the way to a file it copies) points into the container, not the host.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - depends on the host
    HAS_CRYPTOGRAPHY = False

HARBOR_UID = 10000
HARBOR_GID = 10000
INTERNAL_CA = "harbor_internal_ca.crt"
INTERNAL_BASE = ("core", "job_service", "portal", "proxy", "registry", "registryctl")
INTERNAL_TRIVY = ("trivy_adapter",)
INTERNAL_DB = ("harbor_db",)

_CERT_RE = re.compile(rb"-----BEGIN CERTIFICATE-----")
_KEY_RE = re.compile(rb"-----BEGIN ((RSA|EC|DSA) )?PRIVATE KEY-----")
_ENCRYPTED_RE = re.compile(rb"-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED")
_PUBLIC_RE = re.compile(r"-----BEGIN PUBLIC KEY-----[^-]+-----END PUBLIC KEY-----")
_SECRET_KEY_RE = re.compile(r"pass|secret|token|credential|accesskey|accountkey|auth", re.I)
_PROXY_USERINFO_RE = re.compile(r"^[a-z][a-z0-9+.-]*://([^/@]+)@", re.I)


def parse_version(text):
    """'v2.15.2' -> (2, 15, 2); None when unknown."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", str(text or "").strip())
    return tuple(int(g or 0) for g in match.groups()) if match else None


def secret_values(config):
    """The harbor.yml values that are secrets (passwords, keys, proxy credentials), as strings.

    A module masks every no_log value wherever it appears in its output, even inside other
    strings; masking every leaf of harbor.yml would mangle the paths the errors name."""
    found = set()

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif node is not None and not isinstance(node, bool):
            text = str(node)
            if not text:
                return
            if _SECRET_KEY_RE.search(key) or (key.lower().endswith("key") and key.lower() != "private_key"):
                found.add(text)
            match = _PROXY_USERINFO_RE.match(text)
            if match:
                found.add(match.group(1))
    walk(config)
    return found


def _absolute_link_on_path(path, limit=40):
    """The first symlink met resolving ``path`` whose target is absolute, as (link, target), or None."""
    parts = [p for p in path.split("/") if p]
    current = "/"
    hops = 0
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            current = os.path.dirname(current.rstrip("/")) or "/"
            continue
        candidate = os.path.join(current, part)
        if os.path.islink(candidate):
            hops += 1
            if hops > limit:
                return None
            target = os.readlink(candidate)
            if target.startswith("/"):
                return candidate, target
            parts = [p for p in target.split("/") if p] + parts
            continue
        current = candidate
    return None


class Backend:
    """Parses certificates and keys with cryptography, else the openssl binary, else not at all."""

    def __init__(self, run_command=None, openssl=None, prefer=None):
        self.run_command = run_command
        self.openssl = openssl
        if prefer is None:
            prefer = "cryptography" if HAS_CRYPTOGRAPHY else "openssl" if openssl and run_command else "none"
        self.name = prefer

    def certificate(self, path, data):
        """(public key or None, has_san, error or None) of the first certificate of a PEM file."""
        if self.name == "cryptography":
            try:
                first = x509.load_pem_x509_certificate(data)  # the first of the file, as prepare and nginx read it
            except ValueError as exc:
                return None, False, "is not a valid PEM certificate (%s)" % _first_line(str(exc))
            try:
                first.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                has_san = True
            except x509.ExtensionNotFound:
                has_san = False
            return _spki(first.public_key()), has_san, None
        if self.name == "openssl":
            rc, out, err = self.run_command([self.openssl, "x509", "-in", path, "-noout", "-text", "-pubkey"])
            if rc != 0:
                return None, False, "is not a valid PEM certificate (openssl: %s)" % _first_line(err)
            pub = _PUBLIC_RE.search(out)
            return pub.group(0) if pub else None, "Subject Alternative Name:" in out, None
        return None, None, None

    def private_key(self, path, data):
        """(public key or None, error or None) of a PEM private key."""
        if self.name == "cryptography":
            try:
                key = serialization.load_pem_private_key(data, password=None)
            except TypeError:
                return None, "is an encrypted private key: nginx would ask for its passphrase; decrypt it"
            except (ValueError, UnsupportedAlgorithm) as exc:
                return None, "is not a valid PEM private key (%s)" % _first_line(str(exc))
            return _spki(key.public_key()), None
        if self.name == "openssl":
            # -passin pass: never prompts: an encrypted key fails here. The output is the public half.
            rc, out, err = self.run_command([self.openssl, "pkey", "-in", path, "-pubout", "-passin", "pass:"])
            if rc != 0:
                return None, "is not a valid, unencrypted PEM private key (openssl: %s)" % _first_line(err)
            pub = _PUBLIC_RE.search(out)
            return pub.group(0) if pub else None, None
        return None, None


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _first_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0][:200] if lines else "no message"


class PrepareCheck:
    """Collects errors ("dotted.key: message") and the sha256 of every file read."""

    def __init__(self, backend):
        self.backend = backend
        self.errors = []
        self.checksums = {}
        self.files = []
        self.deep_skipped = False

    def error(self, key, message):
        self.errors.append("%s: %s" % (key, message))

    # ---- one file ------------------------------------------------------------------------------
    def read(self, key, path, via_hostfs=True, symlink_ok=True):
        """Checks a file exists, is regular, is readable; returns (data, stat) or (None, None)."""
        if not isinstance(path, str) or not path.strip():
            self.error(key, "must be a path, got %r" % (path,))
            return None, None
        if not path.startswith("/"):
            self.error(key, "%s must be an absolute path on the Harbor host" % path)
            return None, None
        if not os.path.lexists(path):
            self.error(key, "%s does not exist" % path)
            return None, None
        if not symlink_ok and os.path.islink(path):
            self.error(key, "%s is a symlink: prepare copies the directory keeping links as links, which then point "
                            "nowhere; put the file itself there" % path)
            return None, None
        if via_hostfs:
            link = _absolute_link_on_path(path)
            if link:
                self.error(key, "%s goes through the symlink %s -> %s; prepare reads the host under /hostfs in its "
                                "container, where an absolute link points into the container: use the real path"
                           % (path, link[0], link[1]))
                return None, None
        try:
            st = os.stat(path)
        except OSError as exc:
            self.error(key, "%s cannot be read (%s)" % (path, exc.strerror or exc))
            return None, None
        if not stat.S_ISREG(st.st_mode):
            self.error(key, "%s is not a regular file" % path)
            return None, None
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            self.error(key, "%s cannot be read (%s)" % (path, exc.strerror or exc))
            return None, None
        self.checksums[path] = hashlib.sha256(data).hexdigest()
        self.files.append({"key": key, "path": path})
        return data, st

    def certificate(self, key, path, data, need_san=False):
        """PEM certificate checks; returns its public key when the backend could read it."""
        if not _CERT_RE.search(data):
            self.error(key, "%s does not hold a PEM certificate (no BEGIN CERTIFICATE line)" % path)
            return None
        public, has_san, problem = self.backend.certificate(path, data)
        if problem:
            self.error(key, "%s %s" % (path, problem))
            return None
        if self.backend.name == "none":
            self.deep_skipped = True
            return None
        if need_san and not has_san:
            self.error(key, "%s has no subjectAltName; prepare refuses it" % path)
        return public

    def private_key(self, key, path, data):
        if _ENCRYPTED_RE.search(data):
            self.error(key, "%s is an encrypted private key: nginx would ask for its passphrase; decrypt it" % path)
            return None
        if not _KEY_RE.search(data):
            self.error(key, "%s does not hold a PEM private key (no BEGIN PRIVATE KEY line)" % path)
            return None
        public, problem = self.backend.private_key(path, data)
        if problem:
            self.error(key, "%s %s" % (path, problem))
            return None
        if self.backend.name == "none":
            self.deep_skipped = True
        return public

    def pair(self, key, cert_key, cert_path, key_path):
        """Reads and checks a certificate and its key, and that they match."""
        cert_data, _st = self.read(cert_key, cert_path)
        key_data, _st = self.read(key, key_path)
        cert_pub = self.certificate(cert_key, cert_path, cert_data) if cert_data is not None else None
        key_pub = self.private_key(key, key_path, key_data) if key_data is not None else None
        if cert_pub is not None and key_pub is not None and cert_pub != key_pub:
            self.error(key, "%s is not the key of %s" % (key_path, cert_path))

    # ---- harbor.yml ------------------------------------------------------------------------------
    def https(self, config):
        https = config.get("https")
        if not https:
            return
        if not isinstance(https, dict):
            self.error("https", "must be a mapping")
            return
        cert, key = https.get("certificate"), https.get("private_key")
        for name, value in (("certificate", cert), ("private_key", key)):
            if not value:
                self.error("https." + name, "is required when https is set")
        if cert and key:
            self.pair("https.private_key", "https.certificate", cert, key)
        elif cert:
            data, _st = self.read("https.certificate", cert)
            if data is not None:
                self.certificate("https.certificate", cert, data)
        elif key:
            data, _st = self.read("https.private_key", key)
            if data is not None:
                self.private_key("https.private_key", key, data)

    def ca_bundle(self, config):
        storage = config.get("storage_service")
        path = storage.get("ca_bundle") if isinstance(storage, dict) else None
        if not path:
            return
        key = "storage_service.ca_bundle"
        data, st = self.read(key, path)
        if data is None:
            return
        owner_ok = st.st_uid == HARBOR_UID and st.st_mode & stat.S_IRUSR
        other_ok = st.st_uid != HARBOR_UID and st.st_mode & stat.S_IROTH
        if not (owner_ok or other_ok):
            self.error(key, "%s (owner uid %d, mode %04o) must be owned by uid 10000 with the owner read bit, or be "
                            "readable by others (for example 0644): prepare refuses it"
                       % (path, st.st_uid, stat.S_IMODE(st.st_mode)))
        self.certificate(key, path, data)

    def internal_tls(self, config, with_trivy):
        tls = config.get("internal_tls")
        if not isinstance(tls, dict) or not tls.get("enabled"):
            return
        directory = tls.get("dir")
        if not directory or not isinstance(directory, str):
            self.error("internal_tls.dir", "is required when internal_tls.enabled is true")
            return
        link = _absolute_link_on_path(directory) if directory.startswith("/") else None
        if not directory.startswith("/"):
            self.error("internal_tls.dir", "%s must be an absolute path on the Harbor host" % directory)
            return
        if link:
            self.error("internal_tls.dir", "%s goes through the symlink %s -> %s; prepare reads the host under /hostfs "
                                           "in its container, where an absolute link points into the container: use "
                                           "the real path" % (directory, link[0], link[1]))
            return
        if not os.path.isdir(directory):
            self.error("internal_tls.dir", "%s is not a directory" % directory)
            return
        names = list(INTERNAL_BASE)
        if with_trivy:
            names += INTERNAL_TRIVY
        if not config.get("external_database"):
            names += INTERNAL_DB
        ca_path = os.path.join(directory, INTERNAL_CA)
        ca_data, _st = self.read("internal_tls.dir", ca_path, via_hostfs=False, symlink_ok=False)
        if ca_data is not None:
            self.certificate("internal_tls.dir", ca_path, ca_data)
        for name in sorted(names):
            crt, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
            crt_data, _st = self.read("internal_tls.dir", crt, via_hostfs=False, symlink_ok=False)
            key_data, _st = self.read("internal_tls.dir", key, via_hostfs=False, symlink_ok=False)
            crt_pub = self.certificate("internal_tls.dir", crt, crt_data, need_san=True) if crt_data is not None else None
            key_pub = self.private_key("internal_tls.dir", key, key_data) if key_data is not None else None
            if crt_pub is not None and key_pub is not None and crt_pub != key_pub:
                self.error("internal_tls.dir", "%s is not the key of %s" % (key, crt))

    def redis_root_ca(self, config, version):
        if version is not None and version < (2, 13):
            return  # tlsOptions came with v2.13
        redis = config.get("external_redis")
        tls = redis.get("tlsOptions") if isinstance(redis, dict) else None
        if not isinstance(tls, dict) or not tls.get("enable"):
            return
        key = "external_redis.tlsOptions.rootCA"
        path = tls.get("rootCA")
        if not path:
            self.error(key, "is required when external_redis.tlsOptions.enable is true")
            return
        data, _st = self.read(key, path)
        if data is not None:
            self.certificate(key, path, data)

    def uaa_ca_file(self, config):
        uaa = config.get("uaa")
        path = uaa.get("ca_file") if isinstance(uaa, dict) else None
        if not path:
            return
        key = "uaa.ca_file"
        data, st = self.read(key, path, via_hostfs=False)  # bind-mounted by docker: resolved on the host
        if data is None:
            return
        mode = st.st_mode
        if not ((st.st_uid == HARBOR_UID and mode & stat.S_IRUSR) or (st.st_gid == HARBOR_GID and mode & stat.S_IRGRP)
                or mode & stat.S_IROTH):
            self.error(key, "%s (owner %d:%d, mode %04o) is bind-mounted into harbor-core, which runs as uid 10000 "
                            "and cannot read it: make it readable by others (for example 0644) or by uid 10000"
                       % (path, st.st_uid, st.st_gid, stat.S_IMODE(mode)))
        self.certificate(key, path, data)

    def run(self, config, version=None, with_trivy=False):
        if not isinstance(config, dict):
            self.error("config", "must be the harbor.yml mapping")
            return self
        version = parse_version(version)
        self.https(config)
        self.ca_bundle(config)
        self.internal_tls(config, with_trivy)
        self.redis_root_ca(config, version)
        self.uaa_ca_file(config)
        return self
