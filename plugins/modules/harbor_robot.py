#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_robot
short_description: Create, update, delete a Harbor robot account, or make it a new secret
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Manages one robot account (Harbor's v2 robots, C(/api/v2.0/robots)), of the system level (permissions on the
    system and on any projects) or of one project's level.
  - Harbor shows a robot's secret once, when it creates the robot or makes it a new secret. The module writes it to
    O(secret_file) and/or returns it (O(return_secret)); otherwise it is lost, and only O(refresh_secret) makes a
    new one.
  - The secret never appears in the module's output unless O(return_secret=true). When it does, set C(no_log) on the
    task, and keep the secret out of C(debug) tasks and of files that are not protected.
  - Harbor names the robot C(robot$NAME) (system level) or C(robot$PROJECT+NAME) (project level), the prefix being
    Harbor's C(robot_name_prefix) setting; that full name is the user name of C(docker login).
options:
  name:
    description:
      - The robot's own name, without the C(robot$) prefix nor the project (lower case letters, digits and C(._-)).
    type: str
    required: true
  level:
    description: V(system) for a robot of the whole Harbor, V(project) for a robot of the project O(project).
    type: str
    choices: [system, project]
    default: system
  project:
    description: The project of a project level robot (required with O(level=project)).
    type: str
  state:
    description: V(present) creates or updates the robot, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: A free text description.
    type: str
  duration:
    description:
      - How many days the robot lives, counted from its creation, V(-1) for ever.
      - When the robot is created without it, V(-1).
    type: int
  disable:
    description: Disable the robot (it can no longer log in) or enable it again.
    type: bool
  permissions:
    description:
      - What the robot may do, required to create it. The order of the entries and of their accesses does not matter.
      - A project level robot has one entry, of kind V(project) for its own project.
      - Harbor lists the resources and actions a robot may have in C(GET /api/v2.0/permissions) (for example
        V(repository) V(pull), V(repository) V(push), V(artifact) V(read)).
    type: list
    elements: dict
    suboptions:
      kind:
        description: V(system) for the permissions on Harbor itself, V(project) for those on projects.
        type: str
        choices: [system, project]
        default: project
      namespace:
        description:
          - For kind V(project), the project's name, or V(*) for every project; for a project level robot, defaults to
            O(project).
          - For kind V(system), V(/) (the default).
        type: str
      access:
        description: The accesses.
        type: list
        elements: dict
        required: true
        suboptions:
          resource:
            description: A resource, such as V(repository).
            type: str
            required: true
          action:
            description: An action on it, such as V(pull).
            type: str
            required: true
  refresh_secret:
    description:
      - Make the robot a new secret (C(PATCH /api/v2.0/robots/{id})), whether or not anything else changes. The task
        then always reports a change.
      - Ignored when the robot is created in this run (its secret is new anyway).
    type: bool
    default: false
  secret_file:
    description:
      - Write the secret, when Harbor makes one (at creation, or with O(refresh_secret)), to this file on the host where
        the module runs (use C(delegate_to) for the controller), with mode C(0600), replacing it.
      - The file holds the secret alone, without a newline. Its directory must exist.
      - An existing file is not touched when no new secret is made; the module warns when it is missing, since
        Harbor cannot show the secret again.
    type: path
  return_secret:
    description:
      - Return the new secret as RV(secret). Set C(no_log) on the task then.
      - When false, the secret is masked wherever it could appear in the output.
    type: bool
    default: false
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details:
      - Reads the robot (and its project), sends nothing that changes it, writes no file, and reports what would change.
  diff_mode:
    support: full
    details:
      - Before and after are the name, level, description, duration, disable and permissions (sorted). A new secret
        shows as a key C(secret) saying that it is new, never its value.
  idempotent:
    support: partial
    details:
      - With O(refresh_secret=true) every run makes a new secret and reports a change.
notes:
  - Harbor ignores C(disable) when it creates a robot; the module then updates the new robot to disable it.
  - The secret cannot be chosen (Harbor makes it), nor checked against a known value.
  - C(effect) of an access is not managed (Harbor checks resources and actions).
seealso:
  - module: harbor.deploy.harbor_project
  - name: Harbor robot accounts
    description: Harbor's documentation of system and project robot accounts.
    link: https://goharbor.io/docs/main/administration/robot-accounts/
"""

EXAMPLES = r"""
- name: Harbor's robot accounts, managed from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
  tasks:
    - name: A system robot that pulls from every project, its secret written on the controller
      harbor.deploy.harbor_robot:
        name: puller
        description: Pulls for the Kubernetes nodes
        duration: -1
        permissions:
          - kind: project
            namespace: "*"
            access:
              - {resource: repository, action: pull}
        secret_file: "{{ playbook_dir }}/secrets/robot-puller"

    - name: A project robot for CI, its secret registered (and kept out of the logs)
      harbor.deploy.harbor_robot:
        name: ci
        level: project
        project: platform
        duration: 90
        permissions:
          - access:
              - {resource: repository, action: pull}
              - {resource: repository, action: push}
              - {resource: artifact, action: read}
        return_secret: true
      register: ci_robot
      no_log: true

    - name: Rotate the CI robot's secret
      harbor.deploy.harbor_robot:
        name: ci
        level: project
        project: platform
        refresh_secret: true
        secret_file: "{{ playbook_dir }}/secrets/robot-ci"
"""

RETURN = r"""
robot:
  description:
    - The robot as Harbor answers C(GET /api/v2.0/robots/{id}) after the change (it holds no secret).
    - In check mode, the robot as it is before the change; V(null) when it does not exist (or no longer does).
  returned: always
  type: dict
  sample:
    id: 7
    name: robot$platform+ci
    level: project
    description: ""
    duration: 90
    disable: false
    editable: true
    expires_at: 1759312800
    permissions:
      - kind: project
        namespace: platform
        access: [{resource: repository, action: pull, effect: ""}]
secret:
  description: The new secret. Give the task C(no_log) when you ask for it.
  returned: when O(return_secret=true) and a new secret was made (creation, O(refresh_secret)), not in check mode
  type: str
  sample: 3xAmPLe5EcretWithDigits9
secret_created:
  description: Whether Harbor made a new secret in this run (or would, in check mode).
  returned: always
  type: bool
  sample: true
secret_file:
  description: The file the new secret was written to.
  returned: when O(secret_file) is given and a new secret was written there
  type: str
  sample: /root/.harbor/robot-ci
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    SECRET_KEPT,
    SECRET_NEW,
    ApiModule,
    api_argument_spec,
    ensure_absent,
    finish,
    get_project,
    run_module,
)

PREFIX = "robot$"  # Harbor's default robot_name_prefix


def normalize(permissions):
    """Permissions as a sorted list, entries of the same kind and namespace merged, accesses sorted and deduplicated."""
    merged = {}
    for perm in permissions or []:
        key = (perm.get("kind") or "", perm.get("namespace") or "")
        accesses = merged.setdefault(key, set())
        for access in perm.get("access") or []:
            accesses.add((access.get("resource") or "", access.get("action") or ""))
    return [{"kind": kind, "namespace": namespace,
             "access": [{"resource": r, "action": a} for r, a in sorted(merged[(kind, namespace)])]}
            for kind, namespace in sorted(merged)]


def view(robot):
    """What the module manages, for comparison and diff."""
    if robot is None:
        return {}
    return {
        "name": robot.get("name"),
        "level": robot.get("level"),
        "description": robot.get("description") or "",
        "duration": robot.get("duration"),
        "disable": bool(robot.get("disable")),
        "permissions": normalize(robot.get("permissions")),
    }


def write_secret(path, secret):
    """Replace path by a 0600 file holding the secret (written aside, then renamed)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as stream:
            handle = None
            stream.write(secret)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        if handle is not None:
            os.close(handle)
        if os.path.exists(temp):
            os.unlink(temp)
        raise


class RobotModule(ApiModule):
    def __init__(self, module):
        super().__init__(module)
        self.level = module.params["level"]
        self.project = module.params["project"]
        name = module.params["name"]
        self.stored_name = "%s+%s" % (self.project, name) if self.level == "project" else name
        self.resource = "%s robot %s" % (self.level, self.stored_name)

    # ---------------------------------------------------------------- reading

    def project_id(self):
        """The id of the robot's project, or None when the project does not exist."""
        project = get_project(self.client, self.project)
        return None if project is None else project["project_id"]

    def find(self, project_id):
        if self.level == "project":
            query = "Level=project,ProjectID=%s,name=%s" % (project_id, self.stored_name)
        else:
            query = "Level=system,name=%s" % self.stored_name
        robots = self.client.list_all("/robots", query={"q": query}, resource=self.resource)
        found = [r for r in robots if str(r.get("name", "")).endswith(self.stored_name)
                 and r.get("level", self.level) == self.level]
        if len(found) > 1:
            found = [r for r in found if r.get("name") == PREFIX + self.stored_name]
        if len(found) > 1:
            self.fail("several robots are named like %s: %s" % (self.resource, ", ".join(r["name"] for r in found)))
        if not found:
            return None
        return self.client.get("/robots/%s" % found[0]["id"], resource=self.resource)

    def wanted_permissions(self):
        """The permissions asked for, in Harbor's shape, defaults filled in; None when not given."""
        given = self.params["permissions"]
        if given is None:
            return None
        if not given:
            self.fail("permissions must not be empty (Harbor refuses a robot without permissions)")
        result = []
        for index, perm in enumerate(given):
            kind, namespace = perm["kind"], perm["namespace"]
            if namespace is None:
                if kind == "system":
                    namespace = "/"
                elif self.level == "project":
                    namespace = self.project
                else:
                    self.fail("permissions[%d]: a project permission of a system robot needs a namespace (a project "
                              "name, or * for every project)" % index)
            if not perm["access"]:
                self.fail("permissions[%d]: access must not be empty" % index)
            result.append({"kind": kind, "namespace": namespace,
                           "access": [{"resource": a["resource"], "action": a["action"]} for a in perm["access"]]})
        if self.level == "project":
            scopes = {(p["kind"], p["namespace"]) for p in result}
            if scopes != {("project", self.project)}:
                self.fail("a project level robot has permissions on its own project only: kind project, namespace %s "
                          "(got %s)" % (self.project, ", ".join("%s %s" % s for s in sorted(scopes))))
            result = normalize(result)  # Harbor takes a single entry
        return result

    # ---------------------------------------------------------------- the run

    def run(self):
        check = self.module.check_mode
        project_id = None
        if self.level == "project":
            project_id = self.project_id()
            if project_id is None and self.params["state"] == "present":
                self.fail("project %s does not exist: create it before its robot %s"
                          % (self.project, self.params["name"]))
        current = None if self.level == "project" and project_id is None else self.find(project_id)
        result = {"changed": False, "robot": current, "secret_created": False}

        if self.params["state"] == "absent":
            ensure_absent(self.module, self.client, current, "/robots/%s" % (current or {}).get("id"), result, "robot",
                          view(current), resource=self.resource)

        permissions = self.wanted_permissions()
        if current is None:
            self.create(result, permissions, check)

        before = view(current)
        after = dict(before)
        for key in ("description", "duration", "disable"):
            if self.params[key] is not None:
                after[key] = self.params[key]
        if permissions is not None:
            after["permissions"] = normalize(permissions)
        if after != before:
            result["changed"] = True
            if not check:
                self.update(current, after, permissions)
        if self.params["refresh_secret"]:
            result["changed"] = result["secret_created"] = True
            before["secret"], after["secret"] = SECRET_KEPT, SECRET_NEW
            if not check:
                answer = self.client.patch("/robots/%s" % current["id"], {}, resource=self.resource).data or {}
                self.took_secret(answer.get("secret"), result)
        elif self.params["secret_file"] and not os.path.exists(self.params["secret_file"]):
            self.module.warn("secret_file %s does not exist and Harbor shows a secret only once: set "
                             "refresh_secret=true to make %s a new one" % (self.params["secret_file"], self.resource))
        if result["changed"] and not check:
            result["robot"] = self.client.get("/robots/%s" % current["id"], resource=self.resource)
        finish(self.module, result, before, after)

    def create(self, result, permissions, check):
        if permissions is None:
            self.fail("permissions are required to create %s" % self.resource)
        body = {
            "name": self.params["name"],
            "level": self.level,
            "description": self.params["description"] or "",
            "duration": -1 if self.params["duration"] is None else self.params["duration"],
            "disable": bool(self.params["disable"]),
            "permissions": permissions,
        }
        after = {"name": PREFIX + self.stored_name, "level": self.level, "description": body["description"],
                 "duration": body["duration"], "disable": body["disable"], "permissions": normalize(permissions),
                 "secret": SECRET_NEW}
        result["changed"] = result["secret_created"] = True
        if not check:
            created = self.client.post("/robots", body, resource=self.resource)
            data = created.data or {}
            robot_id = data.get("id") or created.location_id
            self.took_secret(data.get("secret"), result)
            robot = self.client.get("/robots/%s" % robot_id, resource=self.resource)
            if body["disable"] and not robot.get("disable"):
                # Harbor creates every robot enabled.
                self.update(robot, dict(view(robot), disable=True), None)
                robot = self.client.get("/robots/%s" % robot_id, resource=self.resource)
            result["robot"] = robot
        finish(self.module, result, {}, after)

    def update(self, current, after, permissions):
        body = {
            "id": current["id"],
            "name": current["name"],
            "level": current["level"],
            "editable": current.get("editable", True),
            "description": after["description"],
            "duration": after["duration"],
            "disable": after["disable"],
            "permissions": permissions if permissions is not None else current.get("permissions") or [],
        }
        self.client.put("/robots/%s" % current["id"], body, resource=self.resource)

    def took_secret(self, secret, result):
        """Keep the secret Harbor just made: masked in the output, written to secret_file, returned if asked."""
        if not secret:
            self.fail("Harbor made %s a new secret but did not answer it" % self.resource)
        if not self.params["return_secret"]:
            self.module.no_log_values.add(secret)
        else:
            result["secret"] = secret
        path = self.params["secret_file"]
        if not path and not self.params["return_secret"]:
            self.module.warn("the new secret of %s is neither written (secret_file) nor returned (return_secret): it "
                             "is lost, and only refresh_secret=true makes another one" % self.resource)
        if path:
            try:
                write_secret(path, secret)
            except OSError as exc:
                self.fail("%s has a new secret, but writing it to %s failed: %s. Harbor cannot show it again: fix "
                          "this, then run again with refresh_secret=true" % (self.resource, path, exc),
                          **({"secret": secret} if self.params["return_secret"] else {}))
            result["secret_file"] = path


def main():
    access = dict(resource=dict(type="str", required=True), action=dict(type="str", required=True))
    permission = dict(
        kind=dict(type="str", choices=["system", "project"], default="project"),
        namespace=dict(type="str"),
        access=dict(type="list", elements="dict", required=True, options=access),
    )
    argument_spec = api_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        level=dict(type="str", choices=["system", "project"], default="system"),
        project=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        description=dict(type="str"),
        duration=dict(type="int"),
        disable=dict(type="bool"),
        permissions=dict(type="list", elements="dict", options=permission),
        refresh_secret=dict(type="bool", default=False, no_log=False),
        secret_file=dict(type="path", no_log=False),
        return_secret=dict(type="bool", default=False, no_log=False),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("level", "project", ["project"])],
        supports_check_mode=True,
    )
    run_module(module, RobotModule)


if __name__ == "__main__":
    main()
