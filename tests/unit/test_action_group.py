"""The action group harbor.deploy.api (meta/runtime.yml) and the modules that declare it.

- A module is in the group exactly when its documentation declares the action_group attribute with membership
  harbor.deploy.api (the harbor.deploy.api_attributes doc fragment). ansible-test 2.19 checks only the shape of each
  side (validate-modules: an action_group attribute needs a membership; runtime-metadata: the action_groups schema),
  not that they agree. A member listed before its module exists is skipped, as ansible-core skips it.
- Every member takes the connection options of harbor.deploy.api, the ones module_defaults gives the whole group.
- One ansible-playbook run against the fake Harbor: module_defaults for group/harbor.deploy.api alone connects
  harbor_project and harbor_info.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "plugins" / "modules"
GROUP = "harbor.deploy.api"
CONNECTION = ("api_url", "api_username", "api_password", "validate_certs", "ca_path", "timeout")

sys.path.insert(0, str(REPO / "tests" / "unit" / "plugins"))
from fake_harbor import ADMIN, FakeHarbor  # noqa: E402 pylint: disable=wrong-import-position


def members():
    return yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]["api"]


def module_names():
    return sorted(p.stem for p in MODULES.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def docs():
    """Every module's documentation as ansible-doc assembles it (fragments merged), by short name."""
    names = ["harbor.deploy.%s" % name for name in module_names()]
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "-j", "-t", "module"] + names,
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    return {fqcn.split(".")[-1]: data["doc"] for fqcn, data in json.loads(run.stdout).items()}


def test_group_lists_short_names_once():
    listed = members()
    assert listed and all(isinstance(name, str) and "." not in name for name in listed), listed
    assert len(listed) == len(set(listed)), listed


@pytest.mark.parametrize("name", module_names())
def test_membership_declared_exactly_by_the_members(docs, name):
    attribute = docs[name].get("attributes", {}).get("action_group")
    declared = bool(attribute) and GROUP in (attribute.get("membership") or [])
    if name in members():
        assert declared, ("%s is in action group api (meta/runtime.yml) but does not declare it: extend "
                          "harbor.deploy.api_attributes" % name)
        assert attribute.get("support") == "full", attribute
    else:
        assert not declared, "%s declares membership of %s but meta/runtime.yml does not list it" % (name, GROUP)


@pytest.mark.parametrize("name", [n for n in members() if (MODULES / ("%s.py" % n)).is_file()])
def test_members_take_the_connection_options(docs, name):
    missing = [option for option in CONNECTION if option not in docs[name].get("options", {})]
    assert not missing, "%s lacks %s, which module_defaults for group/%s may give it" % (name, missing, GROUP)


def test_module_defaults_of_the_group_reach_the_modules(tmp_path):
    harbor = FakeHarbor()
    try:
        play = [{
            "name": "Connection options from module_defaults only",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/%s" % GROUP: {"api_url": harbor.url, "api_username": ADMIN[0],
                                                     "api_password": ADMIN[1], "timeout": 5}},
            "tasks": [
                {"name": "Create", "harbor.deploy.harbor_project": {"name": "from-defaults"}},
                {"name": "Read", "harbor.deploy.harbor_info": {"gather": ["projects"],
                                                               "project_names": ["from-defaults"]},
                 "register": "info"},
                {"name": "Check", "ansible.builtin.assert": {"that": [
                    "info.projects | map(attribute='name') | list == ['from-defaults']",
                    "info.missing_projects == []"]}},
            ],
        }]
        (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
        env = {key: value for key, value in os.environ.items() if not key.startswith("HARBOR_")}
        env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="false",
                   ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
        run = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                              "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable,
                              str(tmp_path / "play.yml")],
                             env=env, capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr
        assert [r["body"]["project_name"] for r in harbor.sent("POST", "/projects")] == ["from-defaults"]
        assert "from-defaults" in harbor.projects
    finally:
        harbor.stop()
