"""The certs role's reruns, whole role (validate, generate, install) on localhost, as root.

A converged rerun reads (certs_dir on the host, the PKI directory through files/ca_check.py) and runs
no key, CSR, signing or copy task but the key's copy; the server certificate is signed again only
when it must change (other names, expiring within certs_renew_before_days, certs_force_renew, another
CA, another key), and a missing server key gives a new key and a new certificate. One
ansible-playbook run (JSON callback) per case, in order, in one temporary directory (ECC keys, no
facts). The copies to certs_dir are owned by root: the module is skipped when not run as root.
"""

import datetime
import json
import os
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the role copies files owned by root to certs_dir")

PLAY = """\
- name: The certs role, whole
  hosts: all
  gather_facts: false
  roles:
    - role: harbor.deploy.certs
"""

# A converged rerun runs these tasks, and no other (the prefixes of their names).
CONVERGED = [
    "Validating arguments against arg spec 'main'",
    "Check the number and yes/no variables",
    "Check the cross-field rules of the certificate variables",
    "Work out this host's names",
    "Check that every Harbor host of the run uses one PKI directory",
    "Read what this Harbor host already has in certs_dir",
    "Read the controller PKI directory, compare the CA",
    "Check that the CA fits every Harbor host of the run",
    "Check the PKI directory is 0700 and the keys 0600",
    "Name the files to install",
    "Copy the server key",
    "Publish the certificate paths",
]
SIGN = "Sign the server certificate with the CA"
CSR = "Make the server certificate's signing request"
SERVER_KEY = "Create the server key"
CA_KEY = "Create the CA key"
COPY_CRT = "Copy the server certificate"
REREAD = "Read the modes of the keys in the PKI directory again"
NOW = datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("certs_rerun")
    (top / "play.yml").write_text(PLAY)
    (top / "vars.json").write_text(json.dumps({
        "certs_hostname": "harbor.test", "certs_ip_addresses": ["192.0.2.7"], "certs_key_type": "ECC",
        "certs_pki_dir": str(top / "pki"), "certs_dir": str(top / "host")}))
    return top


class Run:
    """One ansible-playbook run: its recap and each task's status, by the task's name without the role."""

    def __init__(self, site, *extra):
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCAL_TEMP=str(site / "tmp"),
                   ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                   str(site / "play.yml"), "-e", "ansible_python_interpreter=" + sys.executable,
                   "-e", "@" + str(site / "vars.json")] + list(extra)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False,
                              preexec_fn=lambda: os.umask(0o022))
        self.text = done.stdout[-3000:] + done.stderr[-2000:]
        assert done.returncode == 0, self.text
        result = json.loads(done.stdout)
        self.stats = result["stats"]["localhost"]
        self.tasks = []
        for play in result["plays"]:
            for task in play["tasks"]:
                host = task["hosts"]["localhost"]
                status = "skipped" if host.get("skipped") else "changed" if host.get("changed") else "ok"
                self.tasks.append((task["task"]["name"].split(" : ", 1)[-1], status, host))

    def status(self, prefix):
        found = [status for name, status, _ in self.tasks if name.startswith(prefix)]
        assert len(found) == 1, (prefix, found, self.text)
        return found[0]

    def ran(self):
        return [name for name, status, _ in self.tasks if status != "skipped"]

    def shown(self):
        return [host["msg"] for name, status, host in self.tasks if name == "Show the new server certificate" and status == "ok"]


def cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def spki(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_key(path):
    return serialization.load_pem_private_key(path.read_bytes(), None)


def resign(site, *, days=None, sans=None):
    """Sign harbor.test.crt again with the CA outside the role: the same request and key but for what is changed."""
    pki = site / "pki"
    old, ca = cert(pki / "harbor.test.crt"), cert(pki / "ca.crt")
    builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(ca.subject).public_key(old.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(NOW - datetime.timedelta(days=1))
               .not_valid_after(NOW + datetime.timedelta(days=days or 300)))
    for ext in old.extensions:
        value = ext.value
        if isinstance(value, x509.SubjectAlternativeName) and sans is not None:
            value = x509.SubjectAlternativeName([x509.DNSName(n) for n in sans])
        builder = builder.add_extension(value, critical=ext.critical)
    signed = builder.sign(pem_key(pki / "ca.key"), hashes.SHA256())
    (pki / "harbor.test.crt").write_bytes(signed.public_bytes(serialization.Encoding.PEM))


def assert_signed_again(site, run, before, key_before):
    """Only the server certificate changed (and its copy on the host): same key, the CA's, the request's names."""
    pki = site / "pki"
    after = cert(pki / "harbor.test.crt")
    assert run.status(SIGN) == "changed" and run.status(SERVER_KEY) == "skipped", run.text
    assert run.status(COPY_CRT) == "changed"
    assert run.stats["changed"] == 2, run.text
    assert after.serial_number != before.serial_number
    assert (pki / "harbor.test.key").read_bytes() == key_before
    assert spki(after.public_key()) == spki(pem_key(pki / "harbor.test.key").public_key())
    after.verify_directly_issued_by(cert(pki / "ca.crt"))
    assert after.not_valid_after_utc > NOW + datetime.timedelta(days=300)
    sans = after.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(n.value) for n in sans] == ["harbor.test", "192.0.2.7"]
    assert (site / "host" / "harbor.crt").read_bytes() == (pki / "harbor.test.crt").read_bytes()
    assert len(run.shown()) == 1


def test_1_first_run_makes_the_ca_the_key_the_certificate_and_copies_them(site):
    run = Run(site)
    for prefix in [CA_KEY, SERVER_KEY, SIGN, COPY_CRT, "Copy the server key", "Copy the CA certificate"]:
        assert run.status(prefix) == "changed", prefix
    assert run.status(REREAD) == "ok"
    host = site / "host"
    assert (host / "harbor.crt").read_bytes() == (site / "pki" / "harbor.test.crt").read_bytes()
    assert (host / "ca.crt").read_bytes() == (site / "pki" / "ca.crt").read_bytes()
    assert oct((host / "harbor.key").stat().st_mode & 0o777) == "0o600"


def test_2_a_converged_rerun_reads_and_signs_nothing(site):
    pki, host = site / "pki", site / "host"
    files = [pki / "harbor.test.crt", pki / "harbor.test.key", pki / "ca.crt", pki / "ca.key",
             host / "harbor.crt", host / "harbor.key", host / "ca.crt"]
    before = {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in files}
    serial = cert(pki / "harbor.test.crt").serial_number
    run = Run(site)
    assert run.stats["changed"] == 0 and run.stats["failures"] == 0, run.text
    ran = run.ran()
    assert len(ran) == len(CONVERGED) and all(name.startswith(prefix) for name, prefix in zip(ran, CONVERGED)), ran
    for prefix in [CA_KEY, SERVER_KEY, CSR, SIGN, "Create the controller PKI directory", REREAD,
                   "Create the certificate directory on the Harbor host", COPY_CRT, "Copy the CA certificate"]:
        assert run.status(prefix) == "skipped", prefix
    assert {path: (path.stat().st_mtime_ns, path.read_bytes()) for path in files} == before
    assert cert(pki / "harbor.test.crt").serial_number == serial


def test_3_a_converged_rerun_in_check_mode_changes_nothing(site):
    run = Run(site, "--check", "--diff")
    assert run.stats["changed"] == 0 and run.stats["failures"] == 0, run.text
    assert run.status(SIGN) == "skipped" and run.status(SERVER_KEY) == "skipped"


# (a certificate of another CA, or with other identifiers: test_certs_ca_check.py, without Ansible)
@pytest.mark.parametrize("case", ["other-sans", "near-expiry", "force-renew"])
def test_4_a_certificate_that_must_change_is_signed_again_with_the_same_key(site, case):
    pki = site / "pki"
    extra = []
    if case == "other-sans":
        resign(site, sans=["harbor.test"])
    elif case == "near-expiry":
        resign(site, days=10)   # certs_renew_before_days: 30
    else:
        extra = ["-e", "certs_force_renew=true"]
    before, key_before = cert(pki / "harbor.test.crt"), (pki / "harbor.test.key").read_bytes()
    run = Run(site, *extra)
    assert_signed_again(site, run, before, key_before)


def test_5_a_missing_server_key_gives_a_new_key_and_a_new_certificate(site):
    pki = site / "pki"
    old_key = pem_key(pki / "harbor.test.key")
    (pki / "harbor.test.key").unlink()
    run = Run(site)
    assert run.status(SERVER_KEY) == "changed" and run.status(SIGN) == "changed", run.text
    assert run.status(REREAD) == "ok"   # a key was made: its mode is read again
    new_key = pem_key(pki / "harbor.test.key")
    assert spki(new_key.public_key()) != spki(old_key.public_key())
    assert spki(cert(pki / "harbor.test.crt").public_key()) == spki(new_key.public_key())
    assert oct((pki / "harbor.test.key").stat().st_mode & 0o777) == "0o600"
    assert (site / "host" / "harbor.key").read_bytes() == (pki / "harbor.test.key").read_bytes()
    assert (site / "host" / "harbor.crt").read_bytes() == (pki / "harbor.test.crt").read_bytes()


def test_6_a_replaced_server_key_gets_a_new_certificate(site):
    pki = site / "pki"
    other = ec.generate_private_key(ec.SECP256R1())
    (pki / "harbor.test.key").write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    run = Run(site)
    assert run.status(SERVER_KEY) == "skipped" and run.status(SIGN) == "changed", run.text
    assert spki(cert(pki / "harbor.test.crt").public_key()) == spki(other.public_key())
    assert any("its public key is not the server key's" in msg for msg in run.shown())


def test_7_a_key_with_another_mode_gets_0600_and_nothing_is_signed(site):
    pki = site / "pki"
    serial = cert(pki / "harbor.test.crt").serial_number
    (pki / "ca.key").chmod(0o644)
    run = Run(site)
    assert run.status(CA_KEY) == "changed" and run.status(SIGN) == "skipped" and run.status(REREAD) == "ok", run.text
    assert run.stats["changed"] == 1
    assert oct((pki / "ca.key").stat().st_mode & 0o777) == "0o600"
    assert cert(pki / "harbor.test.crt").serial_number == serial
