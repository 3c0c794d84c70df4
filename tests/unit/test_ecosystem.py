"""The collection installs like the best ones: declared dependencies, an honest
requires_ansible, a license, an execution environment definition.

- galaxy.yml's dependencies name every collection the shipped content uses (roles,
  playbooks, plugins), each with a floor and a ceiling, and the collections the venv
  carries (the ones every test runs with) satisfy them;
- requirements.yml (the EE's galaxy file) lists exactly galaxy.yml's dependencies;
- meta/runtime.yml's requires_ansible holds for the ansible-core the tests run, and the
  EE installs an ansible-core inside it;
- execution-environment.yml is ansible-builder schema 3 and uses the same Python and
  system files as meta/execution-environment.yml (what introspection reads when
  harbor.deploy is part of another EE), which the tarball ships;
- LICENSE is the license galaxy.yml declares.
`make lint` also renders the EE with ansible-builder (schema check, build context).
"""
import fnmatch
import pathlib
import re

import ansible
import pytest
import yaml
from ansible.galaxy.dependency_resolution.versioning import meets_requirements
from ansible.release import __version__ as ANSIBLE_CORE_VERSION
from packaging.specifiers import SpecifierSet
from packaging.version import Version

TOP = pathlib.Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((TOP / "galaxy.yml").read_text())
DEPS = GALAXY["dependencies"]
SHIPPED = ["roles", "playbooks", "plugins"]


def _load(rel):
    return yaml.safe_load((TOP / rel).read_text())


def _bundled_version(fqcn):
    namespace, name = fqcn.split(".")
    for base in [pathlib.Path(ansible.__file__).parent.parent / "ansible_collections"]:
        manifest = base / namespace / name / "MANIFEST.json"
        if manifest.exists():
            return yaml.safe_load(manifest.read_text())["collection_info"]["version"]
    pytest.fail(f"{fqcn} is not in the venv's ansible package")


def test_dependencies_name_every_collection_used():
    # FQCNs (namespace.collection.name) in the shipped YAML and templates; the plugins
    # import no other collection (harbor.deploy's module_utils only).
    used = set()
    for where in SHIPPED:
        for path in (TOP / where).rglob("*"):
            if path.is_file() and path.suffix in {".yml", ".yaml", ".j2"}:
                used |= set(re.findall(r"\b((?:ansible|community|containers|kubernetes)\.[a-z0-9_]+)\.[a-z0-9_]+", path.read_text()))
    used -= {"ansible.builtin", "ansible.legacy"}
    assert used == set(DEPS), (
        f"used but not declared: {sorted(used - set(DEPS))}; declared but not used: {sorted(set(DEPS) - used)}"
    )
    for path in (TOP / "plugins").rglob("*.py"):
        others = set(re.findall(r"ansible_collections\.([a-z0-9_]+\.[a-z0-9_]+)", path.read_text())) - {"harbor.deploy"}
        assert not others, f"{path.relative_to(TOP)} imports {others}: declare them in galaxy.yml"


@pytest.mark.parametrize("fqcn", sorted(DEPS))
def test_each_dependency_has_a_floor_and_a_ceiling_the_venv_meets(fqcn):
    spec = DEPS[fqcn]
    assert re.fullmatch(r">=\d+\.\d+\.\d+,<\d+\.0\.0", spec), f"{fqcn}: '{spec}' should be '>=X.Y.Z,<N.0.0'"
    version = _bundled_version(fqcn)
    assert meets_requirements(version, spec), f"{fqcn} {version} (the venv's) does not meet {spec}"


def test_requirements_yml_lists_exactly_the_dependencies():
    listed = {c["name"]: c["version"] for c in _load("requirements.yml")["collections"]}
    assert listed == DEPS


def test_requires_ansible_holds_for_the_tested_core():
    floor = _load("meta/runtime.yml")["requires_ansible"]
    assert Version(ANSIBLE_CORE_VERSION) in SpecifierSet(floor), f"ansible-core {ANSIBLE_CORE_VERSION} outside {floor}"
    ee_core = _load("execution-environment.yml")["dependencies"]["ansible_core"]["package_pip"]
    ee_spec = SpecifierSet(ee_core.split("ansible-core", 1)[1])
    lowest = Version(re.search(r"(\d+\.\d+(\.\d+)?)", ee_core).group(1))
    assert lowest in SpecifierSet(floor) and Version(ANSIBLE_CORE_VERSION) in ee_spec, (
        f"the EE's {ee_core} must lie within {floor} and hold the tested {ANSIBLE_CORE_VERSION}"
    )


def test_roles_claim_the_same_floor_as_the_collection():
    """Each role's meta/main.yml min_ansible_version is the requires_ansible floor (nothing older is tested)."""
    floor = _load("meta/runtime.yml")["requires_ansible"].lstrip(">=").strip()
    claims = {role.name: str(_load("roles/%s/meta/main.yml" % role.name)["galaxy_info"]["min_ansible_version"])
              for role in sorted((TOP / "roles").iterdir()) if (role / "meta" / "main.yml").exists()}
    wrong = {name: claim for name, claim in claims.items() if Version(claim) != Version(floor)}
    assert claims and not wrong, "min_ansible_version must be %s like requires_ansible: %s" % (floor, wrong)


def test_execution_environment_definition():
    ee = _load("execution-environment.yml")
    assert ee["version"] == 3
    deps = ee["dependencies"]
    assert deps["galaxy"] == "requirements.yml"
    meta = _load("meta/execution-environment.yml")
    assert meta["version"] == 1
    assert {deps["python"], deps["system"]} == {meta["dependencies"]["python"], meta["dependencies"]["system"]}
    ignored = GALAXY["build_ignore"]
    for rel in ("execution-environment.yml", "requirements.yml", "meta/execution-environment.yml",
                deps["python"], deps["system"]):
        assert (TOP / rel).is_file(), rel
        assert not any(fnmatch.fnmatch(rel, pat) or rel.split("/")[0] == pat for pat in ignored), f"{rel} is build_ignored"
    python = (TOP / deps["python"]).read_text()
    assert re.search(r"^cryptography\b", python, re.M), "community.crypto runs on the controller (certs): cryptography"


def test_license():
    assert GALAXY["license"] == ["Apache-2.0"] and "license_file" not in GALAXY
    text = (TOP / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License") and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply the Apache License" in text
