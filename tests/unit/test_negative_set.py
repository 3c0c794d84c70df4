"""The negative set (tests/negative/cases.yml): in Python, and through ansible-playbook.

Every case runs on each release it names (default: all four), built as the install role
builds harbor.yml: template, shortcuts (negative_base), install_config (override),
install_config_remove (remove), then checked with the template, the user's dict, the
release and the remove list.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_yml import (
    SCHEMA,
    deep_merge,
    remove_keys,
    template_defaults,
    validate,
)

NEGATIVE = Path(__file__).resolve().parents[1] / "negative"
CASES = yaml.safe_load((NEGATIVE / "cases.yml").read_text())
RELEASES = ("v2.12.4", "v2.13.2", "v2.14.4", "v2.15.2")
TEMPLATES = {release: template_defaults((NEGATIVE / "templates" / release / "harbor.yml.tmpl").read_text())
             for release in RELEASES}


def errors_of(case, release):
    tmpl = TEMPLATES[release]
    user = case.get("override") or {}
    remove = case.get("remove")
    merged = remove_keys(deep_merge(deep_merge(tmpl, CASES["negative_base"]), user), remove or [])
    return validate(merged, template=tmpl, user=user, version=release, remove=remove)


def instances(kind):
    return [pytest.param(case, release, id="%s (%s)" % (case["name"], release))
            for case in CASES[kind] for release in case.get("releases", RELEASES)]


def names(error, key):
    return error.startswith(key + ":") or error.startswith(key + ".") or error.startswith(key + "[")


def test_the_set_is_large_enough_and_well_formed():
    invalid, valid = CASES["negative_invalid"], CASES["negative_valid"]
    assert len(invalid) + len(valid) >= 100
    assert len(invalid) >= 100 and len(valid) >= 50
    assert len({case["name"] for case in invalid + valid}) == len(invalid) + len(valid), "names must be unique"
    for case in invalid + valid:
        assert set(case) <= {"name", "key", "override", "remove", "releases", "prepare"}, case["name"]
        assert set(case.get("releases", RELEASES)) <= set(RELEASES), case["name"]
        assert isinstance(case["override"], dict), case["name"]
    for case in invalid:
        assert case.get("key") and case.get("prepare", "rejects") in ("rejects", "accepts"), case["name"]
    for case in valid:
        assert "key" not in case and "prepare" not in case, case["name"]


def _touched(case):
    """Top-level harbor.yml keys a case writes or removes."""
    keys = {str(key) for key in case["override"]} | {path.split(".")[0] for path in case.get("remove") or []}
    if "key" in case:
        keys.add(case["key"].split(".")[0].split("[")[0])
    return keys


@pytest.mark.parametrize("key", sorted(SCHEMA.fields))
def test_every_block_is_covered_both_ways(key):
    assert any(key in _touched(case) for case in CASES["negative_invalid"]), "no invalid case for %s" % key
    if key not in ("hostname", "harbor_admin_password", "data_volume", "_version", "jobservice", "notification", "log",
                   "database"):
        assert any(key in _touched(case) for case in CASES["negative_valid"]), "no valid case for %s" % key


@pytest.mark.parametrize("case, release", instances("negative_invalid"))
def test_invalid_config_is_rejected_naming_the_key(case, release):
    errors = errors_of(case, release)
    assert errors, "not rejected"
    assert all(names(e, case["key"]) for e in errors), errors


@pytest.mark.parametrize("case, release", instances("negative_valid"))
def test_valid_config_passes(case, release):
    assert errors_of(case, release) == []


def ansible_playbook(*extra):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_RETRY_FILES_ENABLED="false")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(NEGATIVE / "playbook.yml")]
    return subprocess.run(command + list(extra), env=env, capture_output=True, text=True, timeout=600, check=False)


def test_playbook_runs_the_set_through_the_filters():
    """Each case once, on its newest release (the Python tests above take every release)."""
    run = ansible_playbook()
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr
    for case in CASES["negative_invalid"] + CASES["negative_valid"]:
        assert "(item=%s (%s)" % (case["name"], case.get("releases", RELEASES)[-1]) in run.stdout, case["name"]
    assert "failed=0" in run.stdout


@pytest.mark.parametrize("extra, expected", [
    ({"negative_invalid": [{"name": "wrong key expected", "key": "log.level", "override": {"hostname": "localhost"}}],
      "negative_every_release": True},
     "wrong key expected (v2.12.4): expected errors naming log.level"),
    ({"negative_valid": [{"name": "not valid at all", "override": {"hostname": "localhost"}}]},
     "not valid at all (v2.15.2): expected no error"),
    ({"negative_valid": [{"name": "a null", "override": {"log": {"local": None}}, "releases": ["v2.13.2"]}]},
     "a null (v2.13.2): expected no error"),
], ids=["invalid-case-with-the-wrong-key", "valid-case-that-is-not", "null-in-install-config"])
def test_playbook_fails_when_a_case_does_not_hold(tmp_path, extra, expected):
    extra = dict({"negative_invalid": [], "negative_valid": []}, **extra)  # only the case at hand
    overrides = tmp_path / "extra.yml"
    overrides.write_text(yaml.safe_dump(extra))
    run = ansible_playbook("-e", "@%s" % overrides)
    assert run.returncode != 0 and expected in run.stdout, run.stdout + run.stderr
