"""House rules every role must keep, checked on the files themselves.

- every public variable is prefixed with the role's name, set in defaults/main.yml
  and declared in meta/argument_specs.yml (and the other way round);
- each declared option has a type and a description; internal vars are __<role>_*;
- no hard-coded `no_log: true` (a <role>_secure_logging variable decides);
- every task has a name; templates start with the ansible_managed comment;
- the role README is the one generated from the spec.
"""
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

TOP = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (TOP / "roles").iterdir() if (p / "tasks" / "main.yml").exists())


def _load(path):
    return yaml.safe_load(path.read_text()) or {}


def _spec(role):
    return _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"].get("options", {})


def _tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if any(k in node for k in ("block", "rescue", "always")):
            yield node
            for key in ("block", "rescue", "always"):
                yield from _tasks(node.get(key, []))
        else:
            yield node


@pytest.fixture(params=ROLES, ids=lambda p: p.name)
def role(request):
    return request.param


def test_there_are_roles():
    assert {r.name for r in ROLES} >= {"bundle", "install"}


def test_defaults_are_prefixed_and_declared(role):
    defaults = _load(role / "defaults" / "main.yml")
    spec = _spec(role)
    for name in defaults:
        assert name.startswith(role.name + "_"), f"{role.name}: default {name} lacks the prefix {role.name}_"
        assert name in spec, f"{role.name}: default {name} is not declared in meta/argument_specs.yml"
    for name, opt in spec.items():
        assert name.startswith(role.name + "_"), f"{role.name}: option {name} lacks the prefix"
        assert name in defaults or opt.get("required"), f"{role.name}: option {name} has no default in defaults/main.yml"
        assert opt.get("description"), f"{role.name}: option {name} has no description"
        assert opt.get("type"), f"{role.name}: option {name} has no type"


def test_defaults_are_commented(role):
    lines = (role / "defaults" / "main.yml").read_text().splitlines()
    for i, line in enumerate(lines):
        match = re.match(r"^([a-z][a-z0-9_]*):", line)
        if not match:
            continue
        j = i - 1
        while j >= 0 and re.match(r"^[a-z][a-z0-9_]*:", lines[j]) and not lines[j].startswith("#"):
            j -= 1  # a group of related variables may share one comment block
        assert j >= 0 and lines[j].startswith("#"), f"{role.name}: {match.group(1)} has no comment above it"


def test_internal_vars_are_private(role):
    for path in sorted((role / "vars").glob("*.yml")):
        for name in _load(path):
            assert name.startswith(f"__{role.name}_"), f"{path.relative_to(TOP)}: {name} should be __{role.name}_*"


def test_tasks_are_named_and_no_log_is_a_variable(role):
    for path in sorted((role / "tasks").glob("*.yml")) + sorted((role / "handlers").glob("*.yml")):
        for task in _tasks(_load(path) or []):
            assert task.get("name"), f"{path.relative_to(TOP)}: a task has no name: {task}"
            assert task.get("no_log") is not True, f"{path.relative_to(TOP)}: {task['name']}: no_log hard-coded"


def test_templates_say_managed(role):
    for path in sorted((role / "templates").glob("*.j2")):
        first = path.read_text().splitlines()[0]
        assert "ansible_managed" in first, f"{path.relative_to(TOP)} must start with the ansible_managed comment"


def test_readmes_are_generated_from_the_specs():
    result = subprocess.run([sys.executable, str(TOP / "tools" / "role_docs.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_specs_hold_no_templates(role):
    # Ansible templates the argument spec itself: a "{{ var }}" there fails whenever var is undefined.
    text = (role / "meta" / "argument_specs.yml").read_text()
    assert "{{" not in text, f"{role.name}: meta/argument_specs.yml must not hold Jinja templates"


def test_handler_names_are_unique_across_roles():
    # In a play with several roles (site.yml), handlers share one name space: a second
    # "Restart docker" silently hides the first, and a notify then runs the wrong one.
    seen = {}
    for role in ROLES:
        path = role / "handlers" / "main.yml"
        for handler in _load(path) if path.exists() else []:
            for name in [handler.get("name")] + list(handler.get("listen") or []):
                assert name not in seen, f"handler '{name}' in {role.name} and in {seen[name]}"
                seen[name] = role.name
