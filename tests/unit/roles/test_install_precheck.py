"""The install role's precheck (site.yml's first play) on localhost: each refusal names its
variable, and a run that would change the running release is stopped before any change.

One ansible-playbook run per case (a few seconds each). The release pinning cases lay out a
bundle_root with a `current` link and a state stamp, as a finished install leaves them.
"""

import json

import pytest

from _ansible_run import ansible_playbook

PLAY = """\
- name: The install precheck
  hosts: all
  gather_facts: false
  tasks:
    - name: Precheck
      ansible.builtin.include_role:
        name: harbor.deploy.install
        tasks_from: precheck.yml
"""

GOOD = {
    "install_hostname": "harbor.test",
    "install_admin_password": "Good-Admin-Passw0rd",
    "install_database_password": "Good-Db-Passw0rd",
    "install_data_volume_min_free_mb": 0,
    "bundle_version": "v2.15.2",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("install")
    (top / "play.yml").write_text(PLAY)
    release = top / "opt" / "v2.15.2" / "harbor"
    release.mkdir(parents=True)
    (release / ".deploy-stamp").write_text(json.dumps({"version": "v2.15.2", "with_trivy": False}))
    (top / "opt" / "current").symlink_to(top / "opt" / "v2.15.2")
    return top


def run(site, overrides, *extra):
    return ansible_playbook(site, dict(GOOD, bundle_root=str(site / "opt"), **overrides), *extra)


@pytest.mark.parametrize("overrides, extra, message", [
    ({"install_admin_password": "Harbor12345"}, [], "install_admin_password must be set and must not be the release default"),
    ({"install_admin_password": "alllowercase1"}, [], "install_admin_password must follow Harbor's password rule"),
    ({"install_database_password": "root123"}, [], "install_database_password must be set and must not be the release default (root123)"),
    ({"install_database_password": ""}, [], "install_database_password must be set"),
    ({"install_config": {"database": {"password": "root123"}}}, [], "install_database_password must be set"),
    ({"bundle_version": "v2.14.4"}, [], "bundle_version (install_version) v2.14.4 is not the release this host runs: v2.15.2"),
    ({"bundle_version": "v2.16.0"}, [], "Change releases with the harbor.deploy.upgrade playbook"),
], ids=["admin-default", "admin-weak", "db-root123", "db-empty", "db-root123-in-config", "downgrade", "upgrade"])
def test_refused_before_any_change(site, overrides, extra, message):
    rc, output = run(site, overrides, *extra)
    assert rc != 0, output[-3000:]
    assert message in output, output[-3000:]


@pytest.mark.parametrize("overrides, extra", [
    ({}, []),
    ({"install_database_password": "", "install_config": {"external_database": {"harbor": {"host": "db"}}}}, []),
    ({"bundle_version": "v2.16.0", "__install_release_change": True}, []),
    ({}, ["-e", "install_data_volume_min_free_mb=0", "-e", "install_health_timeout=30", "-e", "install_https_enabled=false"]),
], ids=["good", "external-db-without-password", "upgrade-playbook", "strings-from-the-command-line"])
def test_accepted(site, overrides, extra):
    rc, output = run(site, overrides, *extra)
    assert rc == 0, output[-3000:]


def test_a_fresh_host_has_no_release_to_keep(tmp_path):
    (tmp_path / "play.yml").write_text(PLAY)
    (tmp_path / "opt").mkdir()
    rc, output = run(tmp_path, {"bundle_version": "v2.14.4"})
    assert rc == 0, output[-3000:]


def test_one_read_when_the_link_points_at_the_wanted_release(site):
    rc, output = run(site, {}, "-v")
    assert rc == 0, output[-3000:]
    assert "TASK [harbor.deploy.install : Read the current link and the wanted release's state stamp" in output
    other = output.split("Read the state stamp of the release the link points at")[1].split("TASK [")[0]
    assert "skipping:" in other, output[-3000:]


@pytest.mark.parametrize("target, stamp, wanted, message", [
    ("v2.15.2", "v2.15.2", "v2.14.4", "is not the release this host runs: v2.15.2"),
    ("v2.15.2", "v2.15.2", "v2.15.2", None),
    ("v2.14.4/", None, "v2.15.2", "is not the release this host runs: v2.14.4"),
    ("@v2.15.1", "v2.15.1", "v2.15.2", "is not the release this host runs: v2.15.1"),
], ids=["relative-link", "relative-link-kept", "no-stamp-the-directory-names-it", "absolute-link-elsewhere"])
def test_the_link_names_the_running_release(tmp_path, target, stamp, wanted, message):
    (tmp_path / "play.yml").write_text(PLAY)
    opt = tmp_path / "opt"
    release = opt / target.strip("@/") / "harbor"
    release.mkdir(parents=True)
    if stamp:
        (release / ".deploy-stamp").write_text(json.dumps({"version": stamp}))
    (opt / "current").symlink_to(str(opt / target[1:]) if target.startswith("@") else target)
    rc, output = run(tmp_path, {"bundle_version": wanted})
    if message:
        assert rc != 0 and message in output, output[-3000:]
    else:
        assert rc == 0, output[-3000:]
