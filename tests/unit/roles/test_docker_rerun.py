"""The docker role's file work on localhost (daemon.json, the unit drop-in, the Compose plugin from a
controller file or from an offline bundle), every path moved under a temporary directory: a converged
rerun reads the host once (harbor.deploy.path_facts) and the controller once at most, and writes and
hashes nothing; drift (the drop-in's content or mode, a Compose binary rewritten in place with its
mtime put back) is written back; docker_compose_reverify hashes and changes nothing; a linked
daemon.json is read through its link; a daemon.json that is not a JSON object is refused with a
message naming it; compose.yml run alone reads what it needs itself; check mode on a new host changes
nothing.

Nothing reaches the host's Docker: /etc/docker/daemon.json and the drop-in are moved (-e
__docker_daemon_json, __docker_dropin), the handlers are off (docker_engine_state: stopped) and name
no real unit (__docker_service), and neither the packages nor the service are touched (only the
task files set_vars, daemon_json, dropin, bundle and compose run).

One ansible-playbook run per step (a few seconds each). Writes files owned by root: run as root.
"""

import hashlib
import json
import os
import stat

import pytest

from _ansible_run import ansible_playbook
from _bundle_docker_output import ran, recap, rewrite_keeping_mtime, skipped

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="writes root-owned files")


def _include(name):
    return f"""
    - name: Run {name}.yml
      ansible.builtin.include_role:
        name: harbor.deploy.docker
        tasks_from: {name}
      when: "'{name}' in steps"
"""


PLAY = """\
- name: The docker role's files
  hosts: all
  gather_facts: false
  tasks:""" + "".join(_include(name) for name in ["set_vars", "daemon_json", "dropin", "bundle", "compose"])

HASH = "Compute the installed Compose binary's checksum"
READ = "Read daemon.json, the drop-in and the Compose binary on the host"
CONTROLLER = "Read the size and mtime of the controller's Compose binary"
DECIDE = "Decide whether the record still vouches for the installed binary"
SET_VARS = ["Gather the facts the role needs", "Load the OS data",
            "Set the values derived from the variables and the OS data", "Check the rules that depend on the OS"]
# What a converged rerun of these files runs: one host round trip, one controller stat, no write.
CONVERGED = SET_VARS + [
    "Validating arguments against arg spec 'daemon_json' - Merge keys into /etc/docker/daemon.json (for other roles).",
    READ,
    "Parse the existing daemon.json and merge the role's keys into it",
    "Check that the existing daemon.json is a JSON object",
    CONTROLLER,
    DECIDE,
]
FILES = ["set_vars", "daemon_json", "dropin", "compose"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("docker")
    (top / "play.yml").write_text(PLAY)
    (top / "ctl").mkdir()
    compose = top / "ctl" / "docker-compose"
    compose.write_bytes(os.urandom(200000))
    compose.chmod(0o755)
    kit = top / "kit"
    kit.mkdir()
    (kit / "docker.io_1_amd64.deb").write_bytes(b"not a real package")
    (kit / "docker-compose").write_bytes(compose.read_bytes())
    (kit / "SHA256SUMS").write_text("".join(
        "%s  %s\n" % (hashlib.sha256((kit / name).read_bytes()).hexdigest(), name)
        for name in ["docker.io_1_amd64.deb", "docker-compose"]))
    return top


def values(site, host="host", steps=FILES, **more):
    root = site / host
    compose = site / "ctl" / "docker-compose"
    return dict({
        "steps": steps,
        "__docker_daemon_json": str(root / "etc" / "docker" / "daemon.json"),
        "__docker_dropin": str(root / "etc" / "systemd" / "docker.service.d" / "10-harbor-deploy.conf"),
        "__docker_service": "harbor-deploy-test-no-such-unit",
        "docker_engine_state": "stopped",
        "docker_compose_plugin_dir": str(root / "cli-plugins"),
        "docker_compose_src": str(compose),
        "docker_compose_checksum": "sha256:" + hashlib.sha256(compose.read_bytes()).hexdigest(),
        "docker_daemon_json": {"log-driver": "json-file", "log-opts": {"max-size": "10m"}},
        "docker_service_options": {"LimitNOFILE": 16384},
    }, **more)


def play(site, *extra, **more):
    rc, out = ansible_playbook(site, values(site, **more), *extra)
    assert rc == 0, out
    return out


def host(site, *parts):
    return site.joinpath("host", *parts)


@pytest.fixture(scope="module")
def converged(site):
    (host(site, "etc", "docker")).mkdir(parents=True)
    host(site, "etc", "docker", "daemon.json").write_text('{"insecure-registries": ["registry.lab.invalid:5000"]}')
    out = play(site)
    assert recap(out)[1] > 0 and not skipped(out, "docker", HASH), out
    return site


def test_a_converged_rerun_reads_the_host_once_and_writes_nothing(converged):
    out = play(converged)
    assert recap(out)[1:] == (0, 0), out
    assert ran(out, "docker") == CONVERGED, out
    daemon = json.loads(host(converged, "etc", "docker", "daemon.json").read_text())
    assert daemon == {"insecure-registries": ["registry.lab.invalid:5000"], "log-driver": "json-file",
                      "log-opts": {"max-size": "10m"}}


def test_drop_in_drift_is_written_back_and_restarts(converged):
    dropin = host(converged, "etc", "systemd", "docker.service.d", "10-harbor-deploy.conf")
    wanted = dropin.read_text()
    dropin.chmod(0o600)
    out = play(converged)
    assert stat.S_IMODE(dropin.stat().st_mode) == 0o644
    assert "RUNNING HANDLER [harbor.deploy.docker : Restart docker]" in out
    dropin.write_text(wanted + "LimitNPROC=1\n")
    out = play(converged)
    assert dropin.read_text() == wanted and recap(out)[1] == 1, out


def test_a_compose_binary_rewritten_in_place_is_caught(converged):
    binary = host(converged, "cli-plugins", "docker-compose")
    good = rewrite_keeping_mtime(binary)
    out = play(converged)
    assert not skipped(out, "docker", HASH) and recap(out)[1] > 0, out
    assert hashlib.sha256(binary.read_bytes()).hexdigest() == good


def test_reverify_hashes_and_changes_nothing(converged):
    out = play(converged, docker_compose_reverify=True)
    assert not skipped(out, "docker", HASH) and recap(out)[1] == 0, out


def test_compose_alone_reads_what_it_needs(converged):
    out = play(converged, steps=["set_vars", "compose"])
    assert recap(out)[1] == 0, out
    assert ran(out, "docker") == SET_VARS + ["Read the Compose binary and its record on the host", CONTROLLER, DECIDE], out


def test_a_linked_daemon_json_is_read_through_its_link(converged):
    daemon = host(converged, "etc", "docker", "daemon.json")
    target = host(converged, "daemon-elsewhere.json")
    target.write_text('{"debug": true}')
    daemon.unlink()
    daemon.symlink_to(target)
    out = play(converged, steps=["set_vars", "daemon_json"])
    assert "Read daemon.json through its link" in ran(out, "docker"), out
    # the keys of the linked file are kept; the copy writes daemon.json itself (as before path_facts)
    assert json.loads(daemon.read_text()) == {"debug": True, "log-driver": "json-file", "log-opts": {"max-size": "10m"}}


@pytest.mark.parametrize("text, what", [("[1, 2]", "a list"), ('{"debug": ', "text that is not JSON")])
def test_a_daemon_json_that_is_no_object_is_refused(site, text, what):
    daemon = site / "bad" / "etc" / "docker" / "daemon.json"
    daemon.parent.mkdir(parents=True, exist_ok=True)
    daemon.write_text(text)
    rc, out = ansible_playbook(site, values(site, host="bad", steps=["set_vars", "daemon_json"]))
    assert rc != 0 and f"{daemon} must be a file holding a JSON object; it is {what}" in out, out
    assert daemon.read_text() == text


def test_check_mode_on_a_new_host_changes_nothing(site):
    out = play(site, "--check", host="fresh")
    assert recap(out)[2] == 0, out
    assert not (site / "fresh").exists()


def test_the_offline_bundle_needs_no_controller_stat(site):
    steps = ["set_vars", "bundle", "compose"]
    more = {"docker_source": "offline", "docker_offline_bundle_dir": str(site / "kit"),
            "docker_offline_dest": str(site / "offline" / "dest"), "docker_compose_plugin_dir": str(site / "offline" / "cli")}
    out = play(site, steps=steps, **more)
    assert not skipped(out, "docker", HASH) and recap(out)[1] > 0, out
    out = play(site, steps=steps, **more)
    assert recap(out)[1] == 0 and skipped(out, "docker", HASH), out
    assert CONTROLLER not in ran(out, "docker") and "Look for the bundle's SHA256SUMS on the controller" not in out
