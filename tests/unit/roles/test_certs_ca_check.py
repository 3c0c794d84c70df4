"""roles/certs/files/ca_check.py: does the controller's CA fit the Harbor hosts of a run?"""

import datetime
import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "certs" / "files" / "ca_check.py"
sys.path.insert(0, str(SCRIPT.parent))
sys.dont_write_bytecode, _WRITE = True, sys.dont_write_bytecode  # no __pycache__ in the role (it ships)
import ca_check  # noqa: E402  pylint: disable=wrong-import-position
sys.dont_write_bytecode = _WRITE
sys.path.remove(str(SCRIPT.parent))

NOW = datetime.datetime.now(datetime.timezone.utc)


def make_ca(tmp_path, name="ca", cn="Harbor deploy CA", permitted=None, excluded=None, critical=True, days=30, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=2)).not_valid_after(NOW + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True))
    if permitted is not None or excluded is not None:
        builder = builder.add_extension(x509.NameConstraints(_names(permitted), _names(excluded)), critical=critical)
    cert = builder.sign(key, hashes.SHA256())
    crt, pem_key = tmp_path / (name + ".crt"), tmp_path / (name + ".key")
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return crt, pem_key


def _names(entries):
    if entries is None:
        return None
    out = []
    for entry in entries:
        kind, value = entry.split(":", 1)
        out.append(x509.DNSName(value) if kind == "DNS" else x509.IPAddress(ipaddress.ip_network(value)))
    return out


def request(crt, key, **extra):
    return dict({"ca_cert": str(crt), "ca_key": str(key), "common_name": "Harbor deploy CA",
                 "dns": ["harbor.example.com"], "ip": ["192.0.2.10"], "extra": [], "host_cas": []}, **extra)


def test_no_ca_yet_wants_exactly_the_hosts_names(tmp_path):
    answer = ca_check.check(request(tmp_path / "ca.crt", tmp_path / "ca.key", dns=["Harbor.Example.com.", "*.apps.example.com"],
                                    ip=["192.0.2.10", "fd00:0::1"], extra=["DNS:.lb.example.com", "IP:10.1.2.3/16"]))
    assert answer["exists"] is False and answer["problems"] == [] and answer["host_problems"] == []
    assert answer["permitted"] == ["DNS:.lb.example.com", "DNS:apps.example.com", "DNS:harbor.example.com",
                                   "IP:10.1.0.0/16", "IP:192.0.2.10/32", "IP:fd00::1/128"]
    assert answer["excluded"] == []


def test_no_address_at_all_excludes_every_address(tmp_path):
    answer = ca_check.check(request(tmp_path / "ca.crt", tmp_path / "ca.key", ip=[]))
    assert answer["permitted"] == ["DNS:harbor.example.com"]
    assert answer["excluded"] == ["IP:0.0.0.0/0", "IP:::/0"]


def test_a_fitting_ca_has_no_problem(tmp_path):
    crt, key = make_ca(tmp_path, permitted=["DNS:harbor.example.com", "IP:192.0.2.10/32"])
    answer = ca_check.check(request(crt, key))
    assert answer["exists"] and answer["problems"] == []
    assert answer["current"] == {"permitted": ["DNS:harbor.example.com", "IP:192.0.2.10/32"], "excluded": [],
                                 "critical": True}


def test_a_ca_whose_subtrees_cover_the_names_fits(tmp_path):
    crt, key = make_ca(tmp_path, permitted=["DNS:example.com", "IP:192.0.2.0/24", "IP:fd00::/8"])
    answer = ca_check.check(request(crt, key, dns=["harbor.example.com", "*.apps.example.com"], ip=["192.0.2.10", "fd00::5"],
                                    extra=["DNS:lb.example.com", "IP:192.0.2.128/25"]))
    assert answer["problems"] == []
    # a re-issue would keep the current subtrees and add the exact names
    assert "DNS:example.com" in answer["permitted"] and "DNS:harbor.example.com" in answer["permitted"]


def test_a_ca_without_name_constraints_does_not_fit(tmp_path):
    crt, key = make_ca(tmp_path)
    answer = ca_check.check(request(crt, key))
    assert answer["problems"] == ["it has no name constraints (it may sign a certificate for any name)"]
    assert answer["permitted"] == ["DNS:harbor.example.com", "IP:192.0.2.10/32"]


@pytest.mark.parametrize("permitted, excluded, dns, ip, missing", [
    (["DNS:harbor.example.com"], None, ["harbor2.example.com"], [], "harbor2.example.com"),
    (["DNS:.example.com"], None, ["example.com"], [], "example.com"),  # a leading dot: only the names below
    (["DNS:harbor.example.com", "IP:192.0.2.10/32"], None, ["harbor.example.com"], ["192.0.2.11"], "192.0.2.11"),
    (["DNS:harbor.example.com", "IP:192.0.2.0/24"], None, ["harbor.example.com"], ["fd00::1"], "fd00::1"),
    (["DNS:harbor.example.com"], ["IP:0.0.0.0/0", "IP:::/0"], ["harbor.example.com"], ["192.0.2.10"], "192.0.2.10"),
    (["DNS:example.com"], ["DNS:bad.example.com"], ["x.bad.example.com"], [], "x.bad.example.com"),
], ids=["new-name", "dot-subtree", "new-address", "other-family", "excluded-addresses", "excluded-name"])
def test_a_name_the_constraints_do_not_permit_is_named(tmp_path, permitted, excluded, dns, ip, missing):
    crt, key = make_ca(tmp_path, permitted=permitted, excluded=excluded)
    answer = ca_check.check(request(crt, key, dns=dns, ip=ip))
    assert answer["problems"] == ["its name constraints do not permit " + missing]


def test_an_extra_subtree_wider_than_the_constraints_is_named(tmp_path):
    crt, key = make_ca(tmp_path, permitted=["DNS:harbor.example.com", "IP:192.0.2.0/24"])
    answer = ca_check.check(request(crt, key, extra=["IP:192.0.0.0/16", "DNS:lb.example.com", "IP:192.0.2.0/25"]))
    assert answer["problems"] == ["its name constraints do not permit IP:192.0.0.0/16, DNS:lb.example.com"]


@pytest.mark.parametrize("kwargs, problem", [
    ({"critical": False}, "its name constraints are not marked critical"),
    ({"cn": "Someone else"}, "its common name is 'Someone else', certs_ca_common_name is 'Harbor deploy CA'"),
    ({"days": -1}, "it expired on"),
])
def test_other_misfits_are_named(tmp_path, kwargs, problem):
    crt, key = make_ca(tmp_path, permitted=["DNS:harbor.example.com", "IP:192.0.2.10/32"], **kwargs)
    problems = ca_check.check(request(crt, key))["problems"]
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_a_key_that_is_not_the_cas_is_named(tmp_path):
    crt, _ = make_ca(tmp_path, permitted=["DNS:harbor.example.com", "IP:192.0.2.10/32"])
    _, other_key = make_ca(tmp_path, name="other", permitted=["DNS:x"])
    assert ca_check.check(request(crt, other_key))["problems"] == ["%s is not the key of %s" % (other_key, crt)]


def test_hosts_with_another_ca_are_named(tmp_path):
    crt, key = make_ca(tmp_path, permitted=["DNS:harbor.example.com", "IP:192.0.2.10/32"])
    other, _ = make_ca(tmp_path, name="other", cn="Other CA", permitted=["DNS:x"])
    # same key, new certificate (a re-issue) is the same CA for the hosts
    reissued, _ = make_ca(tmp_path, name="reissued", permitted=["DNS:harbor.example.com"],
                          key=serialization.load_pem_private_key(key.read_bytes(), None))
    hosts = [["h1", crt.read_text()], ["h2", other.read_text()], ["h3", ""], ["h4", reissued.read_text()],
             ["h5", "garbage"]]
    answer = ca_check.check(request(crt, key, host_cas=hosts))
    assert answer["problems"] == []
    assert answer["host_problems"] == ["h2 has another CA in certs_dir/ca.crt ('CN=Other CA') than %s" % crt]
    none = tmp_path / "none.crt"
    answer = ca_check.check(request(none, key, host_cas=hosts))
    assert answer["host_problems"] == [
        "%s already has the CA %r in certs_dir/ca.crt, and there is no %s on the controller" % (host, subject, none)
        for host, subject in [("h1", "CN=Harbor deploy CA"), ("h2", "CN=Other CA"), ("h4", "CN=Harbor deploy CA")]]


def run_script(payload):
    return subprocess.run([sys.executable, str(SCRIPT)], input=payload, capture_output=True, text=True, check=False)


def test_the_script_answers_json_and_refuses_a_bad_request(tmp_path):
    done = run_script(json.dumps(request(tmp_path / "ca.crt", tmp_path / "ca.key")))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["permitted"] == ["DNS:harbor.example.com", "IP:192.0.2.10/32"]
    for bad in (request(tmp_path / "ca.crt", tmp_path / "ca.key", extra=["EMAIL:x"]),
                request(tmp_path / "ca.crt", tmp_path / "ca.key", ip=["not-an-ip"]),
                request(tmp_path, tmp_path / "ca.key")):  # a directory
        done = run_script(json.dumps(bad))
        assert done.returncode == 2 and done.stderr.startswith("ca_check: ") and not done.stdout, done


# The server certificates: must one be signed (again)? The role's request is CN, SANs (DNS names first),
# extended key usage serverAuth and basic constraints CA:FALSE, none critical; community.crypto's
# x509_certificate (ownca) adds the subject and authority key identifiers.
def make_leaf(tmp_path, ca_crt, ca_key, name="harbor", cn="harbor.example.com", sans=("DNS:harbor.example.com", "IP:192.0.2.10"),
              days=300, key=None, eku=True, ski=True, aki=True, critical_san=False):
    key = key or ec.generate_private_key(ec.SECP256R1())
    ca = x509.load_pem_x509_certificate(ca_crt.read_bytes())
    signer = serialization.load_pem_private_key(ca_key.read_bytes(), None)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).issuer_name(ca.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n[4:]) if n.startswith("DNS:")
                                                           else x509.IPAddress(ipaddress.ip_address(n[3:])) for n in sans]),
                              critical=critical_san))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if aki:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False)
    crt, pem_key = tmp_path / (name + ".crt"), tmp_path / (name + ".key")
    crt.write_bytes(builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    pem_key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    pem_key.chmod(0o600)
    crt.chmod(0o644)
    return crt, pem_key


def want(crt, key, **extra):
    return dict({"key": str(key), "crt": str(crt), "cn": "harbor.example.com", "dns": ["harbor.example.com"],
                 "ip": ["192.0.2.10"], "renew_before_days": 30}, **extra)


def leaf_answer(ca_crt, ca_key, leaf_want):
    return ca_check.check(request(ca_crt, ca_key, leaves=[["h1", leaf_want]]))["leaves"]["h1"]


@pytest.fixture(name="ca")
def fixture_ca(tmp_path):
    return make_ca(tmp_path, permitted=["DNS:harbor.example.com", "IP:192.0.2.10/32"])


def test_a_certificate_as_the_role_signs_it_is_kept(tmp_path, ca):
    crt, key = make_leaf(tmp_path, *ca)
    assert leaf_answer(*ca, want(crt, key)) == {
        "key": {"exists": True, "mode": "0600", "readable": True}, "crt_mode": "0644", "renew": False, "reasons": []}


@pytest.mark.parametrize("leaf, wanted, reason", [
    ({"sans": ("DNS:harbor.example.com",)}, {}, "its subject alternative names are [DNS:harbor.example.com], "
                                                "not [DNS:harbor.example.com, IP:192.0.2.10]"),
    ({}, {"dns": ["harbor.example.com", "h1.example.com"]}, "its subject alternative names are"),
    # community.crypto compares the extension as a whole: another order is another request
    ({"sans": ("IP:192.0.2.10", "DNS:harbor.example.com")}, {}, "its subject alternative names are"),
    ({"critical_san": True}, {}, "its subject alternative names are"),
    ({"cn": "other.example.com"}, {}, "its subject is CN=other.example.com, not CN=harbor.example.com"),
    ({"eku": False}, {}, "its extensions are not those of the request"),
    ({"ski": False}, {}, "its subject key identifier is not its key's"),
    ({"aki": False}, {}, "its authority key identifier is not the CA's"),
], ids=["fewer-sans", "more-names-wanted", "san-order", "san-critical", "subject", "no-eku", "no-ski", "no-aki"])
def test_a_certificate_for_another_request_is_signed_again(tmp_path, ca, leaf, wanted, reason):
    crt, key = make_leaf(tmp_path, *ca, **leaf)
    answer = leaf_answer(*ca, want(crt, key, **wanted))
    assert len(answer["reasons"]) == 1 and answer["reasons"][0].startswith(reason), answer
    assert answer["renew"] is False


def test_a_certificate_expiring_within_renew_before_days_is_renewed(tmp_path, ca):
    crt, key = make_leaf(tmp_path, *ca, days=10)
    answer = leaf_answer(*ca, want(crt, key))
    assert answer["renew"] is True and answer["reasons"][0].startswith("it is not valid in 30 days"), answer
    assert leaf_answer(*ca, want(crt, key, renew_before_days=5))["reasons"] == []


def test_a_certificate_of_another_key_or_ca_is_signed_again(tmp_path, ca):
    crt, key = make_leaf(tmp_path, *ca)
    _, other_key = make_leaf(tmp_path, *ca, name="other")
    assert leaf_answer(*ca, want(crt, other_key))["reasons"] == ["its public key is not the server key's"]
    other_ca = make_ca(tmp_path, name="otherca", permitted=["DNS:harbor.example.com"])
    assert leaf_answer(*other_ca, want(crt, key))["reasons"] == ["it is not signed by the CA (CN=Harbor deploy CA)"]


def test_missing_or_broken_files_are_named(tmp_path, ca):
    crt, key = make_leaf(tmp_path, *ca)
    key.unlink()
    answer = leaf_answer(*ca, want(crt, key))
    assert answer["key"] == {"exists": False, "mode": None, "readable": False}
    assert answer["reasons"] == ["the server key is missing or unreadable"]
    key.write_text("not a key")
    key.chmod(0o644)
    assert leaf_answer(*ca, want(crt, key))["key"] == {"exists": True, "mode": "0644", "readable": False}
    crt.write_text("not a certificate")
    assert leaf_answer(*ca, want(crt, key))["reasons"] == ["it is not a PEM certificate"]
    crt.unlink()
    assert leaf_answer(*ca, want(crt, key))["reasons"] == ["there is no certificate yet"]
    assert leaf_answer(tmp_path / "none.crt", ca[1], want(crt, key))["reasons"] == [
        "there is no CA certificate yet", "there is no certificate yet"]


def test_the_pki_directory_and_its_keys_modes_are_read_as_find_lists_them(tmp_path, ca):
    crt, key = make_leaf(tmp_path, *ca)
    ca[1].chmod(0o644)
    (tmp_path / ".hidden.key").write_text("")
    (tmp_path / "link.key").symlink_to(key)
    (tmp_path / "sub.key").mkdir()
    tmp_path.chmod(0o750)
    answer = ca_check.check(request(*ca, pki=str(tmp_path)))
    assert answer["pki"] == {"exists": True, "dir": True, "mode": "0750",
                             "key_files": [{"path": str(ca[1]), "mode": "0644"}, {"path": str(key), "mode": "0600"}]}
    assert answer["ca_key"] == {"exists": True, "mode": "0644", "readable": True}
    assert answer["leaves"] == {}
    assert ca_check.check(request(*ca, pki=str(tmp_path / "none")))["pki"] == {
        "exists": False, "dir": False, "mode": None, "key_files": []}
    assert crt.exists()
