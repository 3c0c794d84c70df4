#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_replication
short_description: Create, update or delete a Harbor replication policy, or run one
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Manages one replication policy (a replication rule in Harbor's web pages) through Harbor's API,
    C(/api/v2.0/replication/policies). A push policy copies from this Harbor to a registry endpoint, a pull policy
    from a registry endpoint into this Harbor.
  - The policy is found by its name. Only the options given are compared; the others keep whatever Harbor has.
    Harbor replaces a policy as a whole, so an update sends the policy Harbor has with the changes merged in.
  - With O(run=true), starts the policy now (C(POST /api/v2.0/replication/executions)) and, with O(wait=true), waits
    for the end of that execution, failing when it fails, is stopped or takes longer than O(wait_timeout).
  - The registry endpoint must exist already; M(harbor.deploy.harbor_registry) creates it.
options:
  name:
    description: The policy's name, unique in Harbor.
    type: str
    required: true
  state:
    description: V(present) creates or updates the policy, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: A free text. V("") for a new policy when not given.
    type: str
  enabled:
    description:
      - Whether the policy runs (on its trigger, and when started). V(true) for a new policy when not given.
      - Harbor refuses to start a disabled policy (HTTP 412); so does the module with O(run=true) and
        O(enabled=false), before any request.
    type: bool
  direction:
    description:
      - V(push) copies from this Harbor to O(registry) (Harbor's C(src_registry) is this Harbor, C(dest_registry) the
        endpoint); V(pull) copies from O(registry) into this Harbor (the other way round).
      - Required to create the policy.
    type: str
    choices: [push, pull]
  registry:
    description:
      - The name of the registry endpoint to push to or pull from, as M(harbor.deploy.harbor_registry) names it
        (C(GET /api/v2.0/registries)); the module fails naming it when it does not exist.
      - Required to create the policy.
    type: str
  dest_namespace:
    description:
      - The namespace (project, or path) the copies go to. V("") (the default of a new policy) keeps the source's.
    type: str
  dest_namespace_replace_count:
    description:
      - How many path components of the source repository O(dest_namespace) replaces (Harbor's flattening), such as
        V(1) for C(a/b/image) to C(ns/b/image).
      - V(0) puts O(dest_namespace) in front of the whole path (C(ns/a/b/image)); V(-1), Harbor's default for a new
        policy, replaces every component but the last one (C(ns/image)).
    type: int
  filters:
    description:
      - What the policy copies. When given, the policy has exactly these filters (V([]) removes them all);
        compared regardless of their order.
    type: list
    elements: dict
    suboptions:
      type:
        description:
          - V(name) (repositories, such as V(library/**)), V(tag) (tags, such as V(v1.*)), V(label) (artifacts with
            all these labels) or V(resource) (V(image), or V(artifact) for every kind of artifact).
        type: str
        choices: [name, tag, label, resource]
        required: true
      value:
        description:
          - A pattern (V(*), V(**), V(?), V({a,b})) for V(name) and V(tag); V(image) or V(artifact) for V(resource);
            a list of label names (or one name) for V(label).
        type: raw
        required: true
      decoration:
        description:
          - For V(tag) and V(label) filters only, V(matches) (the default) keeps what matches, V(excludes) what does
            not.
        type: str
        choices: [matches, excludes]
  trigger:
    description:
      - When the policy runs. V(manual) (the default of a new policy) only when started, V(scheduled) at
        O(trigger.cron), V(event_based) on every push or deletion in this Harbor (push policies).
    type: dict
    suboptions:
      type:
        description: The kind of trigger.
        type: str
        choices: [manual, scheduled, event_based]
        required: true
      cron:
        description:
          - For V(scheduled) only, and required there, six fields, seconds first. Harbor wants the seconds to be V(0)
            and the minutes not to be V(*) (V(0 0 2 * * *) is every day at 02:00, Harbor's time zone, usually UTC).
        type: str
  override:
    description: Overwrite what has the same name at the destination. V(true) for a new policy when not given.
    type: bool
  replicate_deletion:
    description:
      - Also delete at the destination what is deleted at the source (event based push policies). V(false) for a
        new policy when not given.
    type: bool
  speed:
    description:
      - The bandwidth limit of each task, in KB/s. V(-1) or V(0) is no limit (the default of a new policy; Harbor
        stores it as V(0), the module shows it as V(-1)).
    type: int
  copy_by_chunk:
    description: Copy blobs in chunks (for destinations that limit the size of a request). V(false) for a new policy.
    type: bool
  run:
    description:
      - Start the policy now (a C(manual) execution), after creating or updating it. It reports a change every time.
      - Needs O(state=present).
    type: bool
    default: false
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_wait
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details:
      - Reads the policy and the registry endpoint, sends nothing that changes anything and reports what would
        change; with O(run=true) it reports a change and starts nothing.
  diff_mode:
    support: full
    details:
      - Before and after are the settings the module manages (the endpoint by its name, filters in a fixed order); an
        execution is not part of the diff.
  idempotent:
    support: partial
    details: The policy is; O(run=true) starts an execution and reports a change every time.
notes:
  - Harbor lets only a system administrator manage replication policies.
  - Harbor refuses to delete a policy while one of its executions is in progress (HTTP 412); the module then fails
    with Harbor's message. Deleting a policy deletes its executions.
  - While it waits, the module reads the status of the execution every 2 seconds.
  - The policy's O(name) cannot be changed by the module (it is how the module finds the policy).
seealso:
  - module: harbor.deploy.harbor_registry
  - module: harbor.deploy.harbor_info
  - name: Harbor API (Swagger) of the release
    description: Look for C(/replication/policies) and C(/replication/executions).
    link: https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
"""

EXAMPLES = r"""
- name: Harbor's replication policies, managed from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
  tasks:
    - name: Push the release images to the disaster recovery Harbor every night
      harbor.deploy.harbor_replication:
        name: releases-to-dr
        direction: push
        registry: harbor-dr
        dest_namespace: releases
        dest_namespace_replace_count: 1
        filters:
          - type: name
            value: "releases/**"
          - type: tag
            value: "v*"
          - type: label
            value: [approved]
            decoration: matches
        trigger:
          type: scheduled
          cron: "0 0 2 * * *"
        replicate_deletion: false
        speed: 10240

    - name: Mirror an upstream repository now, and wait up to 30 minutes for it
      harbor.deploy.harbor_replication:
        name: mirror-alpine
        direction: pull
        registry: docker-hub
        dest_namespace: mirror
        filters:
          - type: name
            value: library/alpine
          - type: tag
            value: "3.*"
        run: true
        wait_timeout: 1800
      register: replication

    - name: Disable a policy, keeping everything else
      harbor.deploy.harbor_replication:
        name: releases-to-dr
        enabled: false

    - name: Delete a policy
      harbor.deploy.harbor_replication:
        name: old-policy
        state: absent
"""

RETURN = r"""
policy:
  description:
    - The policy as Harbor answers C(GET /api/v2.0/replication/policies/{id}) after the change; this Harbor shows as
      the registry named C(Local) with id V(0), a secret as V(*****).
    - In check mode, the policy as it is before the change; V(null) when it does not exist (or no longer does).
  returned: always
  type: dict
  sample:
    id: 3
    name: releases-to-dr
    description: ""
    enabled: true
    src_registry: {id: 0, name: Local, type: harbor}
    dest_registry: {id: 2, name: harbor-dr, type: harbor, url: "https://harbor-dr.example.com"}
    dest_namespace: releases
    dest_namespace_replace_count: 1
    filters:
      - {type: name, value: "releases/**"}
      - {type: tag, value: "v*", decoration: matches}
    trigger: {type: scheduled, trigger_settings: {cron: "0 0 2 * * *"}}
    override: true
    replicate_deletion: false
    deletion: false
    speed: 10240
    copy_by_chunk: false
    creation_time: "2025-06-01T10:00:00.000Z"
    update_time: "2025-06-01T10:00:00.000Z"
execution:
  description:
    - The execution started, as Harbor answers C(GET /api/v2.0/replication/executions/{id}), at its end with
      O(wait=true).
    - C(status) is V(Succeed), V(Failed) or V(Stopped) at the end, V(InProgress) before; C(total), C(succeed),
      C(failed), C(in_progress) and C(stopped) count its tasks (one a copied artifact or deletion).
  returned: when O(run=true), not in check mode
  type: dict
  sample:
    id: 17
    policy_id: 3
    status: Succeed
    status_text: ""
    trigger: manual
    total: 4
    succeed: 4
    failed: 0
    in_progress: 0
    stopped: 0
    start_time: "2025-06-01T10:05:00.000Z"
    end_time: "2025-06-01T10:06:12.000Z"
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    ApiModule,
    api_argument_spec,
    changed_keys,
    ensure_absent,
    find_by_name,
    finish,
    run_module,
    wait_until,
    wait_argument_spec,
)

POLICIES = "/replication/policies"
EXECUTIONS = "/replication/executions"
FILTER_TYPES = ("name", "tag", "label", "resource")
DECORATED = ("tag", "label")  # the filters Harbor takes a decoration for
RESOURCES = ("image", "artifact")
# The settings compared as they are (view() and the options share these names).
SCALARS = ("description", "enabled", "dest_namespace", "dest_namespace_replace_count", "override",
           "replicate_deletion", "speed", "copy_by_chunk")
# A new policy's settings when not given (Harbor's API defaults, but enabled and override: its web pages' ones).
CREATE_DEFAULTS = {"description": "", "enabled": True, "dest_namespace": "", "dest_namespace_replace_count": -1,
                   "filters": [], "trigger": {"type": "manual"}, "override": True, "replicate_deletion": False,
                   "speed": -1, "copy_by_chunk": False}
NOT_ENDED = ("InProgress", "Pending", "Running", "Scheduled", "", None)
POLL_INTERVAL = 2.0


def speed_view(speed):
    """-1 for no limit (Harbor stores -1 and 0 as 0), else the limit in KB/s."""
    return speed if isinstance(speed, int) and speed > 0 else -1


def filter_view(item):
    """A filter as the module compares and shows it: label values a sorted list, a decoration for tag/label only."""
    kind = item.get("type") or ""
    value = item.get("value")
    if kind == "label":
        value = sorted(str(v) for v in (value if isinstance(value, list) else [value] if value else []))
    out = {"type": kind, "value": value}
    if kind in DECORATED:
        out["decoration"] = item.get("decoration") or "matches"
    return out


def filters_view(filters):
    def key(item):
        kind = item["type"]
        return (FILTER_TYPES.index(kind) if kind in FILTER_TYPES else len(FILTER_TYPES), kind,
                json.dumps(item["value"], sort_keys=True), item.get("decoration", ""))
    return sorted((filter_view(f) for f in filters or [] if isinstance(f, dict)), key=key)


def trigger_view(trigger):
    trigger = trigger or {}
    kind = trigger.get("type") or "manual"
    if kind == "scheduled":
        return {"type": kind, "cron": ((trigger.get("trigger_settings") or {}).get("cron") or "").strip()}
    return {"type": kind}


def view(policy):
    """What the module manages, for comparison and diff (the endpoint by its name)."""
    if policy is None:
        return {}
    src, dest = policy.get("src_registry") or {}, policy.get("dest_registry") or {}
    pull = bool(src.get("id"))
    deletion = policy.get("replicate_deletion")
    count = policy.get("dest_namespace_replace_count")
    return {"name": policy.get("name"), "description": policy.get("description") or "",
            "enabled": bool(policy.get("enabled")), "direction": "pull" if pull else "push",
            "registry": (src if pull else dest).get("name") or "",
            "dest_namespace": policy.get("dest_namespace") or "",
            "dest_namespace_replace_count": -1 if count is None else count,
            "filters": filters_view(policy.get("filters")), "trigger": trigger_view(policy.get("trigger")),
            "override": bool(policy.get("override")),
            "replicate_deletion": bool(policy.get("deletion") if deletion is None else deletion),
            "speed": speed_view(policy.get("speed")), "copy_by_chunk": bool(policy.get("copy_by_chunk"))}


def remote_id(policy):
    """The id of the registry endpoint a policy Harbor has pushes to or pulls from."""
    src, dest = policy.get("src_registry") or {}, policy.get("dest_registry") or {}
    return src.get("id") or dest.get("id")


class ReplicationModule(ApiModule):
    def __init__(self, module):
        super().__init__(module)
        self.name = module.params["name"]
        self.resource = "replication policy %s" % self.name

    # ------------------------------------------------------------ checks before any request

    def check(self):
        """Refuse what Harbor would (or what makes no sense) before any request; the wanted settings."""
        params = self.params
        if params["state"] == "absent":
            if params["run"]:
                self.fail("run=true needs state=present (for %s)" % self.resource)
            return None
        if params["run"] and params["enabled"] is False:
            self.fail("run=true with enabled=false: Harbor starts enabled policies only (for %s)" % self.resource)
        wanted = {key: params[key] for key in SCALARS if params[key] is not None}
        if "speed" in wanted:
            if wanted["speed"] < -1:
                self.fail("speed must be -1 or 0 (no limit) or a number of KB/s, not %d" % wanted["speed"])
            wanted["speed"] = speed_view(wanted["speed"])
        count = wanted.get("dest_namespace_replace_count")
        if count is not None and not -1 <= count <= 127:
            self.fail("dest_namespace_replace_count must be -1 (Harbor's legacy flattening), 0 (none) or a number of "
                      "path components, not %d" % count)
        if "dest_namespace" in wanted:
            wanted["dest_namespace"] = wanted["dest_namespace"].strip()
        for key in ("direction", "registry"):
            if params[key] is not None:
                wanted[key] = params[key]
        if params["filters"] is not None:
            wanted["filters"] = filters_view([self.checked_filter(i, f) for i, f in enumerate(params["filters"])])
        if params["trigger"] is not None:
            wanted["trigger"] = self.checked_trigger(params["trigger"])
        return wanted

    def checked_filter(self, index, item):
        kind, value, decoration = item["type"], item["value"], item["decoration"]
        where = "filters[%d] (type %s)" % (index, kind)
        if kind == "label":
            labels = value if isinstance(value, list) else [value]
            if not labels or not all(isinstance(v, str) and v.strip() for v in labels):
                self.fail("%s: value must be a label name or a list of label names, not %r" % (where, value))
            value = [v.strip() for v in labels]
        elif not isinstance(value, str) or not value.strip():
            self.fail("%s: value must be a non-empty string, not %r" % (where, value))
        else:
            value = value.strip()
        if kind == "resource" and value not in RESOURCES:
            self.fail("%s: value must be one of %s, not %r" % (where, ", ".join(RESOURCES), value))
        if decoration is not None and kind not in DECORATED:
            self.fail("%s: decoration is for tag and label filters only (Harbor refuses it for %s)" % (where, kind))
        out = {"type": kind, "value": value}
        if kind in DECORATED:
            out["decoration"] = decoration or "matches"
        return out

    def checked_trigger(self, trigger):
        kind, cron = trigger["type"], trigger["cron"]
        if kind != "scheduled":
            if cron is not None:
                self.fail("trigger.cron is for trigger.type=scheduled only (trigger.type is %s)" % kind)
            return {"type": kind}
        fields = (cron or "").split()
        if not fields:
            self.fail("trigger.type=scheduled needs trigger.cron (six fields, seconds first, such as '0 0 2 * * *')")
        if len(fields) != 6:
            self.fail("trigger.cron %r must have six fields, seconds first, such as '0 0 2 * * *'" % cron)
        if fields[0] != "0":
            self.fail("trigger.cron %r: Harbor wants 0 in its first field (the seconds)" % cron)
        if fields[1] == "*":
            self.fail("trigger.cron %r: Harbor does not allow * in its second field (the minutes) for replication"
                      % cron)
        return {"type": kind, "cron": " ".join(fields)}

    # ------------------------------------------------------------ requests

    def read(self, policy_id):
        return self.client.get("%s/%s" % (POLICIES, policy_id), resource=self.resource)

    def registry_id(self, name):
        found = find_by_name(self.client, "/registries", name, resource="registry endpoint %s" % name)
        if found is None:
            self.fail("%s: the registry endpoint %r does not exist in Harbor (create it first, with "
                      "harbor.deploy.harbor_registry)" % (self.resource, name))
        return found["id"]

    def body(self, after, endpoint_id, current=None):
        """The whole policy as Harbor's POST and PUT take it (PUT resets what it leaves out)."""
        trigger = after["trigger"]
        body = {"name": self.name, "description": after["description"], "enabled": after["enabled"],
                "dest_namespace": after["dest_namespace"],
                "dest_namespace_replace_count": after["dest_namespace_replace_count"],
                "filters": [dict(f) for f in after["filters"]],
                "trigger": {"type": trigger["type"], "trigger_settings": {"cron": trigger.get("cron", "")}},
                "override": after["override"],
                # Harbor's handler reads the deprecated "deletion"; send both, as its web pages do.
                "replicate_deletion": after["replicate_deletion"], "deletion": after["replicate_deletion"],
                "speed": after["speed"], "copy_by_chunk": after["copy_by_chunk"]}
        body["src_registry" if after["direction"] == "pull" else "dest_registry"] = {"id": endpoint_id}
        if current is not None and current.get("single_active_replication") is not None:
            body["single_active_replication"] = current["single_active_replication"]  # kept, not managed
        return body

    def run(self):
        wanted = self.check()
        check = self.module.check_mode
        current = find_by_name(self.client, POLICIES, self.name, resource=self.resource)
        if current is not None:
            current = self.read(current["id"])
        result = {"changed": False, "policy": current}
        if self.params["state"] == "absent":
            ensure_absent(self.module, self.client, current, "%s/%s" % (POLICIES, (current or {}).get("id")), result,
                          "policy", view(current), resource=self.resource)
        if current is None:
            before, after = self.create(result, wanted, check)
        else:
            before, after = self.update(result, current, wanted, check)
        if self.params["run"]:
            self.start(result, before, after)
        finish(self.module, result, before, after)

    def create(self, result, wanted, check):
        for key in ("direction", "registry"):
            if key not in wanted:
                self.fail("%s is required to create %s" % (key, self.resource))
        endpoint_id = self.registry_id(wanted["registry"])
        after = dict(CREATE_DEFAULTS, name=self.name, **wanted)
        result["changed"] = True
        if not check:
            created = self.client.post(POLICIES, self.body(after, endpoint_id), resource=self.resource)
            policy_id = created.location_id
            if policy_id is None:
                found = find_by_name(self.client, POLICIES, self.name, resource=self.resource)
                policy_id = found and found["id"]
            if policy_id is None:
                self.fail("Harbor answered %s to the creation of %s but does not show it"
                          % (created.status, self.resource))
            result["policy"] = self.read(policy_id)
        return {}, after

    def update(self, result, current, wanted, check):
        before = view(current)
        changes = changed_keys(before, wanted)
        after = dict(before, **wanted)
        endpoint_id = self.registry_id(wanted["registry"]) if "registry" in wanted else remote_id(current)
        result["changed"] = bool(changes)
        if changes and not check:
            self.client.put("%s/%s" % (POLICIES, current["id"]), self.body(after, endpoint_id, current),
                            resource=self.resource)
            result["policy"] = self.read(current["id"])
        return before, after

    def start(self, result, before, after):
        result["changed"] = True
        if self.module.check_mode:
            return
        policy_id = result["policy"]["id"]
        answer = self.client.post(EXECUTIONS, {"policy_id": policy_id}, resource="a run of %s" % self.resource)
        execution_id = answer.location_id
        if execution_id is None:
            self.fail("Harbor started %s but did not say the execution's id (no Location header)" % self.resource,
                      **self.failed(result, before, after))
        resource = "replication execution %s of policy %s" % (execution_id, self.name)
        path = "%s/%s" % (EXECUTIONS, execution_id)
        if not self.params["wait"]:
            result["execution"] = self.client.get(path, resource=resource)
            return
        execution, ended = wait_until(lambda: self.client.get(path, resource=resource),
                                      lambda e: (e or {}).get("status") not in NOT_ENDED,
                                      self.params["wait_timeout"], interval=POLL_INTERVAL)
        result["execution"] = execution
        execution = execution or {}
        status = execution.get("status")
        if not ended:
            self.fail("%s did not end within %d seconds (its status is %s, %s of %s tasks done); it goes on in Harbor"
                      % (resource, self.params["wait_timeout"], status,
                         (execution.get("succeed") or 0) + (execution.get("failed") or 0), execution.get("total", "?")),
                      **self.failed(result, before, after))
        if status != "Succeed":
            text = execution.get("status_text")
            self.fail("%s ended with status %s%s: %s of %s tasks failed, %s stopped (see GET /api/v2.0%s/tasks)" % (
                resource, status, " (%s)" % text if text else "", execution.get("failed", "?"),
                execution.get("total", "?"), execution.get("stopped", 0), path), **self.failed(result, before, after))

    def failed(self, result, before, after):
        """The result to fail with: what changed before the failure, with its diff."""
        out = dict(result)
        if self.module._diff:  # pylint: disable=protected-access
            out["diff"] = {"before": before, "after": after}
        return out


def main():
    filters = dict(
        type=dict(type="str", required=True, choices=list(FILTER_TYPES)),
        value=dict(type="raw", required=True),
        decoration=dict(type="str", choices=["matches", "excludes"]),
    )
    trigger = dict(
        type=dict(type="str", required=True, choices=["manual", "scheduled", "event_based"]),
        cron=dict(type="str"),
    )
    argument_spec = api_argument_spec()
    argument_spec.update(wait_argument_spec())
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        enabled=dict(type="bool"),
        direction=dict(type="str", choices=["push", "pull"]),
        registry=dict(type="str"),
        dest_namespace=dict(type="str"),
        dest_namespace_replace_count=dict(type="int"),
        filters=dict(type="list", elements="dict", options=filters),
        trigger=dict(type="dict", options=trigger),
        override=dict(type="bool"),
        replicate_deletion=dict(type="bool"),
        speed=dict(type="int"),
        copy_by_chunk=dict(type="bool"),
        run=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, ReplicationModule)


if __name__ == "__main__":
    main()
