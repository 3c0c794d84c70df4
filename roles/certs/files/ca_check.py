# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Does the controller's CA fit the Harbor hosts of this run, and must their server certificates be signed?

Run by the certs role on the controller, once per batch: it is the role's one read of the PKI directory.

Reads a JSON request on stdin, writes a JSON answer on stdout, changes nothing.
Run with ``ansible_playbook_python``, which always has ``cryptography`` (ansible-core
needs it). community.crypto's x509_certificate_info does not return a certificate's
name constraints (only their DER under extensions_by_oid), hence this helper.

Request::

    {"ca_cert": "/pki/ca.crt", "ca_key": "/pki/ca.key", "common_name": "Harbor deploy CA",
     "dns": ["harbor.example.com", "*.harbor.example.com"], "ip": ["192.0.2.10"],
     "extra": ["DNS:lb.example.com", "IP:192.0.2.0/24"],
     "host_cas": [["harbor1", "-----BEGIN CERTIFICATE-----..."], ["harbor2", ""]],
     "pki": "/pki",             # optional: report the directory's mode and its keys' modes
     "leaves": [["harbor1", {"key": "/pki/harbor1.key", "crt": "/pki/harbor1.crt", "cn": "harbor1",
                             "dns": ["harbor1"], "ip": ["192.0.2.10"], "renew_before_days": 30}]]}

Answer::

    {"exists": true,            # ca.crt is there
     "permitted": [...],        # the name constraints a CA made now gets (sorted; the
     "excluded": [...],         #   current ones are kept when the CA exists)
     "problems": [...],         # why the current CA does not fit (empty: it fits)
     "host_problems": [...],    # hosts whose installed ca.crt is another CA
     "current": {"permitted": [...], "excluded": [...], "critical": true},
     "ca_key": {"exists": true, "mode": "0600", "readable": true},
     "pki": {"exists": true, "dir": true, "mode": "0700",        # with "pki" only
             "key_files": [{"path": "/pki/ca.key", "mode": "0600"}]},  # *.key, as ansible.builtin.find lists them
     "leaves": {"harbor1": {"key": {"exists": true, "mode": "0600", "readable": true},
                            "crt_mode": "0644", "renew": false, "reasons": []}}}

A name is covered by a ``DNS:`` subtree when it equals it or is below it (``DNS:.x``:
below only), as RFC 5280 and OpenSSL read it; an address when it is in an ``IP:``
subtree of its family. A CA with no ``IP:`` subtree gets ``IP:0.0.0.0/0`` and
``IP:::/0`` excluded, since a type without permitted subtrees is not constrained.
A server certificate must be signed (its "reasons" say why; "renew": it is not valid
``renew_before_days`` from now) when community.crypto's x509_certificate (ownca) would sign it
again for the request the role makes (openssl_csr_pipe: subject CN, the SANs DNS names first,
extended key usage serverAuth, basic constraints CA:FALSE, none critical): it is missing or not
PEM, its public key is not the server key's (or that key is missing or unreadable), its subject
or its extensions but the key identifiers differ, its subject key identifier is not its key's,
it is not signed by the CA, its issuer is not the CA's subject, or its authority key identifier
is not the CA's. With no CA certificate yet, it always is. Keys are read, never written or shown.

Exit status 2 (message on stderr) on a request that cannot be read.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import stat
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

try:  # only for a non-ASCII DNS name, as community.crypto (IDNA 2008, else the codec's IDNA 2003)
    import idna
except ImportError:
    idna = None

ALL_IPS = ["IP:0.0.0.0/0", "IP:::/0"]


class RequestError(Exception):
    """The request is malformed."""


def _dns(name):
    return name.strip().lower().rstrip(".")


def subtree(entry):
    """Normalise one ``DNS:name`` / ``IP:addr[/prefix]`` subtree; raise RequestError otherwise."""
    kind, _sep, value = entry.partition(":")
    if kind == "DNS" and value.strip():
        return "DNS:" + _dns(value)
    if kind == "IP" and value.strip():
        try:
            net = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError as exc:
            raise RequestError("bad IP subtree %r: %s" % (entry, exc)) from exc
        return "IP:%s/%d" % (net.network_address.compressed, net.prefixlen)
    raise RequestError("bad subtree %r: write DNS:name or IP:address/prefix" % entry)


def own_subtrees(dns, ips):
    """The subtrees that name exactly these hosts (a wildcard names its parent domain)."""
    out = []
    for name in dns:
        name = _dns(name)
        out.append("DNS:" + (name[2:] if name.startswith("*.") else name))
    for addr in ips:
        try:
            ip = ipaddress.ip_address(addr.strip())
        except ValueError as exc:
            raise RequestError("bad IP address %r: %s" % (addr, exc)) from exc
        out.append("IP:%s/%d" % (ip.compressed, ip.max_prefixlen))
    return out


def _dns_in(name, base):
    base = _dns(base) if not base.startswith(".") else "." + _dns(base[1:])
    if base in ("", "."):
        return True
    if base.startswith("."):
        return name.endswith(base)
    return name == base or name.endswith("." + base)


def _ip_in(ip, net):
    return ip.version == net.version and ip in net


def covered(name, permitted, excluded):
    """Is a DNS name or an IP address inside ``permitted`` and outside ``excluded``?"""
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        ip = None
    if ip is not None:
        def test(entries):
            return any(_ip_in(ip, ipaddress.ip_network(e[3:])) for e in entries if e.startswith("IP:"))
    else:
        name = _dns(name)

        def test(entries):
            return any(_dns_in(name, e[4:]) for e in entries if e.startswith("DNS:"))
    return test(permitted) and not test(excluded)


def subtree_covered(entry, permitted):
    """Is a whole (normalised) subtree inside one of ``permitted``?"""
    if entry in permitted:
        return True
    kind, _sep, value = entry.partition(":")
    if kind == "DNS":
        name = value.lstrip(".")
        return any(_dns_in(name, e[4:]) for e in permitted if e.startswith("DNS:"))
    net = ipaddress.ip_network(value)
    return any(net.version == other.version and net.subnet_of(other)
               for other in (ipaddress.ip_network(e[3:]) for e in permitted if e.startswith("IP:")))


def _decode(general_names):
    out = []
    for gn in general_names or []:
        if isinstance(gn, x509.DNSName):
            out.append("DNS:" + gn.value.lower())
        elif isinstance(gn, x509.IPAddress):
            net = ipaddress.ip_network(gn.value)
            out.append("IP:%s/%d" % (net.network_address.compressed, net.prefixlen))
        else:
            out.append("%s:%s" % (type(gn).__name__, gn.value))
    return out


def _spki(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RequestError("cannot read %s: %s" % (path, exc)) from exc


def _validity_bound(cert, name):
    """not_valid_after/not_valid_before as an aware datetime, on any cryptography version."""
    try:
        return getattr(cert, name + "_utc")
    except AttributeError:  # cryptography < 42
        return getattr(cert, name).replace(tzinfo=datetime.timezone.utc)


def _not_after(cert):
    return _validity_bound(cert, "not_valid_after")


def _cn(cert):
    values = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return values[0].value if values else ""


def _not_before(cert):
    return _validity_bound(cert, "not_valid_before")


def _mode(st):
    return "%04o" % stat.S_IMODE(st.st_mode)


def _key(path):
    """The facts of a controller key (never its content), and the key when it loads without a passphrase."""
    facts = {"exists": False, "mode": None, "readable": False}
    try:
        facts["mode"] = _mode(os.stat(path))
    except FileNotFoundError:
        return facts, None
    except OSError as exc:
        raise RequestError("cannot read %s: %s" % (path, exc)) from exc
    facts["exists"] = True
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return facts, None
    facts["readable"] = True
    return facts, key


def pki_facts(path):
    """The PKI directory's mode and its keys' modes (``*.key``, not hidden, regular files: ansible.builtin.find)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {"exists": False, "dir": False, "mode": None, "key_files": []}
    except OSError as exc:
        raise RequestError("cannot read %s: %s" % (path, exc)) from exc
    facts = {"exists": True, "dir": stat.S_ISDIR(st.st_mode), "mode": _mode(st), "key_files": []}
    if facts["dir"]:
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            raise RequestError("cannot list %s: %s" % (path, exc)) from exc
        for name in names:
            if name.startswith(".") or not name.endswith(".key"):
                continue
            full = os.path.join(path, name)
            lst = os.lstat(full)
            if stat.S_ISREG(lst.st_mode):
                facts["key_files"].append({"path": full, "mode": _mode(lst)})
    return facts


def _idna(name):
    """A DNS name as community.crypto writes it in a SAN (idn_rewrite=idna)."""
    if name.isascii():
        return name
    if idna is None:
        raise ValueError("the idna library is missing for the DNS name %r" % name)
    labels = name.split(".")
    for index, label in enumerate(labels):
        if label in ("", "*"):
            continue
        try:
            labels[index] = idna.encode(label).decode("ascii")
        except idna.IDNAError:
            labels[index] = label.encode("idna").decode("ascii")
    return ".".join(labels)


def _general_name(kind, value):
    if kind == "IP":
        return x509.IPAddress(ipaddress.ip_network(value) if "/" in value else ipaddress.ip_address(value))
    return x509.DNSName(_idna(value))


def _show_names(names):
    return ", ".join("%s:%s" % ("IP" if isinstance(gn, x509.IPAddress) else "DNS", gn.value) for gn in names)


def wanted_extensions(want):
    """The extensions of the role's request (openssl_csr_pipe), by OID."""
    names = [_general_name("DNS", n) for n in want.get("dns") or []] + [_general_name("IP", n) for n in want.get("ip") or []]
    extensions = [x509.Extension(x509.oid.ExtensionOID.EXTENDED_KEY_USAGE, False,
                                 x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])),
                  x509.Extension(x509.oid.ExtensionOID.BASIC_CONSTRAINTS, False, x509.BasicConstraints(ca=False, path_length=None))]
    if names:
        extensions.insert(0, x509.Extension(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, False,
                                            x509.SubjectAlternativeName(names)))
    return {e.oid: e for e in extensions}


def _same_request(cert, want, reasons):
    """Would community.crypto take ``cert`` for the role's request? (subject, extensions, key identifiers)"""
    try:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, want["cn"])])
        wanted = wanted_extensions(want)
    except (ValueError, TypeError, UnicodeError, ImportError) as exc:
        reasons.append("the names wanted cannot be checked here (%s)" % exc)
        return
    if cert.subject != subject:
        reasons.append("its subject is %s, not %s" % (cert.subject.rfc4514_string(), subject.rfc4514_string()))
    ids = (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier)
    have = [e for e in cert.extensions if not isinstance(e.value, ids)]
    san = x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME
    have_san = next((e for e in have if e.oid == san), None)
    if have_san != wanted.get(san):
        reasons.append("its subject alternative names are [%s], not [%s]" % (
            _show_names(have_san.value) if have_san else "", _show_names(wanted[san].value) if san in wanted else ""))
    elif len(have) != len(wanted) or any(wanted.get(e.oid) != e for e in have):
        reasons.append("its extensions are not those of the request")
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        ski = None
    if ski is None or ski.digest != x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest:
        reasons.append("its subject key identifier is not its key's")


def _issued_by(cert, ca, reasons):
    """Is ``cert`` signed by ``ca``, with its issuer and authority key identifier?"""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        reasons.append("it is not signed by the CA (%s)" % ca.subject.rfc4514_string())
        return
    try:
        expected = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value)
    except x509.ExtensionNotFound:
        expected = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key())
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        aki = None
    if aki != expected:
        reasons.append("its authority key identifier is not the CA's")


def leaf(want, ca, now):
    """Must the server certificate ``want["crt"]`` be signed (again), and why? (see the module docstring)"""
    key_facts, key = _key(want["key"])
    answer = {"key": key_facts, "crt_mode": None, "renew": False, "reasons": []}
    reasons = answer["reasons"]
    if ca is None:
        reasons.append("there is no CA certificate yet")
    try:
        answer["crt_mode"] = _mode(os.stat(want["crt"]))
    except FileNotFoundError:
        reasons.append("there is no certificate yet")
        return answer
    except OSError as exc:
        raise RequestError("cannot read %s: %s" % (want["crt"], exc)) from exc
    try:
        cert = x509.load_pem_x509_certificate(_read(want["crt"]) or b"")
    except ValueError:
        reasons.append("it is not a PEM certificate")
        return answer
    days = int(want.get("renew_before_days") or 0)
    if not _not_before(cert) <= now + datetime.timedelta(days=days) <= _not_after(cert):
        answer["renew"] = True
        reasons.append("it is not valid in %d days (valid %s to %s)" % (
            days, _not_before(cert).strftime("%Y-%m-%d"), _not_after(cert).strftime("%Y-%m-%d")))
    try:
        if key is None:
            reasons.append("the server key is missing or unreadable")
        elif _spki(key.public_key()) != _spki(cert.public_key()):
            reasons.append("its public key is not the server key's")
        _same_request(cert, want, reasons)
        if ca is not None:
            _issued_by(cert, ca, reasons)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        reasons.append("it cannot be read (%s)" % exc)
    return answer


def check(request, now=None):
    """The answer for one request (see the module docstring)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    dns = [n for n in request.get("dns") or [] if n]
    ips = [n for n in request.get("ip") or [] if n]
    extra = [subtree(e) for e in request.get("extra") or []]
    wanted = own_subtrees(dns, ips) + extra
    answer = {"exists": False, "problems": [], "host_problems": [],
              "current": {"permitted": [], "excluded": [], "critical": None}}

    data = _read(request["ca_cert"])
    ca = None
    ca_key_facts, ca_key = _key(request["ca_key"]) if request.get("ca_key") else ({"exists": False, "mode": None,
                                                                                  "readable": False}, None)
    answer["ca_key"] = ca_key_facts
    if data is not None:
        try:
            ca = x509.load_pem_x509_certificate(data)
        except ValueError as exc:
            raise RequestError("%s is not a PEM certificate: %s" % (request["ca_cert"], exc)) from exc
        answer["exists"] = True
        problems = answer["problems"]
        try:
            nc = ca.extensions.get_extension_for_class(x509.NameConstraints)
        except x509.ExtensionNotFound:
            nc = None
            problems.append("it has no name constraints (it may sign a certificate for any name)")
        if nc is not None:
            current = answer["current"]
            current["permitted"] = _decode(nc.value.permitted_subtrees)
            current["excluded"] = _decode(nc.value.excluded_subtrees)
            current["critical"] = nc.critical
            if not nc.critical:
                problems.append("its name constraints are not marked critical")
            missing = [n for n in dns + ips if not covered(n, current["permitted"], current["excluded"])]
            missing += [e for e in extra if not subtree_covered(e, current["permitted"])]
            if missing:
                problems.append("its name constraints do not permit %s" % ", ".join(dict.fromkeys(missing)))
        if request.get("common_name") and _cn(ca) != request["common_name"]:
            problems.append("its common name is %r, certs_ca_common_name is %r" % (_cn(ca), request["common_name"]))
        if _not_after(ca) <= now:
            problems.append("it expired on %s" % _not_after(ca).strftime("%Y-%m-%d"))
        if ca_key_facts["exists"] and (ca_key is None or _spki(ca_key.public_key()) != _spki(ca.public_key())):
            problems.append("%s is not the key of %s" % (request["ca_key"], request["ca_cert"]))

    keep = [e for e in answer["current"]["permitted"] if e.startswith(("DNS:", "IP:"))]
    permitted = sorted(dict.fromkeys(keep + wanted))
    answer["permitted"] = permitted
    answer["excluded"] = [] if any(e.startswith("IP:") for e in permitted) else list(ALL_IPS)

    for host, pem in request.get("host_cas") or []:
        if not pem:
            continue
        try:
            installed = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
        except ValueError:
            continue  # not ours to judge: the copy task replaces it
        if ca is None:
            answer["host_problems"].append(
                "%s already has the CA %r in certs_dir/ca.crt, and there is no %s on the controller"
                % (host, installed.subject.rfc4514_string(), request["ca_cert"]))
        elif _spki(installed.public_key()) != _spki(ca.public_key()):
            answer["host_problems"].append(
                "%s has another CA in certs_dir/ca.crt (%r) than %s"
                % (host, installed.subject.rfc4514_string(), request["ca_cert"]))

    if request.get("pki"):
        answer["pki"] = pki_facts(request["pki"])
    answer["leaves"] = {host: leaf(want, ca, now) for host, want in request.get("leaves") or []}
    return answer


def main():
    try:
        request = json.load(sys.stdin)
        answer = check(request)
    except (RequestError, ValueError, KeyError) as exc:
        sys.stderr.write("ca_check: %s\n" % exc)
        return 2
    json.dump(answer, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
