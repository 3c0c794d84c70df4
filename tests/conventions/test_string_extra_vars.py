"""Numbers and booleans given on the command line are strings, and every role takes them.

`-e certs_renew_before_days=400` makes the variable the string "400". argument_specs accepts
it as an int but does not convert the variable the tasks see, and ansible-core 2.19 then
crashes on a comparison or arithmetic ("'>=' not supported between instances of
'_AnsibleTaggedStr' and 'int'"), refuses it as a conditional ("Conditional result (...) was
of type 'str'"), or, worse, takes "false" for true wherever it is used as a boolean
without `| bool`. So every use of an int/bool/float option converts it (`| int`, `| bool`,
`| float`, or `| string` where a string is wanted). The raw options whose choices are
booleans (trust_docker: auto/true/false) count as booleans.

- test_validation_takes_strings: per role, one ansible-playbook on localhost (check mode)
  checks the role's argument spec and runs its tasks/validate.yml with every such option
  given as `-e name=value` (its default, or a valid value from its choices).
- test_typed_options_are_converted: per role, every Jinja reference to such an option (of
  any role) in tasks/, handlers/, templates/, vars/ and defaults/ (`when:`, `that:`,
  `changed_when:`... are Jinja without braces) is followed by a conversion filter (after
  an optional `| default(...)`) or by `is defined`/`is undefined`, except where the string
  does no harm (each case with its reason):
  * the option is the whole value (`{{ x }}`, `{{ x if c else 0 }}`) of a module argument
    the module's documentation types bool (for a bool) or int/float/str/path (for a number),
    or of a task keyword Ansible types so (no_log, ignore_errors, retries...): both convert;
  * a number printed into a longer string or a template, or joined with `~`: same text;
  * an option printed in a message (name, msg, fail_msg, success_msg, loop label);
  * a variable defined as the option itself (`vars: {__x: "{{ x }}"}`, set_fact, vars/,
    defaults/): the alias is then checked like the option wherever the role uses it;
    the keys of defaults/ (the definitions of the options) are not read;
  * ALLOWED below, each with its reason.
  test_the_static_check_catches_what_it_should pins these rules on snippets.
"""
import functools
import json
import os
import pathlib
import subprocess
import sys
import time

import jinja2
import pytest
import yaml

TOP = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (TOP / "roles").iterdir() if (p / "tasks" / "main.yml").exists())
COLLECTIONS = TOP / ".cache" / "collections"
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).parent / "ansible-playbook"

CONVERSIONS = {"int", "bool", "float", "string"}
MESSAGE_KEYS = {"name", "msg", "fail_msg", "success_msg", "label"}
CONDITIONAL_KEYWORDS = {"when", "changed_when", "failed_when", "until"}
CRASHES = (
    "not supported between instances",
    "Conditional result",
    "filter coerced invalid value",  # `| bool` on something that is no boolean (e.g. 'auto')
)

# What a role's validation needs besides its typed options: the required options, and the
# values its tasks/validate.yml needs to get to its end on a controller without Harbor.
NEEDS = {
    "install": {
        "install_hostname": "harbor.example.com",
        "install_admin_password": "Str0ngAdminPassword",
        "install_database_password": "Str0ngDatabasePassword",
        "install_release_dir": "/nonexistent/v2.15.2/harbor",  # check mode stops at the missing release
        "install_version": "v2.15.2",
    },
    "trust": {
        "trust_registry": "harbor.example.com",
        "trust_ca_content": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    },
    "upgrade": {"upgrade_version": "v2.15.2"},  # defaults to bundle_version, unset outside a site run
    # default to the install role's install_endpoint and install_admin_password, unset outside a site run
    "config": {"config_api_url": "https://harbor.example.com", "config_api_password": "Str0ngAdminPassword"},
    # the nodes default to the hosts of the harbor group, empty here; their CA is needed to check them
    "loadbalancer": {
        "loadbalancer_backends": [{"name": "harbor1", "address": "10.0.0.11"}, {"name": "harbor2", "address": "10.0.0.12"}],
        "loadbalancer_backend_ca": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    },
    "database": {"database_password": "Str0ngDatabasePassword"},
}

# (file relative to the top, option): why that reference needs no conversion.
ALLOWED = {}


def _load(path):
    return yaml.safe_load(path.read_text()) or {}


def _specs(role):
    return _load(role / "meta" / "argument_specs.yml")["argument_specs"]


def _options(role):
    """Every option of every entry point of the role."""
    options = {}
    for entry in _specs(role).values():
        options.update(entry.get("options") or {})
    return options


def _kind(option):
    kind = option.get("type", "str")
    if kind in ("int", "bool", "float"):
        return kind
    if kind == "raw" and any(isinstance(choice, bool) for choice in option.get("choices", [])):
        return "bool"
    return None


TYPED = {name: _kind(opt) for role in ROLES for name, opt in _options(role).items() if _kind(opt)}


@pytest.fixture(params=ROLES, ids=lambda p: p.name)
def role(request):
    return request.param


# --- runtime ---------------------------------------------------------------------------

def _cli_value(option):
    """The option as `-e name=value` gives it: its default, else a valid value."""
    kind, default = _kind(option), option.get("default")
    if kind == "bool":
        if isinstance(default, bool):
            return str(default).lower()
        return "false"  # e.g. raw auto/true/false: the string form of a boolean choice
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        return str(default)
    numbers = [c for c in option.get("choices", []) if isinstance(c, (int, float)) and not isinstance(c, bool)]
    return str(numbers[0] if numbers else 1)


def test_validation_takes_strings(role, tmp_path):
    main = _specs(role)["main"].get("options") or {}
    needs = NEEDS.get(role.name, {})
    missing = sorted(n for n, o in main.items() if o.get("required") and n not in needs)
    assert not missing, f"{role.name}: add a value for the required {missing} to NEEDS in this test"
    assert (role / "tasks" / "validate.yml").exists(), f"{role.name}: the role has no tasks/validate.yml"
    strings = {name: _cli_value(opt) for name, opt in _options(role).items() if _kind(opt)}

    play = [{
        "name": f"Validate harbor.deploy.{role.name} with its numbers and booleans as strings",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "tasks": [
            {"name": "Check the main argument spec", "ansible.builtin.validate_argument_spec": {"argument_spec": main}},
            {"name": "Run the role's validation",
             "ansible.builtin.include_role": {"name": f"harbor.deploy.{role.name}", "tasks_from": "validate.yml"}},
        ],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    (tmp_path / "needs.json").write_text(json.dumps(needs))
    cmd = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "--check", "play.yml", "-e", "@needs.json"]
    for name, value in sorted(strings.items()):
        cmd += ["-e", f"{name}={value}"]  # key=value: Ansible keeps them strings
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_PIPELINING="1", ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    env.pop("ANSIBLE_CONFIG", None)
    start = time.monotonic()
    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    where = f"{role.name} ({time.monotonic() - start:.1f}s) with " + " ".join(f"-e {n}={v}" for n, v in sorted(strings.items()))
    assert result.returncode == 0, f"{where}: rc {result.returncode}\n{output[-4000:]}"
    crashes = [line for line in output.splitlines() if any(c in line for c in CRASHES)]
    assert not crashes, f"{where}:\n" + "\n".join(crashes)


# --- static ----------------------------------------------------------------------------

_JINJA = jinja2.Environment()


_ANSIBLE_FACTS = r"""
import json, sys
from ansible.playbook.block import Block
from ansible.playbook.handler import Handler
from ansible.playbook.task import Task
from ansible.plugins.loader import fragment_loader, init_plugin_loader, module_loader
from ansible.utils.plugin_docs import get_docstring

collections, modules = sys.argv[1], sys.argv[2:]
keywords = {name: attr.isa for cls in (Block, Task, Handler) for name, attr in cls.fattributes.items()}
init_plugin_loader([collections])
options = {}
for module in modules:
    context = module_loader.find_plugin_with_context(module)
    if context.resolved:
        doc = get_docstring(context.plugin_resolved_path, fragment_loader, is_module=True,
                            collection_name=context.plugin_resolved_collection)[0] or {}
        options[module] = doc.get("options") or {}
print(json.dumps({"keywords": keywords, "options": options}, default=str))
"""


def _task_keys(node):
    if isinstance(node, list):
        for item in node:
            yield from _task_keys(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            if key in ("block", "rescue", "always"):
                yield from _task_keys(value)


@functools.lru_cache(maxsize=None)
def _ansible_facts():
    """Ansible's task keywords with the type it converts them to, and the documented options of
    every module the roles use; read in a child process (the plugin loader stays out of pytest)."""
    keys = {key for role in ROLES for folder in ("tasks", "handlers")
            for path in (role / folder).glob("*.yml") for key in _task_keys(_load_list(path))}
    modules = sorted(key for key in keys if "." in key)
    result = subprocess.run([sys.executable, "-c", _ANSIBLE_FACTS, str(COLLECTIONS)] + modules,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _load_list(path):
    return yaml.safe_load(path.read_text()) or []


def _keyword_types():
    return {**_ansible_facts()["keywords"], "local_action": "dict", "include": "string"}


def _module_options(module):
    """The options of a module's documentation (aliases included), {} when not found."""
    return _with_aliases(_ansible_facts()["options"].get(module, {}))


def _with_aliases(options):
    result = {}
    for name, opt in options.items():
        for key in [name] + list(opt.get("aliases") or []):
            result[key] = opt
    return result


def _tokens(text):
    return [(line, kind, value) for line, kind, value in _JINJA.lex(text) if kind != "whitespace"]


def _skip_call(tokens, j):
    """Index after the `( ... )` at j, or j when there is none."""
    if j < len(tokens) and tokens[j][1:] == ("operator", "("):
        depth = 0
        while j < len(tokens):
            if tokens[j][1:] == ("operator", "("):
                depth += 1
            elif tokens[j][1:] == ("operator", ")"):
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
    return j


def _converted(tokens, i):
    j = i + 1
    while j + 1 < len(tokens) and tokens[j][1:] == ("operator", "|") and tokens[j + 1][1] == "name":
        if tokens[j + 1][2] in CONVERSIONS:
            return True
        if tokens[j + 1][2] not in ("default", "d"):
            return False
        j = _skip_call(tokens, j + 2)
    if j < len(tokens) and tokens[j][1:] == ("name", "is"):
        j += 1 + (j + 1 < len(tokens) and tokens[j + 1][1:] == ("name", "not"))
        return j < len(tokens) and tokens[j][1] == "name" and tokens[j][2] in ("defined", "undefined")
    return False


def _unconverted(text, context, names):
    """References to the typed options and aliases `names` that `context` does not excuse.

    context: "conditional" (when:, that:...), "message", "text" (a YAML value of unknown
    use), "definition" (the value of a variable: vars:, set_fact, vars/, defaults/),
    "template" (a .j2 file), or ("arg", TYPE): the value of a module argument or a task
    keyword that the module / Ansible converts to TYPE.
    Returns ([(token line, name, why)], kinds): kinds are the kinds of the options the
    whole value of a definition passes on as it is (the defined name is then an alias).
    """
    if context == "conditional" and "{{" not in text and "{%" not in text:
        text = "{{ " + text + " }}"
    tokens = _tokens(text)
    code = [t for t in tokens if t[1] != "data"]
    whole = bool(code) and code[0][1] == "variable_begin" and code[-1][1] == "variable_end" \
        and sum(t[1] == "variable_begin" for t in code) == 1 and not any(t[2].strip() for t in tokens if t[1] == "data")
    found, passed_on = [], set()
    for i, (line, kind, value) in enumerate(tokens):
        if kind != "name" or value not in names:
            continue
        before = tokens[i - 1][1:] if i else (None, None)
        after = tokens[i + 1][1:] if i + 1 < len(tokens) else (None, None)
        if before in (("operator", "."), ("operator", "|"), ("name", "is")) or after == ("operator", "="):
            continue  # an attribute, a filter or test name, a keyword argument, a {% set %} target
        if _converted(tokens, i):
            continue
        option_kind = names[value]
        number = option_kind in ("int", "float")
        # the value of the expression is the option itself: `{{ x }}`, `{{ x if c else y }}`, `{{ y if c else x }}`
        result = (before[0] == "variable_begin" or before == ("name", "else")) and \
                 (after[0] == "variable_end" or after == ("name", "if"))
        joined = before == ("operator", "~") or after == ("operator", "~")  # stringified: `x ~ '/tcp'`
        if context == "conditional":
            why = "in a conditional"
        elif context == "message" and (result or joined):
            continue  # printed in a message
        elif number and joined:
            continue  # the text of "22" and of 22 is the same
        elif result and whole and isinstance(context, tuple):
            wanted = {"bool", "boolean"} if option_kind == "bool" else {"int", "integer", "float", "str", "string", "path"}
            if context[1] in wanted:
                continue  # the module (or Ansible, for a keyword) converts its argument
            why = f"passed as it is to an argument typed {context[1]}"
        elif result and whole and context == "definition":
            passed_on.add(option_kind)
            continue  # the defined name is an alias: its own uses are checked
        elif result and number:
            continue  # printed into a longer text, or a value whose use is not known: the same text
        else:
            why = "used as a string" if result else "used"
        found.append((line, value, f"{why} without | {'bool' if option_kind == 'bool' else 'int'} (a {option_kind})"))
    return found, passed_on


class _Checker:
    """Reads one file of a role; names: the typed options and the role's aliases of them."""

    def __init__(self, path, names, aliases):
        self.path = path
        self.names = names
        self.aliases = aliases  # filled: {defined name: kind}
        self.rel = str(path.relative_to(TOP))
        self.lines = path.read_text().splitlines()
        self.findings = []

    def report(self, line, option, why):
        if (self.rel, option) in ALLOWED:
            return
        source = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        finding = f"{self.rel}:{line}: {option} {why}: {source}"
        if finding not in self.findings:
            self.findings.append(finding)

    def scalar(self, node, context, defines=None):
        """A YAML scalar; defines: the variable it is the value of (context "definition")."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            return
        try:
            found, passed_on = _unconverted(node.value, context, self.names)
        except jinja2.TemplateSyntaxError as exc:
            self.report(node.start_mark.line + 1, "?", f"is no valid Jinja ({exc})")
            return
        if defines and passed_on and defines not in TYPED:
            self.aliases[defines] = "bool" if "bool" in passed_on else sorted(passed_on)[0]
        for token_line, option, why in found:
            if node.style == "|":
                line = node.start_mark.line + 1 + token_line
            elif node.style == ">":
                line = node.start_mark.line + 2
            else:
                line = node.start_mark.line + 1
            self.report(line, option, why)

    def value(self, node, context="text"):
        """Any YAML value: message keys are messages, the rest text."""
        if isinstance(node, yaml.MappingNode):
            for key, sub in node.value:
                self.value(sub, "message" if key.value in MESSAGE_KEYS else context)
        elif isinstance(node, yaml.SequenceNode):
            for sub in node.value:
                self.value(sub, context)
        else:
            self.scalar(node, context)

    def definitions(self, node):
        """A mapping of variables (vars:, set_fact, vars/, defaults/): only the values are read."""
        if not isinstance(node, yaml.MappingNode):
            return self.value(node)
        for key, sub in node.value:
            if isinstance(sub, yaml.ScalarNode):
                self.scalar(sub, "definition", defines=key.value)
            else:
                self.value(sub)

    def conditional(self, node):
        for sub in node.value if isinstance(node, yaml.SequenceNode) else [node]:
            self.scalar(sub, "conditional")

    def argument(self, node, doc):
        """A module argument, typed by the module's documentation `doc` (None: unknown)."""
        doc = doc or {}
        if isinstance(node, yaml.MappingNode) and doc.get("suboptions"):
            subs = _with_aliases(doc["suboptions"])
            for key, sub in node.value:
                if key.value in MESSAGE_KEYS:
                    self.value(sub, "message")
                else:
                    self.argument(sub, subs.get(key.value))
        elif isinstance(node, yaml.SequenceNode) and doc.get("elements"):
            for sub in node.value:
                self.argument(sub, {"type": doc["elements"]})
        elif isinstance(node, yaml.ScalarNode) and doc.get("type"):
            self.scalar(node, ("arg", doc["type"]))
        else:
            self.value(node)

    def tasks(self, node):
        for task in node.value if isinstance(node, yaml.SequenceNode) else []:
            if isinstance(task, yaml.MappingNode):
                self.task(task)

    def task(self, node):
        keywords = _keyword_types()
        for key_node, sub in node.value:
            key = key_node.value
            if key in ("block", "rescue", "always"):
                self.tasks(sub)
            elif key in CONDITIONAL_KEYWORDS:
                self.conditional(sub)
            elif key == "name":
                self.value(sub, "message")
            elif key == "vars":
                self.definitions(sub)
            elif key in keywords or key.startswith("with_"):
                kind = keywords.get(key)
                if kind in ("bool", "int", "float") and isinstance(sub, yaml.ScalarNode):
                    self.scalar(sub, ("arg", kind))
                else:
                    self.value(sub)
            elif key.split(".")[-1] == "set_fact":
                self.definitions(sub)
            else:  # the module
                if not isinstance(sub, yaml.MappingNode):
                    self.value(sub)
                    continue
                options = _module_options(key)
                for arg, value in sub.value:
                    if key.split(".")[-1] == "assert" and arg.value == "that":
                        self.conditional(value)
                    elif arg.value in MESSAGE_KEYS:
                        self.value(value, "message")
                    else:
                        self.argument(value, options.get(arg.value))

    def template(self):
        try:
            found, _ = _unconverted(self.path.read_text(), "template", self.names)
        except jinja2.TemplateSyntaxError as exc:
            found = [(exc.lineno, "?", f"is no valid Jinja ({exc.message})")]
        for line, option, why in found:
            self.report(line, option, why)


def _check_role(role, names, aliases):
    findings = []
    for folder in ("tasks", "handlers"):
        for path in sorted((role / folder).glob("*.yml")):
            checker = _Checker(path, names, aliases)
            checker.tasks(yaml.compose(path.read_text(), Loader=yaml.SafeLoader))
            findings += checker.findings
    for folder in ("vars", "defaults"):
        for path in sorted((role / folder).glob("*.yml")):
            checker = _Checker(path, names, aliases)
            checker.definitions(yaml.compose(path.read_text(), Loader=yaml.SafeLoader))
            findings += checker.findings
    for path in sorted((role / "templates").rglob("*")):
        if path.is_file():
            checker = _Checker(path, names, aliases)
            checker.template()
            findings += checker.findings
    return findings


def _findings(role):
    """The findings with the role's aliases of typed options (`__x: "{{ option }}"`) tracked too."""
    aliases = {}
    while True:
        names = {**TYPED, **aliases}
        before = dict(aliases)
        findings = _check_role(role, names, aliases)
        if aliases == before:
            return findings


def test_typed_options_are_converted(role):
    findings = _findings(role)
    assert not findings, (
        f"{role.name}: numbers and booleans from -e are strings; convert them where they are used "
        "(| int, | bool, | float) or add the case to ALLOWED with its reason:\n  " + "\n  ".join(findings))


def test_the_static_check_catches_what_it_should():
    """The checker on known snippets: no alarm on correct code, no miss on broken code."""
    names = {"demo_flag": "bool", "demo_seconds": "int"}
    broken = [
        ("demo_flag", "conditional"),
        ("demo_seconds > 0", "conditional"),
        ("not demo_flag and x", "conditional"),
        ("{{ demo_seconds >= 0 }}", "text"),
        ("{{ 'a' if demo_flag else 'b' }}", "text"),
        ("{{ demo_flag }}", "text"),  # a truthy "false" handed on
        ("{{ demo_flag | ternary('a', 'b') }}", "text"),
        ("{{ demo_flag is boolean }}", "text"),
        ("{{ demo_seconds + 1 }}", "definition"),
        ("{{ range(demo_seconds) }}", "text"),
        ("x={{ demo_flag }}", "template"),
        ("{% if demo_flag %}x{% endif %}", "template"),
        ("{{ demo_flag }}", ("arg", "str")),
        ("{{ demo_seconds }}", ("arg", "raw")),
        ("{{ demo_seconds + 1 }}", ("arg", "int")),
        ("{{ [demo_seconds] }}", ("arg", "list")),
    ]
    fine = [
        ("demo_flag | bool", "conditional"),
        ("not demo_flag | bool and x", "conditional"),
        ("demo_seconds | int > 0", "conditional"),
        ("demo_seconds | default(1) | int > 0", "conditional"),
        ("demo_flag is defined", "conditional"),
        ("demo_flag is not defined", "conditional"),
        ("x.demo_flag", "conditional"),
        ("'demo_flag' in x", "conditional"),
        ("{{ demo_seconds }}", ("arg", "int")),
        ("{{ 0 if c else demo_seconds }}", ("arg", "int")),
        ("{{ demo_flag }}", ("arg", "bool")),
        ("sleep {{ demo_seconds }}", "text"),
        ("{{ [demo_seconds ~ '/tcp'] }}", "text"),
        ("timeout={{ demo_seconds }}", "template"),
        ("got {{ demo_flag }}", "message"),
        ("{{ demo_flag | string | lower }}", "template"),
        ("{{ f(demo_flag=1) }}", "text"),
        ("{{ demo_flag }}", "definition"),  # an alias, checked where it is used
    ]
    assert [s for s in broken if not _unconverted(*s, names)[0]] == []
    assert [(s, _unconverted(*s, names)[0]) for s in fine if _unconverted(*s, names)[0]] == []
    assert _unconverted("{{ demo_flag }}", "definition", names)[1] == {"bool"}


def test_aliases_are_followed(tmp_path, monkeypatch):
    """`vars: {__x: "{{ option }}"}` then `when: __x`: the alias is checked where it is used."""
    role = tmp_path / "roles" / "demo"
    (role / "tasks").mkdir(parents=True)
    (role / "tasks" / "main.yml").write_text(
        '- name: A\n  ansible.builtin.debug:\n    msg: hi\n  when: __demo_on\n  vars:\n    __demo_on: "{{ demo_flag }}"\n')
    monkeypatch.setattr(sys.modules[__name__], "TOP", tmp_path)
    monkeypatch.setitem(TYPED, "demo_flag", "bool")
    findings = _findings(role)
    assert len(findings) == 1 and "__demo_on in a conditional" in findings[0], findings
