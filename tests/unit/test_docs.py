"""tools/docs.py (`make docs`): every plugin and role gets a page, and broken documentation fails.

The generator runs once over this tree (one ansible-doc process) into a temporary
directory; a second run over a small broken collection checks that it fails.
Nothing here lists the modules or roles: they are read from plugins/ and roles/.
"""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "docs.py"
LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def run(dest, *extra):
    return subprocess.run([sys.executable, str(TOOL), "--dest", str(dest), *extra],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    dest = tmp_path_factory.mktemp("docs")
    return dest, run(dest)


def page(dest, relative):
    path = dest / relative
    assert path.is_file(), f"{relative} not generated"
    return path.read_text()


def row(text, name):
    """The table row of option NAME (top level) in a page."""
    rows = [line for line in text.splitlines() if line.startswith("| ") and f"</a>`{name}`" in line]
    assert rows, f"no table row for {name}"
    return rows[0]


def test_documentation_is_complete(docs):
    _, result = docs
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_has_a_page(docs):
    dest, _ = docs
    modules = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if not p.name.startswith("_"))
    assert modules
    missing = [m for m in modules if not (dest / "module" / f"{m}.md").is_file()]
    assert not missing, f"modules without a page: {missing}"


def test_every_role_has_a_page(docs):
    dest, _ = docs
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())
    assert roles
    missing = [r for r in roles if not (dest / "role" / f"{r}.md").is_file()]
    assert not missing, f"roles without a page: {missing}"


def test_module_option_with_its_choices(docs):
    dest, _ = docs
    schedule = row(page(dest, "module/harbor_gc.md"), "schedule")
    for choice in ("None", "Hourly", "Daily", "Weekly", "Custom"):
        assert f"`{choice}`" in schedule
    assert "| str |" in schedule


def test_role_option_with_type_and_default(docs):
    dest, _ = docs
    text = page(dest, "role/backup.md")
    keep = row(text, "backup_keep")
    assert "| int |" in keep and "| `0` |" in keep
    assert "backup_dir" in keep  # the description
    assert "## Entry point `restore`" in text


def test_index_links_every_page(docs):
    dest, _ = docs
    index = page(dest, "index.md")
    assert index.startswith("# harbor.deploy ")
    pages = {p.relative_to(dest).as_posix() for p in dest.rglob("*.md")} - {"index.md"}
    linked = set(LINK.findall(index))
    assert pages - linked == set(), "pages the index does not link"
    assert linked - pages == set(), "index links to missing pages"


def test_links_between_pages_resolve(docs):
    dest, _ = docs
    for path in sorted(dest.rglob("*.md")):
        for target in LINK.findall(path.read_text()):
            assert (path.parent / target).resolve().is_file(), f"{path.relative_to(dest)} links to missing {target}"


BROKEN_MODULE = '''
DOCUMENTATION = r"""
module: half
short_description: A module whose docs miss things
description: Uses O(unclosed markup.
options:
  named:
    description: Fine.
    type: str
  bare:
    type: int
"""
RETURN = r"""
thing:
  type: str
  returned: always
"""
'''


def test_broken_documentation_fails(tmp_path):
    root = tmp_path / "collection"
    for relative, text in {
        "galaxy.yml": "namespace: fake\nname: broken\nversion: 1.0.0\nreadme: README.md\nauthors: [x]\n",
        "plugins/modules/half.py": BROKEN_MODULE,
        "plugins/modules/nodoc.py": "print('no DOCUMENTATION')\n",
        "plugins/action/orphan.py": "from ansible.plugins.action import ActionBase\n",
        "roles/nospec/tasks/main.yml": "- ansible.builtin.debug: {msg: x}\n",
        "roles/badyaml/meta/argument_specs.yml": "argument_specs:\n  main:\n    options: [\n",
        "roles/nodesc/meta/argument_specs.yml": textwrap.dedent("""\
            argument_specs:
              main:
                short_description: A role
                options:
                  described: {type: str, description: Fine.}
                  parent:
                    type: dict
                    description: Has a bare suboption.
                    options:
                      child: {type: int}
            """),
    }.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    dest = tmp_path / "docs"
    result = run(dest, "--root", str(root))
    assert result.returncode == 1, result.stdout + result.stderr
    for problem in (
        "module fake.broken.nodoc: ",
        "module fake.broken.half: option bare has no description",
        "module fake.broken.half: return value thing has no description",
        "module fake.broken.half: markup error",
        "plugins/action/orphan.py: action plugin without a documented module",
        "roles/nospec: no meta/argument_specs.yml",
        "roles/badyaml: ansible-doc skipped the role",
        "role fake.broken.nodesc entry point main: option parent.child has no description",
    ):
        assert problem in result.stderr, f"{problem!r} not reported:\n{result.stderr}"
    # what could be read is still written
    assert (dest / "module" / "half.md").is_file() and (dest / "role" / "nodesc.md").is_file()
    assert "fake.broken.nodoc" in (dest / "index.md").read_text()
