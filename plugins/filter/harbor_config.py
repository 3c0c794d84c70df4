# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The filter harbor_config_errors: what is wrong with the config role's declarations, before any change.

Its documentation lives beside this file in harbor_config_errors.yml.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.validation import check_type_bool, check_type_int
from ansible.module_utils.six import string_types

STATES = ("present", "absent")
BOOL = "bool"
INT = "int"
STR = "str"
LIST = "list"
DICT = "dict"
RAW = "raw"

# Per list of the role: the key naming an item, and every key an item may have with its type.
# The keys are the options of the module the role calls for that list (and state).
KINDS = {
    "registries": ("name", {
        "name": STR, "state": STR, "type": STR, "url": STR, "description": STR, "insecure": BOOL,
        "ca_certificate": STR, "credential": DICT, "update_secret": BOOL}),
    "projects": ("name", {
        "name": STR, "state": STR, "public": BOOL, "storage_limit": RAW, "auto_scan": BOOL, "prevent_vul": BOOL,
        "severity": STR, "enable_content_trust": BOOL, "enable_content_trust_cosign": BOOL,
        "auto_sbom_generation": BOOL, "proxy_cache": STR}),
    "robots": ("name", {
        "name": STR, "state": STR, "level": STR, "project": STR, "description": STR, "duration": INT,
        "disable": BOOL, "permissions": LIST, "refresh_secret": BOOL, "secret_file": STR}),
    "replications": ("name", {
        "name": STR, "state": STR, "description": STR, "enabled": BOOL, "direction": STR, "registry": STR,
        "dest_namespace": STR, "dest_namespace_replace_count": INT, "filters": LIST, "trigger": DICT,
        "override": BOOL, "replicate_deletion": BOOL, "speed": INT, "copy_by_chunk": BOOL}),
    "retentions": ("project", {"project": STR, "state": STR, "rules": LIST, "schedule": STR}),
}
ORDER = ("registries", "projects", "retentions", "robots", "replications")
GC_KEYS = {"schedule": STR, "cron": STR, "delete_untagged": BOOL, "workers": INT}
GC_SCHEDULES = ("None", "Hourly", "Daily", "Weekly", "Custom")
PRUNABLE = ("registries", "projects", "robots", "replications")
SEVERITIES = ("none", "low", "medium", "high", "critical")
# Keys whose values may hold a secret: a message names their type, never the value.
SECRET_KEYS = ("credential", "access_secret")
CREDENTIAL_KEYS = {"type": STR, "access_key": STR, "access_secret": STR}
PERMISSION_KEYS = {"kind": STR, "namespace": STR, "access": LIST}
ACCESS_KEYS = {"resource": STR, "action": STR, "effect": STR}
FILTER_KEYS = {"type": STR, "value": RAW, "decoration": STR}
FILTER_TYPES = ("name", "tag", "label", "resource")
TRIGGER_KEYS = {"type": STR, "cron": STR}
TRIGGER_TYPES = ("manual", "scheduled", "event_based")
RULE_KEYS = {"template": STR, "count": INT, "days": INT, "tags": STR, "tags_decoration": STR, "untagged": BOOL,
             "repositories": STR, "repositories_decoration": STR, "disabled": BOOL}
# Harbor v2.15's retention rule templates (GET /retentions/metadatas) and the key each one needs
# (harbor.deploy.harbor_retention's count or days).
RETENTION_TEMPLATES = {"always": None, "latestPushedK": "count", "latestPulledN": "count",
                       "nDaysSinceLastPush": "days", "nDaysSinceLastPull": "days"}
DECORATIONS = ("matches", "excludes")
RETENTION_DECORATIONS = {"tags_decoration": DECORATIONS, "repositories_decoration": DECORATIONS}
NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
CRON_FIELDS = 6
MAX_RETENTION_RULES = 15


def _type_error(value, kind, secret=False):
    """A message when `value` is not of `kind` (as Ansible converts options: "yes", "3" accepted), else None.

    With `secret`, the message names the value's type, never the value (it may hold a password)."""
    checks = {BOOL: check_type_bool, INT: check_type_int}
    try:
        if kind in checks:
            if isinstance(value, bool) and kind == INT:
                raise TypeError("a boolean")
            checks[kind](value)
        elif kind == STR and not isinstance(value, string_types):
            raise TypeError("%s" % type(value).__name__)
        elif kind == LIST and not isinstance(value, list):
            raise TypeError("%s" % type(value).__name__)
        elif kind == DICT and not isinstance(value, dict):
            raise TypeError("%s" % type(value).__name__)
    except (TypeError, ValueError):
        shown = "a %s (value not shown)" % type(value).__name__ if secret else repr(value)
        return "must be a %s, not %s" % ({BOOL: "boolean", INT: "whole number", STR: "string", LIST: "list",
                                          DICT: "mapping"}[kind], shown)
    return None


def _check_keys(errors, where, item, spec):
    """Unknown keys and wrong types of a mapping, one message each."""
    for key in sorted(item, key=str):
        if key not in spec:
            errors.append("%s: unknown key %r (known: %s)" % (where, key, ", ".join(sorted(spec))))
            continue
        if item[key] is None or spec[key] == RAW:
            continue
        problem = _type_error(item[key], spec[key], secret=key in SECRET_KEYS)
        if problem:
            errors.append("%s.%s: %s" % (where, key, problem))


def _choice(errors, where, item, key, choices):
    value = item.get(key)
    if value is not None and value not in choices:
        errors.append("%s.%s: %r is not one of %s" % (where, key, value, ", ".join(choices)))


def _cron(errors, where, value):
    if value is not None and len(str(value).split()) != CRON_FIELDS:
        errors.append("%s: %r is not a cron expression of 6 fields, seconds first (such as '0 0 2 * * *')"
                      % (where, value))


class _Checker:
    def __init__(self, config, permissions):
        self.config = config
        self.permissions = permissions
        self.errors = []
        self.items = {}  # kind -> [(where, item)] of the well-formed items
        self.present = {}  # kind -> set of names declared present
        self.absent = {}

    def run(self):
        for kind in ORDER:
            self.collect(kind)
        for kind in ORDER:
            for where, item in self.items.get(kind, []):
                if item.get("state", "present") == "present":
                    getattr(self, "check_" + kind)(where, item)
        self.check_gc()
        self.check_settings()
        self.check_prune()
        return self.errors

    def collect(self, kind):
        key, spec = KINDS[kind]
        name = "config_" + kind
        items = self.config.get(kind)
        if items is None:
            return
        if not isinstance(items, list):
            self.errors.append("%s: must be a list of mappings, not %s" % (name, type(items).__name__))
            return
        seen = {}
        self.present[kind], self.absent[kind] = set(), set()
        for index, item in enumerate(items):
            where = "%s[%d]" % (name, index)
            if not isinstance(item, dict):
                self.errors.append("%s: must be a mapping, not %r" % (where, item))
                continue
            ident = item.get(key)
            if not isinstance(ident, string_types) or not ident:
                self.errors.append("%s: %s is required (a non-empty string)" % (where, key))
                continue
            where = "%s (%s %s)" % (where, key, ident)
            _check_keys(self.errors, where, item, spec)
            _choice(self.errors, where, item, "state", STATES)
            if ident in seen:
                self.errors.append("%s: %s %r is declared twice (also %s)" % (where, key, ident, seen[ident]))
                continue
            seen[ident] = "%s[%d]" % (name, index)
            (self.absent if item.get("state") == "absent" else self.present)[kind].add(ident)
            self.items.setdefault(kind, []).append((where, item))

    def declared(self, where, kind, name, key):
        """A present item refers to `name` of `kind`: it must be declared present in the same run."""
        if name is None:
            return
        if name in self.absent.get(kind, ()):
            self.errors.append("%s.%s: %r is declared with state absent in config_%s" % (where, key, name, kind))
        elif name not in self.present.get(kind, ()):
            self.errors.append("%s.%s: %r is not declared in config_%s (declare it, with its settings, so that it "
                               "exists before this item)" % (where, key, name, kind))

    def check_registries(self, where, item):
        credential = item.get("credential")
        if isinstance(credential, dict):
            _check_keys(self.errors, where + ".credential", credential, CREDENTIAL_KEYS)
            _choice(self.errors, where + ".credential", credential, "type", ("basic", "oauth"))
            if not credential.get("access_key"):
                self.errors.append("%s.credential.access_key: is required with a credential" % where)
        if item.get("update_secret") and not (isinstance(credential, dict) and credential.get("access_secret")):
            self.errors.append("%s.update_secret: needs credential.access_secret" % where)

    def check_projects(self, where, item):
        name = item["name"]
        if not NAME_RE.match(name) or len(name) > 255:
            self.errors.append("%s.name: Harbor's project names are lower case letters, digits and . _ - between "
                               "them, not %r" % (where, name))
        _choice(self.errors, where, item, "severity", SEVERITIES)
        self.declared(where, "registries", item.get("proxy_cache"), "proxy_cache")

    def check_robots(self, where, item):
        level = item.get("level", "system")
        _choice(self.errors, where, item, "level", ("system", "project"))
        if level == "project":
            if not item.get("project"):
                self.errors.append("%s.project: is required with level project" % where)
            self.declared(where, "projects", item.get("project"), "project")
        elif item.get("project") is not None:
            self.errors.append("%s.project: only with level project" % where)
        permissions = item.get("permissions")
        if not permissions:
            self.errors.append("%s.permissions: is required (a robot without permissions cannot do anything)" % where)
            return
        if not isinstance(permissions, list):
            return
        for index, perm in enumerate(permissions):
            self.check_permission("%s.permissions[%d]" % (where, index), perm, level)

    def check_permission(self, where, perm, level):
        if not isinstance(perm, dict):
            self.errors.append("%s: must be a mapping, not %r" % (where, perm))
            return
        _check_keys(self.errors, where, perm, PERMISSION_KEYS)
        kind = perm.get("kind", "project")
        _choice(self.errors, where, perm, "kind", ("system", "project"))
        if level == "project" and kind != "project":
            self.errors.append("%s.kind: a project level robot has project permissions only" % where)
        if kind == "project" and level == "system":
            namespace = perm.get("namespace")
            if not namespace:
                self.errors.append("%s.namespace: is required for project permissions of a system robot (a project "
                                   "name, or * for every project)" % where)
            elif namespace != "*":
                self.declared(where, "projects", namespace, "namespace")
        access = perm.get("access")
        if not access or not isinstance(access, list):
            self.errors.append("%s.access: is required (a list of resource and action)" % where)
            return
        known = (self.permissions or {}).get(kind) if isinstance(self.permissions, dict) else None
        for index, entry in enumerate(access):
            here = "%s.access[%d]" % (where, index)
            if not isinstance(entry, dict):
                self.errors.append("%s: must be a mapping, not %r" % (here, entry))
                continue
            _check_keys(self.errors, here, entry, ACCESS_KEYS)
            for key in ("resource", "action"):
                if not entry.get(key):
                    self.errors.append("%s.%s: is required" % (here, key))
            if known is None or not entry.get("resource") or not entry.get("action"):
                continue
            pairs = {(p.get("resource"), p.get("action")) for p in known if isinstance(p, dict)}
            if (entry["resource"], entry["action"]) not in pairs:
                actions = sorted(a for r, a in pairs if r == entry["resource"])
                hint = ("the %s actions of %s are %s" % (kind, entry["resource"], ", ".join(actions)) if actions else
                        "Harbor has no %s resource %r (it has %s)" % (kind, entry["resource"],
                                                                      ", ".join(sorted({pair[0] for pair in pairs}))))
                self.errors.append("%s: %s %s is not a %s permission of this Harbor: %s"
                                   % (here, entry["resource"], entry["action"], kind, hint))

    def check_replications(self, where, item):
        _choice(self.errors, where, item, "direction", ("push", "pull"))
        for key in ("direction", "registry"):
            if not item.get(key):
                self.errors.append("%s.%s: is required" % (where, key))
        self.declared(where, "registries", item.get("registry"), "registry")
        for index, flt in enumerate(item.get("filters") or []):
            here = "%s.filters[%d]" % (where, index)
            if not isinstance(flt, dict):
                self.errors.append("%s: must be a mapping, not %r" % (here, flt))
                continue
            _check_keys(self.errors, here, flt, FILTER_KEYS)
            if not flt.get("type"):
                self.errors.append("%s.type: is required" % here)
            _choice(self.errors, here, flt, "type", FILTER_TYPES)
            _choice(self.errors, here, flt, "decoration", DECORATIONS)
        trigger = item.get("trigger")
        if isinstance(trigger, dict):
            here = where + ".trigger"
            _check_keys(self.errors, here, trigger, TRIGGER_KEYS)
            _choice(self.errors, here, trigger, "type", TRIGGER_TYPES)
            if trigger.get("type") == "scheduled":
                if not trigger.get("cron"):
                    self.errors.append("%s.cron: is required with type scheduled" % here)
                _cron(self.errors, here + ".cron", trigger.get("cron"))
                fields = str(trigger.get("cron") or "").split()
                if len(fields) == CRON_FIELDS and (fields[0] != "0" or fields[1] == "*"):
                    self.errors.append("%s.cron: Harbor runs replications at most once a minute: the seconds field "
                                       "must be 0 and the minutes field not *, got %r" % (here, trigger["cron"]))
            elif trigger.get("cron"):
                self.errors.append("%s.cron: only with type scheduled" % here)

    def check_retentions(self, where, item):
        self.declared(where, "projects", item["project"], "project")
        rules = item.get("rules")
        if not rules or not isinstance(rules, list):
            self.errors.append("%s.rules: is required (a list of 1 to %d rules)" % (where, MAX_RETENTION_RULES))
            return
        if len(rules) > MAX_RETENTION_RULES:
            self.errors.append("%s.rules: %d rules, Harbor takes %d at most"
                               % (where, len(rules), MAX_RETENTION_RULES))
        if item.get("schedule"):
            _cron(self.errors, where + ".schedule", item["schedule"])
            if str(item["schedule"]).split()[0] != "0":
                self.errors.append("%s.schedule: Harbor needs the seconds field of a retention schedule to be 0, got %r"
                                   % (where, item["schedule"]))
        for index, rule in enumerate(rules):
            here = "%s.rules[%d]" % (where, index)
            if not isinstance(rule, dict):
                self.errors.append("%s: must be a mapping, not %r" % (here, rule))
                continue
            _check_keys(self.errors, here, rule, RULE_KEYS)
            template = rule.get("template")
            if template not in RETENTION_TEMPLATES:
                self.errors.append("%s.template: %r is not one of %s"
                                   % (here, template, ", ".join(sorted(RETENTION_TEMPLATES))))
                continue
            for key, choices in RETENTION_DECORATIONS.items():
                _choice(self.errors, here, rule, key, choices)
            param = RETENTION_TEMPLATES[template]
            if param and rule.get(param) is None:
                self.errors.append("%s.%s: is required by template %s" % (here, param, template))
            for other in ("count", "days"):
                if other != param and rule.get(other) is not None:
                    self.errors.append("%s.%s: template %s takes %s"
                                       % (here, other, template, param or "neither count nor days"))

    def check_gc(self):
        gc = self.config.get("gc")
        if gc is None or gc == {}:
            return
        if not isinstance(gc, dict):
            self.errors.append("config_gc: must be a mapping, not %r" % (gc,))
            return
        _check_keys(self.errors, "config_gc", gc, GC_KEYS)
        _choice(self.errors, "config_gc", gc, "schedule", GC_SCHEDULES)
        if gc.get("schedule") == "Custom":
            if not gc.get("cron"):
                self.errors.append("config_gc.cron: is required with schedule Custom")
            _cron(self.errors, "config_gc.cron", gc.get("cron"))
        elif gc.get("cron"):
            self.errors.append("config_gc.cron: only with schedule Custom")
        workers = gc.get("workers")
        if workers is not None and not _type_error(workers, INT) and not 1 <= int(workers) <= 5:
            self.errors.append("config_gc.workers: %s is not between 1 and 5" % workers)

    def check_settings(self):
        settings = self.config.get("settings")
        if settings is not None and not isinstance(settings, dict):
            self.errors.append("config_settings: must be a mapping of Harbor's configuration items, not %r"
                               % (settings,))

    def check_prune(self):
        prune = self.config.get("prune")
        if prune is None:
            return
        if not isinstance(prune, list):
            self.errors.append("config_prune: must be a list of %s" % ", ".join(PRUNABLE))
            return
        for index, kind in enumerate(prune):
            if kind not in PRUNABLE:
                self.errors.append("config_prune[%d]: %r is not one of %s" % (index, kind, ", ".join(PRUNABLE)))


def harbor_config_errors(config, permissions=None):
    """List what is wrong with the config role's declarations; an empty list means valid."""
    if not isinstance(config, dict):
        raise AnsibleFilterError("harbor_config_errors: expects a mapping of the config role's lists, not %s"
                                 % type(config).__name__)
    if permissions is not None and not isinstance(permissions, dict):
        raise AnsibleFilterError("harbor_config_errors: permissions must be GET /api/v2.0/permissions' answer "
                                 "(a mapping with system and project)")
    return _Checker(config, permissions).run()


def _results(registered):
    if not isinstance(registered, dict):
        return []
    return [r for r in registered.get("results") or [] if isinstance(r, dict) and not r.get("skipped")]


def harbor_config_new(registered, key):
    """The names of the items a looped config task created, or would create in check mode (RV `key` is null)."""
    names = []
    for result in _results(registered):
        item = result.get("item") or {}
        if result.get("changed") and result.get(key) is None and not result.get("failed"):
            names.append(item.get("name"))
    return [n for n in names if n]


def harbor_config_robot_report(registered, check=False):
    """One line per robot of the (no_log) robot task: whether it changed, and where its new secret went."""
    lines = []
    for result in (registered or {}).get("results") or []:
        item = result.get("item") or {}
        name = item.get("name", "?")
        if result.get("skipped"):
            lines.append("%s: not looked at (check mode: its project is created by this run)" % name)
        elif result.get("failed"):
            lines.append("%s: failed" % name)
        elif not result.get("changed"):
            lines.append("%s: as declared" % name)
        else:
            secret = ""
            if result.get("secret_created") and item.get("secret_file"):
                secret = ", %s secret for %s on the controller" % ("a new" if check else "new", item["secret_file"])
            elif result.get("secret_created"):
                secret = ", %s secret not kept (no secret_file)" % ("a new" if check else "its new")
            lines.append("%s: %s%s" % (name, "would change" if check else "changed", secret))
    return lines


class FilterModule:
    """The config role's filters."""

    def filters(self):
        return {"harbor_config_errors": harbor_config_errors, "harbor_config_new": harbor_config_new,
                "harbor_config_robot_report": harbor_config_robot_report}
