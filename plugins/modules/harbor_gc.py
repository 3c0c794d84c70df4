#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_gc
short_description: Set Harbor's garbage collection schedule, or run a garbage collection
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Sets the schedule of Harbor's garbage collection (C(/api/v2.0/system/gc/schedule)) when O(schedule) is given,
    comparing it (and O(delete_untagged), O(workers)) with what Harbor has.
  - With O(run=true), starts a garbage collection now and, with O(wait=true), waits for its end
    (C(GET /api/v2.0/system/gc/{id})), failing when it ends in error or takes longer than O(wait_timeout).
  - Give O(schedule), O(run=true), or both.
options:
  schedule:
    description:
      - V(None) removes the schedule; V(Hourly), V(Daily) and V(Weekly) run at the start of the hour, at midnight
        and on Sunday at midnight (Harbor's time zone, usually UTC), as Harbor's web pages set them; V(Custom) runs
        at O(cron).
      - When not given, the schedule is neither read nor changed.
    type: str
    choices: [None, Hourly, Daily, Weekly, Custom]
  cron:
    description:
      - The times of a V(Custom) schedule, a cron expression of six fields, seconds first (V(0 30 2 * * *) is every
        day at 02:30:00).
      - Required with O(schedule=Custom), refused with the other schedules.
    type: str
  delete_untagged:
    description:
      - Delete untagged artifacts too.
      - For the schedule, compared when given (the schedule's value is kept otherwise, V(false) for a new one); for
        a run, V(false) when not given.
    type: bool
  workers:
    description:
      - How many workers delete blobs in parallel, 1 to 5.
      - For the schedule, compared when given (the schedule's value is kept otherwise, V(1) for a new one); for a
        run, V(1) when not given.
    type: int
  run:
    description:
      - Start a garbage collection now (a C(Manual) one). It reports a change every time.
      - Harbor refuses to start one while another runs (HTTP 409); the module fails with Harbor's message.
    type: bool
    default: false
  dry_run:
    description: With O(run=true), only count what a garbage collection would delete.
    type: bool
    default: false
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_wait
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details:
      - Reads the schedule and reports what would change; with O(run=true) it reports a change and starts nothing.
  diff_mode:
    support: full
    details:
      - Before and after are the schedule's type, cron, O(delete_untagged) and O(workers); a run is not part of the
        diff.
  idempotent:
    support: partial
    details: The schedule is; O(run=true) starts a garbage collection and reports a change every time.
notes:
  - Harbor lets only a system administrator manage garbage collection.
  - While it waits, the module reads the status of the run every 2 seconds.
seealso:
  - module: harbor.deploy.harbor_info
  - name: Harbor API (Swagger) of the release
    description: Look for C(/system/gc).
    link: https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
"""

EXAMPLES = r"""
- name: Harbor's garbage collection, managed from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
  tasks:
    - name: Collect garbage every Sunday, untagged artifacts too
      harbor.deploy.harbor_gc:
        schedule: Weekly
        delete_untagged: true
        workers: 2

    - name: Every day at 02:30
      harbor.deploy.harbor_gc:
        schedule: Custom
        cron: "0 30 2 * * *"

    - name: Collect garbage now, and wait up to 30 minutes for it
      harbor.deploy.harbor_gc:
        run: true
        delete_untagged: true
        wait_timeout: 1800
      register: gc

    - name: No schedule
      harbor.deploy.harbor_gc:
        schedule: None
"""

RETURN = r"""
schedule:
  description:
    - The schedule as Harbor answers C(GET /api/v2.0/system/gc/schedule) after the change (C(job_parameters) is a JSON
      string); V(null) when there is none.
    - In check mode, the schedule before the change.
  returned: when O(schedule) is given
  type: dict
  sample:
    id: 4
    job_name: GARBAGE_COLLECTION
    job_kind: SCHEDULE
    job_parameters: '{"delete_untagged":true,"workers":2}'
    schedule: {type: Weekly, cron: "0 0 0 * * 0", next_scheduled_time: "2025-06-08T00:00:00Z"}
gc:
  description:
    - The garbage collection started, as Harbor answers C(GET /api/v2.0/system/gc/{id}), at its end with O(wait=true).
    - C(job_status) is V(Success), V(Error) or V(Stopped) at the end, V(Pending) or V(Running) before.
  returned: when O(run=true), not in check mode
  type: dict
  sample:
    id: 12
    job_name: GARBAGE_COLLECTION
    job_kind: MANUAL
    job_parameters: '{"delete_untagged":true,"dry_run":false,"workers":1}'
    job_status: Success
    schedule: {type: Manual}
    creation_time: "2025-06-01T10:00:00Z"
    update_time: "2025-06-01T10:01:30Z"
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    ApiModule,
    api_argument_spec,
    changed_keys,
    finish,
    run_module,
    wait_until,
    wait_argument_spec,
)

SCHEDULE_PATH = "/system/gc/schedule"
RESOURCE = "garbage collection schedule"
# The crons Harbor's web pages set (six fields, seconds first).
PRESETS = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}
ENDED = ("Success", "Error", "Stopped")
POLL_INTERVAL = 2.0


def parameters_of(schedule):
    """The job parameters of a schedule (a JSON string in Harbor's answer) as a dict."""
    raw = (schedule or {}).get("job_parameters")
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def view(schedule):
    """The schedule as the module compares and shows it."""
    obj = (schedule or {}).get("schedule") or {}
    kind = obj.get("type") or "None"
    if kind == "None":
        return {"type": "None"}
    parameters = parameters_of(schedule)
    return {"type": kind, "cron": obj.get("cron") or "", "delete_untagged": bool(parameters.get("delete_untagged")),
            "workers": parameters.get("workers", 1)}


class GcModule(ApiModule):
    def check(self):
        kind, cron, workers = self.params["schedule"], self.params["cron"], self.params["workers"]
        if kind is None and not self.params["run"]:
            self.fail("nothing to do: give schedule (to set the schedule), or run=true (to collect garbage now)")
        if kind == "Custom" and not (cron or "").strip():
            self.fail("schedule=Custom needs cron (six fields, seconds first)")
        if cron is not None and kind != "Custom":
            self.fail("cron is for schedule=Custom only (schedule is %s)" % kind)
        if cron is not None and len(cron.split()) != 6:
            self.fail("cron %r must have six fields, seconds first, such as '0 30 2 * * *'" % cron)
        if workers is not None and not 1 <= workers <= 5:
            self.fail("workers must be from 1 to 5, not %d" % workers)

    def run(self):
        self.check()
        result = {"changed": False}
        before = after = None
        if self.params["schedule"] is not None:
            before, after = self.set_schedule(result)
        if self.params["run"]:
            self.start(result)
        if before is None:
            self.module.exit_json(**result)
        finish(self.module, result, before, after)

    def set_schedule(self, result):
        current = self.client.get(SCHEDULE_PATH, resource=RESOURCE) or None
        if current is not None and not (current.get("schedule") or {}).get("type"):
            current = None  # an empty schedule object: no schedule
        result["schedule"] = current
        before = view(current)
        kind = self.params["schedule"]
        if kind == "None":
            wanted = {"type": "None"}
        else:
            wanted = {"type": kind, "cron": self.params["cron"].strip() if kind == "Custom" else PRESETS[kind]}
            for key in ("delete_untagged", "workers"):
                if self.params[key] is not None:
                    wanted[key] = self.params[key]
        after = dict(before, **wanted) if kind != "None" else wanted
        if kind != "None":
            after.setdefault("delete_untagged", False)
            after.setdefault("workers", 1)
        changed = bool(changed_keys(before, after)) or set(before) != set(after)
        result["changed"] = changed
        if changed and not self.module.check_mode:
            body = {"schedule": {"type": kind}}
            if kind != "None":
                body["schedule"]["cron"] = after["cron"]
                body["parameters"] = {"delete_untagged": after["delete_untagged"], "workers": after["workers"]}
            if current is None:
                self.client.post(SCHEDULE_PATH, body, resource=RESOURCE)
            else:
                self.client.put(SCHEDULE_PATH, body, resource=RESOURCE)
            result["schedule"] = self.client.get(SCHEDULE_PATH, resource=RESOURCE) or None
        return before, after

    def start(self, result):
        result["changed"] = True
        if self.module.check_mode:
            return
        body = {"schedule": {"type": "Manual"},
                "parameters": {"delete_untagged": bool(self.params["delete_untagged"]),
                               "workers": self.params["workers"] or 1, "dry_run": self.params["dry_run"]}}
        answer = self.client.post(SCHEDULE_PATH, body, resource="manual garbage collection")
        gc_id = answer.location_id
        if gc_id is None:
            self.fail("Harbor started a garbage collection but did not say its id (no Location header)",
                      changed=True)
        resource = "garbage collection %s" % gc_id
        path = "/system/gc/%s" % gc_id
        if not self.params["wait"]:
            result["gc"] = self.client.get(path, resource=resource)
            return
        job, ended = wait_until(lambda: self.client.get(path, resource=resource),
                                lambda job: (job or {}).get("job_status") in ENDED,
                                self.params["wait_timeout"], interval=POLL_INTERVAL)
        result["gc"] = job
        status = (job or {}).get("job_status")
        if not ended:
            self.fail("%s did not end within %d seconds (its status is %s); it goes on in Harbor"
                      % (resource, self.params["wait_timeout"], status), **result)
        if status != "Success":
            self.fail("%s ended with status %s (see GET /api/v2.0%s/log)" % (resource, status, path), **result)


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(wait_argument_spec())
    argument_spec.update(
        schedule=dict(type="str", choices=["None", "Hourly", "Daily", "Weekly", "Custom"]),
        cron=dict(type="str"),
        delete_untagged=dict(type="bool"),
        workers=dict(type="int"),
        run=dict(type="bool", default=False),
        dry_run=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, GcModule)


if __name__ == "__main__":
    main()
