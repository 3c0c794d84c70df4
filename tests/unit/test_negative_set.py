"""The negative set (tests/negative/cases.yml): in Python, and through ansible-playbook."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_yml import (
    deep_merge,
    template_defaults,
    validate,
)

NEGATIVE = Path(__file__).resolve().parents[1] / "negative"
CASES = yaml.safe_load((NEGATIVE / "cases.yml").read_text())
DEFAULT_RELEASE = "v2.15.2"


def errors_of(case):
    tmpl = template_defaults((NEGATIVE / "templates" / case.get("release", DEFAULT_RELEASE) / "harbor.yml.tmpl")
                             .read_text())
    return validate(deep_merge(deep_merge(tmpl, CASES["negative_base"]), case["override"]))


def ids(cases):
    return ["%s (%s)" % (case["name"], case.get("release", DEFAULT_RELEASE)) for case in cases]


def test_the_set_is_large_enough():
    invalid = CASES["negative_invalid"]
    assert len(invalid) >= 24
    assert {case.get("release", DEFAULT_RELEASE) for case in invalid} >= {"v2.12.4", "v2.14.4", "v2.15.2"}
    assert len({case["name"] for case in invalid + CASES["negative_valid"]}) == \
        len(invalid) + len(CASES["negative_valid"])


@pytest.mark.parametrize("case", CASES["negative_invalid"], ids=ids(CASES["negative_invalid"]))
def test_invalid_config_is_rejected_naming_the_key(case):
    errors = errors_of(case)
    assert errors, "not rejected"
    key = case["key"]
    assert all(e.startswith(key + ":") or e.startswith(key + ".") for e in errors), errors


@pytest.mark.parametrize("case", CASES["negative_valid"], ids=ids(CASES["negative_valid"]))
def test_valid_config_passes(case):
    assert errors_of(case) == []


def ansible_playbook(*extra):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(NEGATIVE / "playbook.yml")]
    return subprocess.run(command + list(extra), env=env, capture_output=True, text=True, timeout=300, check=False)


def test_playbook_runs_the_set_through_the_filters():
    run = ansible_playbook()
    assert run.returncode == 0, run.stdout + run.stderr
    for case in CASES["negative_invalid"] + CASES["negative_valid"]:
        assert "(item=%s" % case["name"] in run.stdout
    assert "failed=0" in run.stdout


@pytest.mark.parametrize("extra, expected", [
    ({"negative_invalid": [{"name": "wrong key expected", "key": "log.level", "override": {"hostname": "localhost"}}]},
     "wrong key expected: expected errors naming log.level"),
    ({"negative_valid": [{"name": "not valid at all", "override": {"hostname": "localhost"}}]},
     "not valid at all: expected no error"),
], ids=["invalid-case-with-the-wrong-key", "valid-case-that-is-not"])
def test_playbook_fails_when_a_case_does_not_hold(tmp_path, extra, expected):
    overrides = tmp_path / "extra.yml"
    overrides.write_text(yaml.safe_dump(extra))
    run = ansible_playbook("-e", "@%s" % overrides)
    assert run.returncode != 0 and expected in run.stdout, run.stdout + run.stderr
