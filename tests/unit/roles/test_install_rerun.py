"""The install role's converged rerun on localhost: the release's files are read in one round trip
(harbor.deploy.path_facts, validate.yml), a file already as wanted is not written again (its task is
skipped), drift (content, mode) is written back, the secrets of harbor.yml never reach the output, and
`docker compose up -d` runs only when the state stamp changed or a container is stopped, missing or
left over (a fake docker answers `docker ps`; nothing reaches a real Docker).

One ansible-playbook run per step (a few seconds each). Writes files owned by root: run as root.
"""

import json
import os
import shutil
from pathlib import Path

import pytest

from _ansible_run import ansible_playbook

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="writes root-owned files")

TEMPLATE = Path(__file__).resolve().parents[2] / "negative" / "templates" / "v2.15.2" / "harbor.yml.tmpl"
DB_PASSWORD = "Secret-Db-Passw0rd-71"
ADMIN_PASSWORD = "Secret-Admin-Passw0rd-72"

PLAY = """\
- name: The install role's reads and writes
  hosts: all
  gather_facts: false
  environment:
    # docker_compose_v2 would find the fake docker first (it fails at once): never a real Docker
    PATH: "{{ fake_bin }}:/usr/bin:/bin"
  tasks:
    - name: Validate and build harbor.yml
      ansible.builtin.include_role:
        name: harbor.deploy.install
        tasks_from: validate.yml
        public: true

    - name: Write harbor.yml
      ansible.builtin.include_role:
        name: harbor.deploy.install
        tasks_from: config.yml
        public: true
      when: "'config' in steps"

    - name: Say whether prepare must run
      ansible.builtin.debug:
        msg: "prepare_needed={{ __install_prepare_needed }}"
      when: "'config' in steps"

    - name: Say whether the current link is as wanted
      ansible.builtin.debug:
        msg: "link_unchanged={{ __install_unchanged }}"
      vars:
        __install_file: "{{ install_current_link }}"
        __install_want: {type: link, link_target: "{{ install_release_dir | dirname }}"}

    - name: Say what docker compose up would find
      ansible.builtin.debug:
        msg: "project={{ __install_compose_project }} wanted={{ __install_containers_wanted | to_json }}"

    - name: Record a start, as run.yml does after compose up
      ansible.builtin.copy:
        content: "{{ __install_stamp | to_nice_json(sort_keys=true) }}\\n"
        dest: "{{ install_release_dir }}/.deploy-stamp"
        mode: "0600"
      when: "'record' in steps"

    - name: Run prepare and compose when needed
      ansible.builtin.include_role:
        name: harbor.deploy.install
        tasks_from: run.yml
      when: "'run' in steps"
"""

COMPOSE = """\
version: '2.3'
services:
  log:
    image: goharbor/harbor-log:v2.15.2
    container_name: harbor-log
  core:
    image: goharbor/harbor-core:v2.15.2
    container_name: harbor-core
"""

FAKE_DOCKER = """\
#!/bin/sh
# `docker ps` prints the lines of the state file; anything else fails (docker_compose_v2 stops there)
printf '%s\\n' "$*" >> "{log}"
[ "$1" = ps ] || exit 1
cat "{state}"
"""


def make_site(top):
    (top / "play.yml").write_text(PLAY)
    release = top / "opt" / "v2.15.2" / "harbor"
    release.mkdir(parents=True)
    shutil.copy(TEMPLATE, release / "harbor.yml.tmpl")
    fake = top / "bin"
    fake.mkdir()
    (fake / "docker").write_text(FAKE_DOCKER.format(log=top / "docker.log", state=top / "containers"))
    (fake / "docker").chmod(0o755)
    (top / "containers").write_text("")
    return top


@pytest.fixture
def site(tmp_path):
    return make_site(tmp_path)


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """A site whose harbor.yml, docker-compose.yml and state stamp are those of a start."""
    top = make_site(tmp_path_factory.mktemp("started"))
    release = top / "opt" / "v2.15.2" / "harbor"
    (release / "docker-compose.yml").write_text(COMPOSE)
    rc, out = run(top, steps=["config", "record"])
    assert rc == 0, out[-3000:]
    # the containers compose would make: one per service, running, from its image and this directory
    assert "project=harbor wanted=" in out and "core goharbor/harbor-core:v2.15.2 %s running" % release in out, out[-3000:]
    return top


def values(site, **overrides):
    base = {
        "install_hostname": "harbor.test",
        "install_admin_password": ADMIN_PASSWORD,
        "install_database_password": DB_PASSWORD,
        "install_data_volume_min_free_mb": 0,
        "install_data_volume": str(site / "data"),
        "install_https_enabled": False,
        "install_release_dir": str(site / "opt" / "v2.15.2" / "harbor"),
        "install_version": "v2.15.2",
        "fake_bin": str(site / "bin"),
        "__install_docker_bin": str(site / "bin" / "docker"),
        "steps": ["config"],
    }
    base.update(overrides)
    return base


def run(site, *extra, **overrides):
    return ansible_playbook(site, values(site, **overrides), *extra)


def recap_changed(out):
    line = [x for x in out.splitlines() if x.startswith("localhost")][-1]
    return int(line.split("changed=")[1].split()[0])


def statuses(out, task):
    """The host lines ("ok", "changed", "skipping", ...) under each TASK header naming `task`."""
    found, current = [], None
    for line in out.splitlines():
        if line.startswith("TASK ["):
            current = [] if ("harbor.deploy.install : " + task) in line else None
            if current is not None:
                found.append(current)
        elif current is not None and line.split(":")[0] in ("ok", "changed", "skipping", "fatal", "included"):
            current.append(line.split(":")[0])
    return found


def messages(out, prefix):
    return [line.split('"msg": "', 1)[1].rstrip('"') for line in out.splitlines() if '"msg": "' + prefix in line]


def test_a_rerun_writes_nothing_and_drift_is_written_back(site):
    release = site / "opt" / "v2.15.2" / "harbor"
    rc, out = run(site)
    assert rc == 0, out[-3000:]
    assert recap_changed(out) == 2, out[-3000:]
    yml = release / "harbor.yml"
    assert yml.stat().st_mode & 0o777 == 0o600
    assert DB_PASSWORD in yml.read_text()
    assert DB_PASSWORD not in (release / ".harbor.yml.masked").read_text()
    assert messages(out, "prepare_needed=") == ["prepare_needed=True"], out[-3000:]

    # the rerun: one read, no write (the tasks are skipped: no round trip)
    rc, out = run(site, "-v")
    assert rc == 0 and recap_changed(out) == 0, out[-3000:]
    assert statuses(out, "Read the release's files on the host") == [["ok"]], out[-3000:]
    assert statuses(out, "Write harbor.yml (mode 0600") == [["skipping"]], out[-3000:]
    assert statuses(out, "Write a copy of harbor.yml with secrets masked") == [["skipping"]], out[-3000:]
    assert DB_PASSWORD not in out and ADMIN_PASSWORD not in out

    # drift: a wrong mode is put back; the masked copy is as wanted and stays
    yml.chmod(0o644)
    rc, out = run(site)
    assert rc == 0 and recap_changed(out) == 1, out[-3000:]
    assert yml.stat().st_mode & 0o777 == 0o600
    assert statuses(out, "Write a copy of harbor.yml with secrets masked") == [["skipping"]], out[-3000:]

    # drift: an edited masked copy is written back
    (release / ".harbor.yml.masked").write_text("edited\n")
    rc, out = run(site)
    assert rc == 0 and recap_changed(out) == 1, out[-3000:]
    assert statuses(out, "Write harbor.yml (mode 0600") == [["skipping"]], out[-3000:]
    assert (release / ".harbor.yml.masked").read_text() != "edited\n"

    # a change in check mode: both would be written, --diff shows the masked copy, no secret shown
    before = yml.read_text()
    rc, out = run(site, "--check", "--diff", install_http_port=8080)
    assert rc == 0 and recap_changed(out) == 2, out[-3000:]
    assert "+  port: 8080" in out and "-  port: 80" in out, out[-3000:]
    assert DB_PASSWORD not in out and ADMIN_PASSWORD not in out
    assert yml.read_text() == before


def test_the_state_stamp_decides_prepare(site):
    release = site / "opt" / "v2.15.2" / "harbor"
    (release / "docker-compose.yml").write_text(COMPOSE)
    rc, out = run(site, steps=["config", "record"])
    assert rc == 0, out[-3000:]
    assert messages(out, "prepare_needed=") == ["prepare_needed=True"], out[-3000:]
    rc, out = run(site)
    assert rc == 0 and recap_changed(out) == 0, out[-3000:]
    assert messages(out, "prepare_needed=") == ["prepare_needed=False"], out[-3000:]
    # the same stamp in another layout is the same state
    stamp = json.loads((release / ".deploy-stamp").read_text())
    (release / ".deploy-stamp").write_text(json.dumps(dict(reversed(list(stamp.items())))))
    rc, out = run(site)
    assert messages(out, "prepare_needed=") == ["prepare_needed=False"], out[-3000:]
    # another release, or no compose file: prepare again
    (release / ".deploy-stamp").write_text(json.dumps(dict(stamp, version="v2.15.1")))
    rc, out = run(site)
    assert messages(out, "prepare_needed=") == ["prepare_needed=True"], out[-3000:]
    (release / ".deploy-stamp").write_text(json.dumps(stamp))
    (release / "docker-compose.yml").unlink()
    rc, out = run(site)
    assert messages(out, "prepare_needed=") == ["prepare_needed=True"], out[-3000:]


def test_the_current_link(site):
    link = site / "opt" / "current"
    rc, out = run(site, steps=[])
    assert rc == 0 and messages(out, "link_unchanged=") == ["link_unchanged=False"], out[-3000:]
    link.symlink_to(site / "opt" / "v2.15.2")
    rc, out = run(site, steps=[])
    assert rc == 0 and messages(out, "link_unchanged=") == ["link_unchanged=True"], out[-3000:]
    link.unlink()
    link.symlink_to(site / "opt" / "v2.15.1")
    rc, out = run(site, steps=[])
    # the guard reads the link as well: a link to another release is refused first
    assert rc != 0 and "is not the release this host runs: v2.15.1" in out, out[-3000:]


def containers(site, lines):
    release = site / "opt" / "v2.15.2" / "harbor"
    (site / "containers").write_text("".join(line.replace("@", str(release)) + "\n" for line in lines))


CONVERGED = ["core goharbor/harbor-core:v2.15.2 @ running", "log goharbor/harbor-log:v2.15.2 @ running"]


@pytest.mark.parametrize("lines, drift", [
    (CONVERGED, False),
    (list(reversed(CONVERGED)), False),
    (["core goharbor/harbor-core:v2.15.2 @ exited", CONVERGED[1]], True),
    (CONVERGED[:1], True),
    (CONVERGED + ["trivy-adapter goharbor/trivy-adapter-photon:v2.15.2 @ running"], True),
    (["core sha256:0123 @ running", CONVERGED[1]], True),
    (["core goharbor/harbor-core:v2.15.2 /opt/harbor/v2.15.1/harbor running", CONVERGED[1]], True),
], ids=["converged", "any-order", "stopped", "removed", "left-over", "image-moved", "other-directory"])
def test_compose_up_runs_on_drift_only(started, lines, drift):
    site = started
    (site / "docker.log").unlink(missing_ok=True)
    containers(site, lines)
    rc, out = run(site, steps=["config", "run"])
    assert statuses(out, "Run prepare") == [["skipping"]], out[-3000:]
    assert statuses(out, "Read the state of Harbor's containers") == [["ok"]], out[-3000:]
    calls = (site / "docker.log").read_text().splitlines()
    assert calls[0] == ('ps --all --filter label=com.docker.compose.project=harbor --format {{.Label "com.docker.compose.service"}}'
                        ' {{.Image}} {{.Label "com.docker.compose.project.working_dir"}} {{.State}}'), calls
    up = statuses(out, "Start Harbor (docker compose up -d; never down -v)")
    if drift:
        # up.yml is included; docker_compose_v2 then fails on the fake docker
        assert up[0] == ["included"] and rc != 0, out[-3000:]
        assert calls[1:] and not calls[1].startswith("ps"), calls
    else:
        assert up == [["skipping"]] and rc == 0 and recap_changed(out) == 0, out[-3000:]
        assert len(calls) == 1, calls


def test_prepare_runs_without_reading_the_containers(site):
    release = site / "opt" / "v2.15.2" / "harbor"
    (release / "prepare").write_text("#!/bin/sh\necho prepared > prepared\n")
    (release / "prepare").chmod(0o755)
    rc, out = run(site, steps=["config", "run"])
    assert (release / "prepared").exists(), out[-3000:]
    assert statuses(out, "Read the state of Harbor's containers") == [["skipping"]], out[-3000:]
    assert statuses(out, "Start Harbor (docker compose up -d; never down -v)")[0] == ["included"], out[-3000:]
    assert not (site / "docker.log").exists() or not (site / "docker.log").read_text().startswith("ps"), out[-3000:]


def test_unreadable_files_are_refused_without_showing_harbor_yml(site):
    release = site / "opt" / "v2.15.2" / "harbor"
    rc, out = run(site)
    assert rc == 0, out[-3000:]
    (release / "docker-compose.yml").write_text("#" * (2 * 1024 * 1024))
    rc, out = run(site, "-v")
    assert rc != 0, out[-3000:]
    assert "Cannot read the files of install_release_dir" in out, out[-3000:]
    assert "docker-compose.yml is 2097152 bytes, more than max_bytes" in out, out[-3000:]
    assert DB_PASSWORD not in out and ADMIN_PASSWORD not in out


def test_a_release_directory_without_its_template(site):
    (site / "opt" / "v2.15.2" / "harbor" / "harbor.yml.tmpl").unlink()
    rc, out = run(site, steps=[])
    assert rc != 0 and "harbor.yml.tmpl not found (or not a regular file)" in out, out[-3000:]
    rc, out = run(site, "--check", steps=[])
    assert rc == 0 and "is not unpacked yet" in out, out[-3000:]
