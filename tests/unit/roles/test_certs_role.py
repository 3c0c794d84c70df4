"""The certs role's controller side (validate + generate) on localhost, under umask 022.

One real ansible-playbook run after another in one temporary directory (ECC keys, no facts:
a few seconds each): the CA gets critical name constraints, the PKI directory is 0700 and the
keys 0600, and -e certs_renew_before_days=400 (a string) renews the server certificate with a new
serial and the same key and changes nothing else. Two runs, to stay fast; the CA checks themselves
(reissue, hosts with another CA) are tested in test_certs_ca_check.py, without Ansible.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store

PLAY = """\
- name: The certs role's controller side
  hosts: all
  gather_facts: false
  tasks:
    - name: Validate
      ansible.builtin.include_role:
        name: harbor.deploy.certs
        tasks_from: validate.yml
    - name: Generate
      ansible.builtin.include_role:
        name: harbor.deploy.certs
        tasks_from: generate.yml
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("certs")
    (top / "play.yml").write_text(PLAY)
    (top / "home").mkdir()
    return top


def play(site, *extra):
    env = dict(os.environ, HOME=str(site / "home"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_LOCAL_TEMP=str(site / "tmp"))
    env.pop("XDG_DATA_HOME", None)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               str(site / "play.yml"), "-e", "ansible_python_interpreter=" + sys.executable,
               "-e", "certs_hostname=harbor.test", "-e", "certs_dir=" + str(site / "host"),
               "-e", "certs_key_type=ECC", "-e", '{"certs_ip_addresses": ["192.0.2.7"]}'] + list(extra)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False,
                          preexec_fn=lambda: os.umask(0o022))


def recap(run):
    match = re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=(\d+)", run.stdout)
    assert match, run.stdout[-3000:] + run.stderr
    return int(match.group(1)), int(match.group(2))


def pki(site):
    dirs = list((site / "home" / ".local" / "share" / "harbor-deploy" / "pki").iterdir())
    assert len(dirs) == 1 and dirs[0].name.startswith(site.name + "-"), dirs
    return dirs[0]


def cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_1_first_run_makes_a_name_constrained_ca_in_a_private_directory(site):
    run = play(site)
    changed, failed = recap(run)
    assert failed == 0 and changed > 0, run.stdout[-3000:]
    top = pki(site)
    for path in [top.parent, top]:
        assert oct(path.stat().st_mode & 0o777) == "0o700", path
    for name in ["ca.key", "harbor.test.key"]:
        assert oct((top / name).stat().st_mode & 0o777) == "0o600", name
    ca = cert(top / "ca.crt")
    nc = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert nc.critical
    assert sorted(str(n.value) for n in nc.value.permitted_subtrees) == ["192.0.2.7/32", "harbor.test"]
    assert nc.value.excluded_subtrees is None
    leaf = cert(top / "harbor.test.crt")
    for name in [x509.DNSName("harbor.test"), x509.IPAddress(__import__("ipaddress").ip_address("192.0.2.7"))]:
        PolicyBuilder().store(Store([ca])).build_server_verifier(name).verify(leaf, [])


def test_2_renew_before_days_from_the_command_line_renews_keeping_the_key_and_nothing_else(site):
    """-e gives a string; only the server certificate changes (so the rest of a rerun is idempotent)."""
    top = pki(site)
    before, key, ca = cert(top / "harbor.test.crt"), (top / "harbor.test.key").read_bytes(), (top / "ca.crt").read_bytes()
    run = play(site, "-e", "certs_renew_before_days=400")
    assert recap(run) == (1, 0), run.stdout[-3000:]
    assert "is not less than certs_valid_days" in run.stdout
    after = cert(top / "harbor.test.crt")
    assert after.serial_number != before.serial_number and after.public_key() == before.public_key()
    assert (top / "harbor.test.key").read_bytes() == key and (top / "ca.crt").read_bytes() == ca
    serial = after.serial_number.to_bytes((after.serial_number.bit_length() + 7) // 8, "big")
    assert "serial %s," % ":".join("%02X" % b for b in serial) in run.stdout  # the renewal is shown
