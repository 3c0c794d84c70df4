#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_info
short_description: Read Harbor's state through its API
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Reads, and never changes, what O(gather) lists, through Harbor's API (C(/api/v2.0)), such as to check a Harbor
    before managing it or to report on it.
options:
  gather:
    description:
      - What to read. V(systeminfo) is C(GET /systeminfo) (version, auth mode, external URL); V(health) is
        C(GET /health); V(projects) the projects (see O(project_names)); V(robots) the system level robot accounts
        (C(GET /robots)); V(registries) the registry endpoints; V(replications) the replication policies
        (C(GET /replication/policies)); V(gc_schedule) the garbage collection schedule;
        V(configurations) the system configuration (C(GET /configurations), without its write-only keys).
      - V(all) is all of them.
    type: list
    elements: str
    choices: [all, systeminfo, health, projects, robots, registries, replications, gc_schedule, configurations]
    default: [systeminfo, health]
  project_names:
    description:
      - With V(projects) in O(gather), read only these projects (by name); the names Harbor does not have are
        returned in RV(missing_projects).
      - When not given, every project the user may see.
    type: list
    elements: str
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    details: The module changes nothing, so it has no diff to show.
notes:
  - Listings are read page after page to their end.
  - V(robots), V(registries), V(replications), V(gc_schedule) and V(configurations) need a system administrator; the other readings
    show what the user may see.
seealso:
  - module: harbor.deploy.harbor_health
  - module: harbor.deploy.harbor_project
  - module: harbor.deploy.harbor_registry
  - module: harbor.deploy.harbor_gc
  - module: harbor.deploy.harbor_config
"""

EXAMPLES = r"""
- name: A report on Harbor, read from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
  tasks:
    - name: Harbor's version and health (the options of module_defaults suffice)
      harbor.deploy.harbor_info:
      register: harbor

    - name: Show the version
      ansible.builtin.debug:
        msg: "{{ harbor.systeminfo.harbor_version }} is {{ harbor.health.status }}"

    - name: Two projects and the registry endpoints
      harbor.deploy.harbor_info:
        gather: [projects, registries]
        project_names: [platform, dockerhub]
      register: harbor_state

    - name: Everything
      harbor.deploy.harbor_info:
        gather: all
"""

RETURN = r"""
systeminfo:
  description: C(GET /api/v2.0/systeminfo).
  returned: when V(systeminfo) is gathered
  type: dict
  sample: {harbor_version: v2.15.2-6a3b8f7e, auth_mode: db_auth, external_url: "https://harbor.example.com",
           read_only: false, project_creation_restriction: everyone, self_registration: false}
health:
  description: C(GET /api/v2.0/health), the overall status and the status of each component.
  returned: when V(health) is gathered
  type: dict
  sample: {status: healthy, components: [{name: core, status: healthy}, {name: database, status: healthy}]}
projects:
  description: The projects, as C(GET /api/v2.0/projects) (or C(/projects/{name})) answers them.
  returned: when V(projects) is gathered
  type: list
  elements: dict
  sample: [{project_id: 3, name: platform, registry_id: 0, metadata: {public: "false"}}]
missing_projects:
  description: The names of O(project_names) Harbor has no project of.
  returned: when V(projects) is gathered with O(project_names)
  type: list
  elements: str
  sample: [dockerhub]
robots:
  description: The system level robot accounts (C(GET /api/v2.0/robots)); they hold no secret.
  returned: when V(robots) is gathered
  type: list
  elements: dict
  sample: [{id: 7, name: robot$automation, level: system, disable: false, duration: -1}]
registries:
  description: The registry endpoints (C(GET /api/v2.0/registries)); Harbor shows their secrets as V(*****).
  returned: when V(registries) is gathered
  type: list
  elements: dict
  sample: [{id: 2, name: docker-hub, type: docker-hub, url: https://hub.docker.com, status: healthy}]
replications:
  description: The replication policies (C(GET /api/v2.0/replication/policies)), with their source and destination registries.
  returned: when V(replications) is gathered
  type: list
  elements: dict
  sample: [{id: 1, name: mirror-in, src_registry: {id: 2, name: docker-hub}, dest_registry: {id: 0, name: Local},
            trigger: {type: manual}, enabled: true}]
gc_schedule:
  description: C(GET /api/v2.0/system/gc/schedule); V(null) when there is no schedule.
  returned: when V(gc_schedule) is gathered
  type: dict
  sample: {schedule: {type: Weekly, cron: "0 0 0 * * 0"}, job_parameters: '{"delete_untagged":true,"workers":1}'}
configurations:
  description: C(GET /api/v2.0/configurations), each key a dict of C(value) and C(editable).
  returned: when V(configurations) is gathered
  type: dict
  sample: {auth_mode: {value: db_auth, editable: true}, read_only: {value: false, editable: true}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    ApiModule,
    api_argument_spec,
    get_project,
    run_module,
)

ALL = ("systeminfo", "health", "projects", "robots", "registries", "replications", "gc_schedule", "configurations")


class InfoModule(ApiModule):
    def projects(self, result):
        names = self.params["project_names"]
        if names is None:
            result["projects"] = self.client.list_all("/projects", resource="projects")
            return
        result["projects"], result["missing_projects"] = [], []
        for name in names:
            project = get_project(self.client, name)
            if project is None:
                result["missing_projects"].append(name)
            else:
                result["projects"].append(project)

    def run(self):
        gather = self.params["gather"]
        wanted = ALL if "all" in gather else [item for item in ALL if item in gather]
        readers = {
            "systeminfo": lambda: self.client.get("/systeminfo", resource="systeminfo"),
            "health": lambda: self.client.get("/health", resource="health"),
            "robots": lambda: self.client.list_all("/robots", resource="system robots"),
            "registries": lambda: self.client.list_all("/registries", resource="registry endpoints"),
            "replications": lambda: self.client.list_all("/replication/policies", resource="replication policies"),
            "gc_schedule": lambda: self.client.get("/system/gc/schedule", resource="garbage collection schedule")
            or None,
            "configurations": lambda: self.client.get("/configurations", resource="system configuration"),
        }
        result = {"changed": False}
        for item in wanted:
            if item == "projects":
                self.projects(result)
            else:
                result[item] = readers[item]()
        self.module.exit_json(**result)


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(
        gather=dict(type="list", elements="str", choices=["all"] + list(ALL), default=["systeminfo", "health"]),
        project_names=dict(type="list", elements="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, InfoModule)


if __name__ == "__main__":
    main()
