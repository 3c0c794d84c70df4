# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Does the controller's CA fit the Harbor hosts of this run? Run by the certs role on the controller.

Reads a JSON request on stdin, writes a JSON answer on stdout, changes nothing.
Run with ``ansible_playbook_python``, which always has ``cryptography`` (ansible-core
needs it). community.crypto's x509_certificate_info does not return a certificate's
name constraints (only their DER under extensions_by_oid), hence this helper.

Request::

    {"ca_cert": "/pki/ca.crt", "ca_key": "/pki/ca.key", "common_name": "Harbor deploy CA",
     "dns": ["harbor.example.com", "*.harbor.example.com"], "ip": ["192.0.2.10"],
     "extra": ["DNS:lb.example.com", "IP:192.0.2.0/24"],
     "host_cas": [["harbor1", "-----BEGIN CERTIFICATE-----..."], ["harbor2", ""]]}

Answer::

    {"exists": true,            # ca.crt is there
     "permitted": [...],        # the name constraints a CA made now gets (sorted; the
     "excluded": [...],         #   current ones are kept when the CA exists)
     "problems": [...],         # why the current CA does not fit (empty: it fits)
     "host_problems": [...],    # hosts whose installed ca.crt is another CA
     "current": {"permitted": [...], "excluded": [...], "critical": true}}

A name is covered by a ``DNS:`` subtree when it equals it or is below it (``DNS:.x``:
below only), as RFC 5280 and OpenSSL read it; an address when it is in an ``IP:``
subtree of its family. A CA with no ``IP:`` subtree gets ``IP:0.0.0.0/0`` and
``IP:::/0`` excluded, since a type without permitted subtrees is not constrained.
Exit status 2 (message on stderr) on a request that cannot be read.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

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


def _not_after(cert):
    try:
        return cert.not_valid_after_utc
    except AttributeError:  # cryptography < 42
        return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _cn(cert):
    values = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return values[0].value if values else ""


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
        key_data = _read(request.get("ca_key") or "")
        if key_data is not None:
            try:
                key = serialization.load_pem_private_key(key_data, password=None)
            except (ValueError, TypeError):
                key = None
            if key is None or _spki(key.public_key()) != _spki(ca.public_key()):
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
