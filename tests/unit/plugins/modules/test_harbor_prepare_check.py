"""harbor_prepare_check against real files: certificates and keys made here with cryptography."""

import datetime
import hashlib
import json
import os
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.harbor.deploy.plugins.module_utils import _prepare_check as pc
from ansible_collections.harbor.deploy.plugins.modules import harbor_prepare_check

NOW = datetime.datetime.now(datetime.timezone.utc)
ROOT = os.geteuid() == 0
INTERNAL = ["core", "job_service", "portal", "proxy", "registry", "registryctl"]


def new_key():
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def cert_pem(key, cn="harbor.example.com", san=True, issuer_key=None):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
               .not_valid_after(NOW + datetime.timedelta(days=30)))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def write(path, data, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)
    return str(path)


@pytest.fixture
def pair(tmp_path):
    key = new_key()
    return (write(tmp_path / "tls" / "harbor.crt", cert_pem(key)),
            write(tmp_path / "tls" / "harbor.key", key_pem(key), 0o600))


def https(cert, key):
    return {"hostname": "harbor.example.com", "https": {"port": 443, "certificate": cert, "private_key": key}}


def internal_dir(tmp_path, names=INTERNAL + ["harbor_db"]):
    directory = tmp_path / "internal"
    ca_key = new_key()
    write(directory / "harbor_internal_ca.crt", cert_pem(ca_key, "Harbor internal CA", san=False))
    for name in names:
        key = new_key()
        write(directory / (name + ".crt"), cert_pem(key, name, issuer_key=ca_key))
        write(directory / (name + ".key"), key_pem(key), 0o600)
    return directory


def errors(run_module, config, **extra):
    failed, result = run_module(harbor_prepare_check, dict({"config": config}, **extra))
    assert failed == bool(result["errors"]), result
    assert result["changed"] is False
    return result["errors"]


# ---- https ------------------------------------------------------------------------------------------

def test_nothing_to_check_is_fine(run_module):
    failed, result = run_module(harbor_prepare_check, {"config": {"hostname": "h", "http": {"port": 80}}})
    assert not failed and result["errors"] == [] and result["files"] == [] and result["checksums"] == {}
    assert result["crypto"] == "cryptography"


def test_a_matching_certificate_and_key_pass_and_are_hashed(run_module, pair):
    cert, key = pair
    failed, result = run_module(harbor_prepare_check, {"config": https(cert, key)})
    assert not failed, result
    assert result["checksums"] == {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in (cert, key)}
    assert result["files"] == [{"key": "https.certificate", "path": cert}, {"key": "https.private_key", "path": key}]


def test_check_mode_checks_the_same_but_only_warns(run_module, pair, tmp_path):
    failed, result = run_module(harbor_prepare_check, {"config": https(pair[0], str(tmp_path / "nope.key"))},
                                check_mode=True)
    assert not failed and result["changed"] is False
    assert result["errors"] == ["https.private_key: %s does not exist" % (tmp_path / "nope.key")]
    assert "check mode, not failing: Files harbor.yml names for prepare: https.private_key:" in json.dumps(
        result["warnings"])


def test_https_needs_both_paths(run_module):
    assert errors(run_module, {"https": {"port": 443}}) == [
        "https.certificate: is required when https is set", "https.private_key: is required when https is set"]


def test_missing_files_are_named(run_module, tmp_path):
    cert, key = str(tmp_path / "a.crt"), str(tmp_path / "a.key")
    assert errors(run_module, https(cert, key)) == ["https.certificate: %s does not exist" % cert,
                                                    "https.private_key: %s does not exist" % key]


def test_a_relative_path_is_refused(run_module, pair):
    assert errors(run_module, https("tls/harbor.crt", pair[1])) == [
        "https.certificate: tls/harbor.crt must be an absolute path on the Harbor host"]


def test_a_directory_is_not_a_file(run_module, pair, tmp_path):
    assert errors(run_module, https(str(tmp_path), pair[1])) == [
        "https.certificate: %s is not a regular file" % tmp_path]


def test_an_unreadable_file_is_named(run_module, pair, monkeypatch):
    real_open = open

    def deny(path, *args, **kwargs):
        if path == pair[1]:
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(pc, "open", deny, raising=False)
    assert errors(run_module, https(*pair)) == [
        "https.private_key: %s cannot be read (Permission denied)" % pair[1]]


@pytest.mark.parametrize("content, message", [
    (b"hello\n", "does not hold a PEM certificate (no BEGIN CERTIFICATE line)"),
    (b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", "is not a valid PEM certificate"),
], ids=["no-pem", "broken-pem"])
def test_a_certificate_that_is_not_one_is_named(run_module, pair, tmp_path, content, message):
    bad = write(tmp_path / "bad.crt", content)
    found = errors(run_module, https(bad, pair[1]))
    assert len(found) == 1 and found[0].startswith("https.certificate: %s %s" % (bad, message)), found


@pytest.mark.parametrize("content, message", [
    (b"hello\n", "does not hold a PEM private key (no BEGIN PRIVATE KEY line)"),
    (key_pem(new_key(), b"secret"), "is an encrypted private key"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "is not a valid PEM private key"),
], ids=["no-pem", "encrypted", "broken-pem"])
def test_a_key_that_is_not_usable_is_named(run_module, pair, tmp_path, content, message):
    bad = write(tmp_path / "bad.key", content, 0o600)
    found = errors(run_module, https(pair[0], bad))
    assert len(found) == 1 and found[0].startswith("https.private_key: %s %s" % (bad, message)), found


def test_a_key_of_another_certificate_is_named(run_module, pair, tmp_path):
    other = write(tmp_path / "other.key", key_pem(new_key()), 0o600)
    assert errors(run_module, https(pair[0], other)) == [
        "https.private_key: %s is not the key of %s" % (other, pair[0])]


def test_an_absolute_symlink_on_the_way_is_refused_a_relative_one_is_fine(run_module, pair, tmp_path):
    (tmp_path / "abs").symlink_to(tmp_path / "tls")  # absolute target
    (tmp_path / "rel").symlink_to("tls")
    (tmp_path / "tls" / "chain.crt").symlink_to("harbor.crt")
    assert errors(run_module, https(str(tmp_path / "rel" / "chain.crt"), str(tmp_path / "rel" / "harbor.key"))) == []
    found = errors(run_module, https(str(tmp_path / "abs" / "harbor.crt"), pair[1]))
    assert found == ["https.certificate: %s goes through the symlink %s -> %s; prepare reads the host under /hostfs "
                     "in its container, where an absolute link points into the container: use the real path"
                     % (tmp_path / "abs" / "harbor.crt", tmp_path / "abs", tmp_path / "tls")]


# ---- storage_service.ca_bundle ----------------------------------------------------------------------

def bundle(path):
    return {"storage_service": {"ca_bundle": path, "s3": {"bucket": "b"}}}


def test_a_ca_bundle_readable_by_others_passes_and_one_only_root_reads_does_not(run_module, tmp_path):
    path = write(tmp_path / "ca.pem", cert_pem(new_key(), "Storage CA"), 0o644)
    assert errors(run_module, bundle(path)) == []
    os.chmod(path, 0o600)
    found = errors(run_module, bundle(path))
    assert found == ["storage_service.ca_bundle: %s (owner uid %d, mode 0600) must be owned by uid 10000 with the "
                     "owner read bit, or be readable by others (for example 0644): prepare refuses it"
                     % (path, os.getuid())]


@pytest.mark.skipif(not ROOT, reason="chown to uid 10000 needs root")
@pytest.mark.parametrize("mode, ok", [(0o400, True), (0o004, False)], ids=["owner-read", "other-read-only"])
def test_a_ca_bundle_owned_by_10000_needs_the_owner_read_bit(run_module, tmp_path, mode, ok):
    path = write(tmp_path / "ca.pem", cert_pem(new_key(), "Storage CA"), mode)
    os.chown(path, 10000, 10000)
    assert (errors(run_module, bundle(path)) == []) == ok


def test_a_missing_ca_bundle_is_named(run_module, tmp_path):
    assert errors(run_module, bundle(str(tmp_path / "no.pem"))) == [
        "storage_service.ca_bundle: %s does not exist" % (tmp_path / "no.pem")]


def test_a_ca_bundle_that_is_no_certificate_is_named(run_module, tmp_path):
    path = write(tmp_path / "ca.pem", b"nothing\n")
    assert errors(run_module, bundle(path)) == [
        "storage_service.ca_bundle: %s does not hold a PEM certificate (no BEGIN CERTIFICATE line)" % path]


# ---- internal_tls ----------------------------------------------------------------------------------

def internal(directory, **extra):
    return dict({"internal_tls": {"enabled": True, "dir": str(directory)}}, **extra)


def test_a_complete_internal_tls_dir_passes(run_module, tmp_path):
    failed, result = run_module(harbor_prepare_check, {"config": internal(internal_dir(tmp_path))})
    assert not failed, result
    assert len(result["checksums"]) == 1 + 2 * 7


def test_internal_tls_needs_its_dir(run_module, tmp_path):
    assert errors(run_module, {"internal_tls": {"enabled": True}}) == [
        "internal_tls.dir: is required when internal_tls.enabled is true"]
    assert errors(run_module, internal(tmp_path / "nope")) == [
        "internal_tls.dir: %s is not a directory" % (tmp_path / "nope")]
    assert errors(run_module, {"internal_tls": {"enabled": False, "dir": str(tmp_path / "nope")}}) == []


def test_every_file_prepare_expects_is_named_when_missing(run_module, tmp_path):
    directory = internal_dir(tmp_path, names=[n for n in INTERNAL if n != "portal"])  # and no harbor_db
    found = errors(run_module, internal(directory), with_trivy=True)
    missing = sorted(["harbor_db", "portal", "trivy_adapter"])
    assert found == ["internal_tls.dir: %s does not exist" % (directory / (n + ext)) for n in missing for ext in (".crt", ".key")]
    # harbor_db only without external_database; trivy_adapter only with --with-trivy
    found = errors(run_module, internal(directory, external_database={"harbor": {"host": "db"}}))
    assert found == ["internal_tls.dir: %s does not exist" % (directory / ("portal" + ext)) for ext in (".crt", ".key")]


def test_the_internal_ca_is_needed_too(run_module, tmp_path):
    directory = internal_dir(tmp_path)
    os.remove(directory / "harbor_internal_ca.crt")
    assert errors(run_module, internal(directory)) == [
        "internal_tls.dir: %s does not exist" % (directory / "harbor_internal_ca.crt")]


def assert_core_without_san_is_named(run_module, tmp_path):
    """internal_tls with core.crt lacking a SAN: the one error names that file."""
    directory = internal_dir(tmp_path)
    key = new_key()
    write(directory / "core.crt", cert_pem(key, "core", san=False))
    write(directory / "core.key", key_pem(key), 0o600)
    assert errors(run_module, internal(directory)) == [
        "internal_tls.dir: %s has no subjectAltName; prepare refuses it" % (directory / "core.crt")]


def test_an_internal_certificate_without_san_is_named_but_the_ca_needs_none(run_module, tmp_path):
    assert_core_without_san_is_named(run_module, tmp_path)


def test_an_internal_key_of_another_certificate_is_named(run_module, tmp_path):
    directory = internal_dir(tmp_path)
    shutil.copy(directory / "portal.key", directory / "core.key")
    assert errors(run_module, internal(directory)) == [
        "internal_tls.dir: %s is not the key of %s" % (directory / "core.key", directory / "core.crt")]


def test_a_symlink_in_the_internal_dir_is_refused(run_module, tmp_path):
    directory = internal_dir(tmp_path)
    os.rename(directory / "core.crt", tmp_path / "core.crt")
    (directory / "core.crt").symlink_to("../core.crt")
    found = errors(run_module, internal(directory))
    assert len(found) == 1 and found[0].startswith("internal_tls.dir: %s is a symlink" % (directory / "core.crt"))


# ---- external_redis.tlsOptions.rootCA, uaa.ca_file --------------------------------------------------

def redis(tls):
    return {"external_redis": {"host": "redis:6379", "password": "r3dis-Pass", "tlsOptions": tls}}


def test_redis_root_ca(run_module, tmp_path):
    ca = write(tmp_path / "redis-ca.pem", cert_pem(new_key(), "Redis CA"))
    assert errors(run_module, redis({"enable": True, "rootCA": ca})) == []
    assert errors(run_module, redis({"enable": True})) == [
        "external_redis.tlsOptions.rootCA: is required when external_redis.tlsOptions.enable is true"]
    assert errors(run_module, redis({"enable": True, "rootCA": ca + ".x"})) == [
        "external_redis.tlsOptions.rootCA: %s.x does not exist" % ca]
    # not read when TLS is off, nor before v2.13 (no tlsOptions then)
    assert errors(run_module, redis({"enable": False, "rootCA": ca + ".x"})) == []
    assert errors(run_module, redis({"enable": True}), version="v2.12.4") == []
    assert errors(run_module, redis({"enable": True}), version="v2.13.0") != []


def test_uaa_ca_file(run_module, tmp_path):
    ca = write(tmp_path / "uaa.pem", cert_pem(new_key(), "UAA CA"), 0o644)
    assert errors(run_module, {"uaa": {"ca_file": ca}}) == []
    os.chmod(ca, 0o600)
    found = errors(run_module, {"uaa": {"ca_file": ca}})
    assert len(found) == 1 and found[0].startswith("uaa.ca_file: %s (owner" % ca) and "uid 10000" in found[0]
    assert errors(run_module, {"uaa": {"ca_file": ca + ".x"}}) == ["uaa.ca_file: %s.x does not exist" % ca]


# ---- every error at once, secrets, backends -----------------------------------------------------------

def test_all_errors_are_joined_in_the_message(run_module, pair, tmp_path):
    config = dict(https(pair[0], str(tmp_path / "x.key")), **bundle(str(tmp_path / "no.pem")))
    failed, result = run_module(harbor_prepare_check, {"config": config})
    assert failed and len(result["errors"]) == 2
    assert result["msg"] == "Files harbor.yml names for prepare: " + "; ".join(result["errors"])


def test_secrets_never_show_and_other_values_do_not_mangle_paths(run_module, tmp_path):
    key = new_key()
    secret = "Sup3r-Secret"
    tls = tmp_path / ("db1-" + secret)  # a path that holds the password (and "db", and "1")
    cert = write(tls / "harbor.crt", cert_pem(key))
    config = dict(https(cert, str(tls / "missing.key")), harbor_admin_password=secret,
                  database={"password": "x-" + secret, "max_idle_conns": 1}, core={"quota_update_provider": "db"},
                  proxy={"http_proxy": "http://bob:pr0xy-pw@proxy:3128"}, jobservice={"max_job_workers": 1})
    failed, result = run_module(harbor_prepare_check, {"config": config})
    text = str(result)
    assert failed and secret not in text and "pr0xy-pw" not in text
    assert result["errors"] == ["https.private_key: %s/missing.key does not exist" % str(tls).replace(secret, "********")]
    assert result["invocation"]["module_args"]["config"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert all(len(v) == 64 for v in result["checksums"].values())  # digits of the digest were not masked


def test_secret_values_are_the_secret_leaves_only():
    found = pc.secret_values({"harbor_admin_password": "a", "database": {"password": "b", "max_open_conns": 900},
                              "storage_service": {"s3": {"accesskey": "c", "secretkey": "d", "region": "e"}},
                              "https": {"private_key": "/k"}, "external_redis": {"password": 7},
                              "proxy": {"https_proxy": "http://u:p@h:1", "no_proxy": "x"}, "log": {"level": "info"}})
    assert found == {"a", "b", "c", "d", "7", "u:p"}


@pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl binary")
def test_the_openssl_binary_does_the_deep_checks_without_cryptography(run_module, pair, tmp_path, monkeypatch):
    monkeypatch.setattr(pc, "HAS_CRYPTOGRAPHY", False)
    failed, result = run_module(harbor_prepare_check, {"config": https(*pair)})
    assert not failed and result["crypto"] == "openssl", result
    other = write(tmp_path / "other.key", key_pem(new_key()), 0o600)
    broken = write(tmp_path / "broken.key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 0o600)
    assert errors(run_module, https(pair[0], other)) == ["https.private_key: %s is not the key of %s" % (other, pair[0])]
    found = errors(run_module, https(pair[0], broken))
    assert len(found) == 1 and "is not a valid, unencrypted PEM private key (openssl: " in found[0]
    assert_core_without_san_is_named(run_module, tmp_path)


def test_without_cryptography_nor_openssl_only_markers_are_checked_and_it_says_so(run_module, pair, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setattr(pc, "HAS_CRYPTOGRAPHY", False)
    monkeypatch.setattr(harbor_prepare_check.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    other = write(tmp_path / "other.key", key_pem(new_key()), 0o600)
    failed, result = run_module(harbor_prepare_check, {"config": https(pair[0], other)})
    assert not failed and result["crypto"] == "none"
    assert "Neither the python cryptography package nor the openssl binary" in json.dumps(result["warnings"])
    assert errors(run_module, https(pair[0], str(tmp_path / "x.key"))) == [
        "https.private_key: %s does not exist" % (tmp_path / "x.key")]
    assert errors(run_module, https(write(tmp_path / "n.crt", b"no\n"), other)) == [
        "https.certificate: %s does not hold a PEM certificate (no BEGIN CERTIFICATE line)" % (tmp_path / "n.crt")]
