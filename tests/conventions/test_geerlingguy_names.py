"""No role variable shares a name with geerlingguy.docker's variables.

geerlingguy.docker is the most used Docker role on Galaxy, so its variables are already
set in many inventories (group_vars/all: docker_users, docker_daemon_options, ...) and
its defaults, vars and registered results are visible to every later role of a play. A
variable of ours with the same name would take a value meant for that role, with another
meaning (docker_daemon_options replaces daemon.json there and is merged into it here;
docker_packages lists docker-ce packages there and overrides the OS set here). So:

- test_no_role_variable_is_a_geerlingguy_name: no option of any entry point of any role
  (meta/argument_specs.yml) and no default (defaults/main.yml) is one of those names;
- test_renamed_names_are_refused: the docker role's rename map (vars/main.yml) names
  only such names, maps each to a declared option, and validate.yml's first task
  refuses them;
- test_old_names_are_gone: the renamed names are not used any more where the
  collection and its tests set or read variables.
"""
import pathlib
import re

import pytest
import yaml

TOP = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (TOP / "roles").iterdir() if (p / "tasks" / "main.yml").exists())

# geerlingguy/ansible-role-docker (github.com/geerlingguy/ansible-role-docker), read at
# 68d6a6da5f48 (March 2026, after 8.0.0):
# every top-level key its defaults/main.yml has had in any version (current and former),
GEERLINGGUY_DOCKER_DEFAULTS = {
    "docker_add_repo", "docker_apt_ansible_distribution", "docker_apt_ansible_distro_name",
    "docker_apt_arch", "docker_apt_filename", "docker_apt_gpg_key", "docker_apt_gpg_key_checksum",
    "docker_apt_ignore_key_error", "docker_apt_release_channel", "docker_apt_repository",
    "docker_compose_arch", "docker_compose_package", "docker_compose_package_state",
    "docker_compose_path", "docker_compose_url", "docker_compose_version", "docker_daemon_options",
    "docker_edition", "docker_install_compose", "docker_install_compose_plugin",
    "docker_obsolete_packages", "docker_package", "docker_package_state", "docker_packages",
    "docker_packages_state", "docker_repo_url", "docker_restart_handler_state",
    "docker_restart_on_package_change", "docker_service_enabled", "docker_service_manage",
    "docker_service_start_command", "docker_service_state", "docker_users", "docker_yum_gpg_key",
    "docker_yum_repo_enable_edge", "docker_yum_repo_enable_nightly", "docker_yum_repo_enable_test",
    "docker_yum_repo_url", "docker_yum_repo_version",
}
# ...the ones only its README documents, its vars/ files set and its tasks register or
# set_fact (host facts: they outrank inventory and role defaults for the rest of a run).
GEERLINGGUY_DOCKER_OTHERS = {
    "docker_yum_repository", "docker_suse_release", "docker_zypper_repo_url",
    "docker_compose_vsn", "docker_compose_current_version", "docker_service_status",
    "docker_service_patch",
}
GEERLINGGUY_DOCKER_NAMES = GEERLINGGUY_DOCKER_DEFAULTS | GEERLINGGUY_DOCKER_OTHERS


def _load(path):
    return yaml.safe_load(path.read_text()) or {}


def _options(role):
    specs = _load(role / "meta" / "argument_specs.yml").get("argument_specs", {})
    for entry, spec in specs.items():
        for name in (spec or {}).get("options", {}) or {}:
            yield entry, name


def test_the_list_is_there():
    assert len(GEERLINGGUY_DOCKER_NAMES) > 40 and "docker_daemon_options" in GEERLINGGUY_DOCKER_NAMES


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_no_role_variable_is_a_geerlingguy_name(role):
    clashes = sorted(f"{entry}: {name}" for entry, name in _options(role) if name in GEERLINGGUY_DOCKER_NAMES)
    defaults = role / "defaults" / "main.yml"
    clashes += sorted(f"defaults: {n}" for n in (_load(defaults) if defaults.exists() else {}) if n in GEERLINGGUY_DOCKER_NAMES)
    assert not clashes, (
        f"{role.name}: variables named like geerlingguy.docker's (rename them, keeping the role prefix): {clashes}"
    )


def test_renamed_names_are_refused():
    role = TOP / "roles" / "docker"
    renamed = _load(role / "vars" / "main.yml")["__docker_renamed_vars"]
    options = {name for _, name in _options(role)}
    assert renamed, "the docker role's rename map is empty"
    for old, new in renamed.items():
        assert old in GEERLINGGUY_DOCKER_NAMES, f"{old} is not a geerlingguy.docker name: why was it renamed?"
        assert new in options and new not in GEERLINGGUY_DOCKER_NAMES, f"{old} -> {new}: {new} is not a proper option"
    first = _load(role / "tasks" / "validate.yml")[0]
    assert "__docker_renamed_vars" in str(first.get("loop")), "validate.yml's first task must refuse the renamed variables"
    assert first["name"] == "Refuse the variables this role has renamed"
    main = _load(role / "tasks" / "main.yml")[0]
    assert main.get("ansible.builtin.import_tasks") == "validate.yml", "main.yml must start with validate.yml"


# Where variables are set or read: the collection and its scenarios, inventories, demo, bench.
WHERE = ["roles", "playbooks", "inventories", "molecule", "tests/demo", "bench", "docs"]
# The places that must still name the old names: the rename map, the option that turns
# the check off (its comment and description), the README generated from that description.
MAY_NAME_THEM = {
    "roles/docker/vars/main.yml",
    "roles/docker/defaults/main.yml",
    "roles/docker/meta/argument_specs.yml",
    "roles/docker/README.md",
}


def test_old_names_are_gone():
    renamed = _load(TOP / "roles" / "docker" / "vars" / "main.yml")["__docker_renamed_vars"]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, renamed)) + r")\b")
    found = []
    for where in WHERE:
        for path in sorted((TOP / where).rglob("*")):
            rel = path.relative_to(TOP).as_posix()
            if not path.is_file() or rel in MAY_NAME_THEM or path.suffix not in {".yml", ".yaml", ".j2", ".sh", ".md", ".py", ".ini", ".cfg"}:
                continue
            for no, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                if re.match(r"\s*(tags|apply):|\s*tags: \[", line) or "tags: [" in line:
                    continue  # tag names (docker_packages) are not variables
                if pattern.search(line):
                    found.append(f"{rel}:{no}: {line.strip()}")
    assert not found, "renamed variables still used:\n" + "\n".join(found)
