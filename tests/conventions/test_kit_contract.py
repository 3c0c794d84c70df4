"""The kit role writes what the roles that read it expect, checked on the files themselves.

- docker/: the Compose binary under the name the docker role's offline mode looks for,
  the packages that role installs offline (plus python3-requests) as the kit's default,
  and a SHA256SUMS line format that bundle.yml's parser accepts;
- the playbook is the thin wrapper around the role, shipped as harbor.deploy.kit.
That the roles really read a kit (SHA256SUMS parsed, packages installed, the installer
checked against the md5sum beside it, the Trivy DBs placed) is shown by the airgap
scenario, which installs everything from one made by the playbook.
"""
import pathlib
import re

import yaml

TOP = pathlib.Path(__file__).resolve().parents[2]
KIT = TOP / "roles" / "kit"
DOCKER = TOP / "roles" / "docker"


def _load(path):
    return yaml.safe_load(path.read_text()) or {}


def test_compose_name_is_the_docker_roles():
    assert _load(KIT / "vars" / "main.yml")["__kit_compose_name"] == _load(DOCKER / "defaults" / "main.yml")["docker_offline_compose_name"]


def test_default_packages_are_what_the_docker_role_installs_offline():
    for family in ("Debian", "RedHat"):
        docker = _load(DOCKER / "vars" / f"{family}.yml")
        kit = _load(KIT / "vars" / f"{family}.yml")
        wanted = docker["__docker_packages"]["offline"] + docker["__docker_python_packages"]
        assert sorted(kit["__kit_default_packages"]) == sorted(wanted), family
        # the docker role finds the bundle's packages by this pattern
        assert re.match(docker["__docker_offline_package_pattern"], "x" + kit["__kit_package_suffix"]), family


def test_sha256sums_lines_parse_in_the_docker_role():
    bundle = (DOCKER / "tasks" / "bundle.yml").read_text()
    line_re = re.search(r"select\('match', '(\^\[0-9a-fA-F\]\{64\}[^']+)'\)", bundle).group(1)
    # the kit writes "<sha256>  <basename>" (two spaces), one per file of docker/
    sample = "a" * 64 + "  docker.io_20.10.24+dfsg1-1+deb12u1+b6_amd64.deb"
    assert re.match(line_re, sample)


def test_playbook_runs_the_role():
    play = _load(TOP / "playbooks" / "kit.yml")
    assert len(play) == 1
    assert [r["role"] for r in play[0]["roles"]] == ["harbor.deploy.kit"]
