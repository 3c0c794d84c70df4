#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_retention
short_description: Set a Harbor project's tag retention policy, or run it
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Manages the tag retention policy of one project through Harbor's API, C(/api/v2.0/retentions). A project has at
    most one policy; Harbor keeps its id in the project's metadata C(retention_id), which is how the module finds it.
  - The rules are given in a short form (O(rules)) and compared, in order, with the policy's; the schedule likewise.
    Only what is given is compared and changed; without O(rules) the policy keeps its rules, without O(schedule) its
    schedule. A change sends the whole policy back (C(PUT /api/v2.0/retentions/{id})).
  - With O(run=true), starts the policy now (C(POST /api/v2.0/retentions/{id}/executions)) and, with O(wait=true),
    waits for the execution to end, failing when it ends in error, is stopped, or takes longer than O(wait_timeout).
  - B(What retention does.) In every repository that an enabled rule selects, Harbor B(deletes the artifacts that no
    rule retains). Repositories that no rule selects are left alone. The policy runs at O(schedule) and when started
    (O(run=true), or from Harbor's web pages); use O(dry_run=true) to see what a run would delete.
options:
  project:
    description: The name of the project.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the policy, V(absent) deletes it (Harbor then clears the project's
        C(retention_id)).
      - With V(absent), a project that does not exist has no policy, and nothing changes.
    type: str
    choices: [present, absent]
    default: present
  rules:
    description:
      - The rules of the policy, in order; Harbor keeps at most 15. An artifact is retained when any enabled rule
        retains it (Harbor's algorithm C(or)).
      - Required to create the policy (an empty list makes a policy that retains and deletes nothing). For an existing
        policy, when not given, its rules are kept as they are; when given, they replace all of them.
      - Harbor refuses two identical rules; so does the module, before sending anything.
    type: list
    elements: dict
    suboptions:
      template:
        description:
          - What the rule retains, the rule templates Harbor offers (C(GET /api/v2.0/retentions/metadatas)).
          - V(latestPushedK) and V(latestPulledN), the O(rules[].count) most recently pushed or pulled artifacts;
            V(nDaysSinceLastPush) and V(nDaysSinceLastPull), the artifacts pushed or pulled within the last
            O(rules[].days) days; V(always), every artifact the rule selects.
        type: str
        required: true
        choices: [latestPushedK, latestPulledN, nDaysSinceLastPush, nDaysSinceLastPull, always]
      count:
        description:
          - The number of artifacts, for V(latestPushedK) and V(latestPulledN) (required with them, refused with the
            other templates), from 0 to 32766 (Harbor's bounds).
          - Sent as the rule's parameter named after its template (C(params) V({"latestPushedK":10})).
        type: int
      days:
        description:
          - The number of days, for V(nDaysSinceLastPush) and V(nDaysSinceLastPull) (required with them, refused with
            the other templates), from 0 to 20190904 (Harbor's bounds).
          - Sent as the rule's parameter named after its template (C(params) V({"nDaysSinceLastPull":30})).
        type: int
      tags:
        description:
          - The tags the rule applies to, a pattern with C(*), C(**), C(?) and C({a,b}) (Harbor's C(doublestar)
            selector), such as V(v*) or V({latest,stable}).
        type: str
        default: "**"
      tags_decoration:
        description: Whether the rule applies to the tags that match O(rules[].tags), or to those that do not.
        type: str
        choices: [matches, excludes]
        default: matches
      untagged:
        description:
          - Harbor's "untagged artifacts" check box (the selector's C(extras) V({"untagged":true})). With
            O(rules[].tags_decoration=matches), whether the rule applies to untagged artifacts too; with
            V(excludes), whether it leaves them out too.
          - A policy made elsewhere without it counts as Harbor reads it (V(true) with V(matches), V(false) with
            V(excludes)).
        type: bool
        default: true
      repositories:
        description: The repositories of the project the rule applies to, a pattern as O(rules[].tags) (V(**) for all).
        type: str
        default: "**"
      repositories_decoration:
        description:
          - Whether the rule applies to the repositories that match O(rules[].repositories), or to those that do not
            (Harbor's C(repoMatches) and C(repoExcludes)).
        type: str
        choices: [matches, excludes]
        default: matches
      disabled:
        description: Keep the rule in the policy but do not apply it (Harbor's "disable" action).
        type: bool
        default: false
  schedule:
    description:
      - When Harbor runs the policy, a cron expression of six fields, seconds first, the seconds being V(0) (Harbor's
        rule), such as V(0 0 3 * * *) for every day at 03:00 (Harbor's time zone, usually UTC); V("") for no schedule.
      - Sent as the trigger C({"kind":"Schedule","settings":{"cron":...}}), as Harbor's web pages do. Compared with
        the spaces between fields collapsed.
      - When not given, an existing policy keeps its schedule, and a new one has none.
    type: str
  run:
    description:
      - Start the policy now (after any change), a manual execution. It reports a change every time.
      - The policy must exist or be made by this task.
    type: bool
    default: false
  dry_run:
    description: With O(run=true), only work out what would be deleted (Harbor's "dry run"); nothing is deleted.
    type: bool
    default: false
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_wait
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details:
      - Reads the project and its policy and reports what would change; sends nothing that changes them. With
        O(run=true) it reports a change and starts nothing.
  diff_mode:
    support: full
    details:
      - Before and after are the policy's O(schedule) and O(rules) in the module's short form (a rule that does not fit
        it shows Harbor's C(tag_selectors), C(scope_selectors) or C(params) as they are); V({}) when there is no
        policy. A run is not part of the diff.
  idempotent:
    support: partial
    details: The policy is; O(run=true) starts an execution and reports a change every time.
notes:
  - Harbor lets a system administrator, and the project's administrators, maintainers and developers, manage its tag
    retention.
  - Harbor gives a new proxy cache project a policy of its own (retain what was pulled within the last 7 days, every
    day at midnight); O(rules) and O(schedule) replace it like any other.
  - Harbor has no API to read one execution; while it waits, the module reads the policy's executions (newest first)
    every 2 seconds.
  - Harbor does not check the rule templates and their parameters when the policy is saved, only when it runs; the
    module checks them before sending anything.
seealso:
  - module: harbor.deploy.harbor_project
  - module: harbor.deploy.harbor_gc
  - name: Harbor documentation, tag retention rules
    description: What the templates, selectors and the untagged option do.
    link: https://goharbor.io/docs/latest/working-with-projects/working-with-images/create-tag-retention-rules/
  - name: Harbor API (Swagger) of the release
    description: Look for C(/retentions).
    link: https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
"""

EXAMPLES = r"""
- name: Tag retention, managed from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
  tasks:
    - name: Keep the 10 latest pushed artifacts of every repository, and anything tagged release-*; daily at 03:00
      harbor.deploy.harbor_retention:
        project: platform
        rules:
          - template: latestPushedK
            count: 10
          - template: always
            tags: "release-*"
            untagged: false
        schedule: "0 0 3 * * *"

    - name: In the ci-* repositories, keep what was pulled within 30 days; no schedule
      harbor.deploy.harbor_retention:
        project: builds
        rules:
          - template: nDaysSinceLastPull
            days: 30
            repositories: "ci-*"
        schedule: ""

    - name: See what the policy would delete now (nothing is deleted)
      harbor.deploy.harbor_retention:
        project: platform
        run: true
        dry_run: true
        wait_timeout: 1800
      register: retention

    - name: No retention policy
      harbor.deploy.harbor_retention:
        project: scratch
        state: absent
"""

RETURN = r"""
policy:
  description:
    - The policy as Harbor answers C(GET /api/v2.0/retentions/{id}) after the change. C(params) values are numbers,
      C(extras) is a JSON string; empty fields are left out (a rule that is not disabled has no C(disabled)); Harbor
      adds C(next_scheduled_time) to a scheduled trigger's settings.
    - In check mode, the policy before the change; V(null) when there is none (or no longer is).
  returned: always, but when O(state=absent) and the project does not exist
  type: dict
  sample:
    id: 4
    algorithm: or
    rules:
      - id: 1
        action: retain
        template: latestPushedK
        params: {latestPushedK: 10}
        tag_selectors: [{kind: doublestar, decoration: matches, pattern: "**", extras: '{"untagged":true}'}]
        scope_selectors: {repository: [{kind: doublestar, decoration: repoMatches, pattern: "**"}]}
    trigger: {kind: Schedule, settings: {cron: "0 0 3 * * *", next_scheduled_time: "2025-06-02T03:00:00Z"}}
    scope: {level: project, ref: 3}
execution:
  description:
    - The execution started, as Harbor lists it in C(GET /api/v2.0/retentions/{id}/executions), at its end with
      O(wait=true).
    - C(status) is V(Success), V(Error) or V(Stopped) at the end, V(Running) (or V(Pending)) before.
  returned: when O(run=true), not in check mode
  type: dict
  sample:
    id: 12
    policy_id: 4
    status: Success
    trigger: MANUAL
    dry_run: true
    start_time: "2025-06-01T10:00:00Z"
    end_time: "2025-06-01T10:00:05Z"
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    ApiModule,
    api_argument_spec,
    ensure_absent,
    finish,
    get_project,
    run_module,
    wait_until,
    wait_argument_spec,
)

# Harbor's rule templates (GET /retentions/metadatas): the short option each one's parameter is given as.
TEMPLATES = {"latestPushedK": "count", "latestPulledN": "count", "nDaysSinceLastPush": "days",
             "nDaysSinceLastPull": "days", "always": None}
LIMITS = {"count": 32766, "days": 20190904}  # Harbor's rule validators refuse more
MAX_RULES = 15
REPO_DECORATIONS = {"matches": "repoMatches", "excludes": "repoExcludes"}
ENDED = ("Success", "Error", "Stopped", "Succeed", "Failed")  # the last two: older releases' retention statuses
SUCCEEDED = ("Success", "Succeed")
POLL_INTERVAL = 2.0
EXECUTIONS_PAGE = 25


def cron_text(cron):
    """A cron expression with its fields separated by one space."""
    return " ".join((cron or "").split())


def as_number(value):
    """A rule parameter as an int when it is one (Harbor answers JSON numbers; a string is possible)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def selector_untagged(selector):
    """Whether a doublestar tag selector covers untagged artifacts, as Harbor's selector reads its extras."""
    default = selector.get("decoration") != "excludes"
    raw = selector.get("extras") or ""
    if not raw:
        return default
    try:
        extras = json.loads(raw)
    except ValueError:
        return default
    if extras is None:
        return False  # Go decodes null into the zero value
    if not isinstance(extras, dict):
        return default
    value = extras.get("untagged")
    if value is None:
        return False
    return value if isinstance(value, bool) else default


def rule_view(rule):
    """A rule of Harbor's policy in the module's short form (what does not fit it, as Harbor has it)."""
    template = rule.get("template") or ""
    params = rule.get("params") or {}
    view = {"template": template}
    kind = TEMPLATES.get(template)
    if kind and template in params:
        view[kind] = as_number(params[template])
    others = {key: value for key, value in params.items() if not (kind and key == template)}
    if others:
        view["params"] = others
    tags = rule.get("tag_selectors") or []
    if len(tags) == 1 and tags[0].get("kind") == "doublestar" and tags[0].get("decoration") in ("matches", "excludes"):
        view.update(tags=tags[0].get("pattern") or "", tags_decoration=tags[0]["decoration"],
                    untagged=selector_untagged(tags[0]))
    else:
        view["tag_selectors"] = tags
    scopes = rule.get("scope_selectors") or {}
    repos = scopes.get("repository") or []
    names = {value: key for key, value in REPO_DECORATIONS.items()}
    if (set(scopes) == {"repository"} and len(repos) == 1 and repos[0].get("kind") == "doublestar"
            and repos[0].get("decoration") in names):
        view.update(repositories=repos[0].get("pattern") or "", repositories_decoration=names[repos[0]["decoration"]])
    else:
        view["scope_selectors"] = scopes
    view["disabled"] = bool(rule.get("disabled"))
    if (rule.get("action") or "retain") != "retain":
        view["action"] = rule["action"]
    return view


def policy_view(policy):
    """The policy as the module compares and shows it: its schedule and its rules; {} for no policy."""
    if policy is None:
        return {}
    trigger = policy.get("trigger") or {}
    kind = trigger.get("kind") or ""
    view = {"schedule": cron_text((trigger.get("settings") or {}).get("cron")) if kind == "Schedule" else ""}
    if kind not in ("Schedule", ""):
        view["trigger"] = kind
    view["rules"] = [rule_view(rule) for rule in policy.get("rules") or []]
    return view


def rule_body(view, number):
    """A rule of the short form as Harbor's RetentionRule (as Harbor's web pages make it)."""
    template = view["template"]
    kind = TEMPLATES[template]
    return {"id": number, "priority": 0, "disabled": view["disabled"], "action": "retain", "template": template,
            "params": {template: view[kind]} if kind else {},
            "tag_selectors": [{"kind": "doublestar", "decoration": view["tags_decoration"], "pattern": view["tags"],
                               "extras": json.dumps({"untagged": view["untagged"]}, separators=(",", ":"))}],
            "scope_selectors": {"repository": [{"kind": "doublestar",
                                                "decoration": REPO_DECORATIONS[view["repositories_decoration"]],
                                                "pattern": view["repositories"]}]}}


class RetentionModule(ApiModule):
    def __init__(self, module):
        super().__init__(module)
        self.project = module.params["project"]
        self.resource = "retention policy of project %s" % self.project

    # ------------------------------------------------------------ checks (before any request)

    def wanted_rule(self, number, rule):
        template = rule["template"]
        kind = TEMPLATES[template]
        where = "rules[%d] (%s) of the %s" % (number, template, self.resource)
        for key in ("count", "days"):
            if rule[key] is not None and key != kind:
                self.fail("%s: %s is not a parameter of this template (%s)" % (
                    where, key, "it takes %s" % kind if kind else "it takes none"))
        view = {"template": template}
        if kind:
            value = rule[kind]
            if value is None:
                self.fail("%s needs %s" % (where, kind))
            if not 0 <= value <= LIMITS[kind]:
                self.fail("%s: %s must be from 0 to %d, not %d" % (where, kind, LIMITS[kind], value))
            view[kind] = value
        for key in ("tags", "repositories"):
            if not rule[key]:
                self.fail("%s: %s must be a pattern, such as ** for all" % (where, key))
        view.update(tags=rule["tags"], tags_decoration=rule["tags_decoration"], untagged=rule["untagged"],
                    repositories=rule["repositories"], repositories_decoration=rule["repositories_decoration"],
                    disabled=rule["disabled"])
        return view

    def check(self):
        """The arguments, checked before any request: (wanted rule views or None, wanted schedule or None)."""
        params = self.params
        if params["state"] == "absent":
            if params["run"]:
                self.fail("run=true needs state=present (the %s is to be deleted)" % self.resource)
            return None, None
        rules = None
        if params["rules"] is not None:
            if len(params["rules"]) > MAX_RULES:
                self.fail("the %s may have at most %d rules (Harbor's limit), not %d"
                          % (self.resource, MAX_RULES, len(params["rules"])))
            rules = [self.wanted_rule(number, rule) for number, rule in enumerate(params["rules"], 1)]
            for number, view in enumerate(rules, 1):
                if view in rules[:number - 1]:
                    self.fail("rules[%d] of the %s is the same as rules[%d]; Harbor refuses identical rules"
                              % (number, self.resource, rules.index(view) + 1))
        schedule = params["schedule"]
        if schedule is not None:
            schedule = cron_text(schedule)
            fields = schedule.split()
            if schedule and len(fields) != 6:
                self.fail("schedule %r must be a cron expression of six fields, seconds first, such as '0 0 3 * * *' "
                          "(or '' for no schedule)" % params["schedule"])
            if schedule and fields[0] != "0":
                self.fail("schedule %r: Harbor wants the first field (the seconds) to be 0" % params["schedule"])
        if params["wait_timeout"] < 0:
            self.fail("wait_timeout must be 0 or more seconds, not %d" % params["wait_timeout"])
        return rules, schedule

    # ------------------------------------------------------------ reading

    def read_project(self):
        return get_project(self.client, self.project)

    def read_policy(self, policy_id):
        return self.client.get("/retentions/%s" % policy_id, resource="%s (id %s)" % (self.resource, policy_id))

    # ------------------------------------------------------------ run

    def run(self):
        wanted_rules, schedule = self.check()
        check_mode = self.module.check_mode
        project = self.read_project()
        if project is None:
            if self.params["state"] == "absent":
                self.module.exit_json(changed=False)
            self.fail("Harbor has no project named %r (create it first): the %s cannot be set"
                      % (self.project, self.resource))
        policy_id = (project.get("metadata") or {}).get("retention_id") or None
        current = self.read_policy(policy_id) if policy_id else None
        result = {"changed": False, "policy": current}

        if self.params["state"] == "absent":
            ensure_absent(self.module, self.client, current, "/retentions/%s" % policy_id, result, "policy",
                          policy_view(current), resource="%s (id %s)" % (self.resource, policy_id))

        if current is None and wanted_rules is None:
            self.fail("the project %s has no retention policy: give rules to create one" % self.project)
        before = policy_view(current)
        after = dict(before) if current is not None else {"schedule": "", "rules": []}
        if schedule is not None:
            after["schedule"] = schedule
            after.pop("trigger", None)
        if wanted_rules is not None:
            after["rules"] = wanted_rules
        result["changed"] = before != after
        if result["changed"] and not check_mode:
            body = self.body(project, current, wanted_rules, schedule)
            if current is None:
                answer = self.client.post("/retentions", body, resource=self.resource)
                policy_id = answer.location_id
                if policy_id is None:
                    policy_id = (self.read_project() or {}).get("metadata", {}).get("retention_id")
                if not policy_id:
                    self.fail("Harbor answered %s to the creation of the %s but does not show it"
                              % (answer.status, self.resource), changed=True)
            else:
                self.client.put("/retentions/%s" % policy_id, dict(body, id=int(policy_id)),
                                resource="%s (id %s)" % (self.resource, policy_id))
            result["policy"] = self.read_policy(policy_id)
        if self.params["run"]:
            self.start(result, policy_id)
        finish(self.module, result, before, after)

    def body(self, project, current, wanted_rules, schedule):
        """The whole policy to send (Harbor's PUT replaces it): what was given, the rest as Harbor has it."""
        current = current or {}
        if wanted_rules is not None:
            rules = [rule_body(view, number) for number, view in enumerate(wanted_rules, 1)]
        else:
            rules = current.get("rules") or []
        if schedule is not None or not current.get("trigger"):
            trigger = {"kind": "Schedule", "settings": {"cron": schedule or ""}, "references": {}}
        else:
            trigger = dict(current["trigger"])
            settings = dict(trigger.get("settings") or {})
            settings.pop("next_scheduled_time", None)  # Harbor works it out on every read
            trigger["settings"] = settings
        return {"algorithm": "or", "rules": rules, "trigger": trigger,
                "scope": {"level": "project", "ref": project["project_id"]}}

    def find_execution(self, policy_id, execution_id, resource):
        """The execution as the policy's listing shows it (newest first; Harbor has no GET of one), or None."""
        path = "/retentions/%s/executions" % policy_id
        seen = 0
        for page in range(1, 1000):
            answer = self.client.request("GET", path, query={"page": page, "page_size": EXECUTIONS_PAGE},
                                         resource=resource)
            batch = answer.data or []
            found = [e for e in batch if isinstance(e, dict) and str(e.get("id")) == str(execution_id)]
            if found:
                return found[0]
            seen += len(batch)
            total = answer.total_count
            if len(batch) < EXECUTIONS_PAGE or (total is not None and seen >= total):
                return None
        return None

    def start(self, result, policy_id):
        result["changed"] = True
        if self.module.check_mode:
            return
        answer = self.client.post("/retentions/%s/executions" % policy_id, {"dry_run": self.params["dry_run"]},
                                  resource="run of the %s (id %s)" % (self.resource, policy_id))
        execution_id = answer.location_id
        if execution_id is None:
            self.fail("Harbor started the %s but did not say the execution's id (no Location header)"
                      % self.resource, **result)
        resource = "retention execution %s of project %s" % (execution_id, self.project)

        def poll():
            return self.find_execution(policy_id, execution_id, resource)

        if not self.params["wait"]:
            result["execution"] = poll()
            return
        execution, ended = wait_until(poll, lambda e: (e or {}).get("status") in ENDED, self.params["wait_timeout"],
                                      interval=POLL_INTERVAL)
        result["execution"] = execution
        status = (execution or {}).get("status")
        if not ended:
            self.fail("%s did not end within %d seconds (%s); it goes on in Harbor" % (
                resource, self.params["wait_timeout"],
                "its status is %s" % status if execution else "Harbor does not list it"), **result)
        if status not in SUCCEEDED:
            self.fail("%s ended with status %s (see GET /api/v2.0/retentions/%s/executions/%s/tasks)"
                      % (resource, status, policy_id, execution_id), **result)


def main():
    rule = dict(
        template=dict(type="str", required=True, choices=list(TEMPLATES)),
        count=dict(type="int"),
        days=dict(type="int"),
        tags=dict(type="str", default="**"),
        tags_decoration=dict(type="str", choices=["matches", "excludes"], default="matches"),
        untagged=dict(type="bool", default=True),
        repositories=dict(type="str", default="**"),
        repositories_decoration=dict(type="str", choices=["matches", "excludes"], default="matches"),
        disabled=dict(type="bool", default=False),
    )
    argument_spec = api_argument_spec()
    argument_spec.update(wait_argument_spec())
    argument_spec.update(
        project=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        rules=dict(type="list", elements="dict", options=rule),
        schedule=dict(type="str"),
        run=dict(type="bool", default=False),
        dry_run=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, RetentionModule)


if __name__ == "__main__":
    main()
