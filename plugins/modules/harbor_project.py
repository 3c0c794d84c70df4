#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_project
short_description: Create, update or delete a Harbor project
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Manages one project through Harbor's API, C(/api/v2.0/projects). That is whether it is public, its storage quota,
    its scanning and vulnerability settings, and, at creation only, the registry endpoint it is a proxy cache of.
  - Only the options given are compared and changed; the others keep whatever Harbor has.
options:
  name:
    description: The project's name (Harbor wants lower case letters, digits and C(._-)).
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the project, V(absent) deletes it.
      - Harbor refuses to delete a project that still holds repositories (or Helm charts); the module then fails with
        Harbor's message.
    type: str
    choices: [present, absent]
    default: present
  public:
    description: Anyone, even anonymous users, may pull from a public project.
    type: bool
  storage_limit:
    description:
      - The project's storage quota, V(-1) for no limit.
      - Bytes as an integer, or a number with a unit, V(10GiB), V(500 MiB), V(1.5T). Units count in 1024s
        (C(K)=C(KB)=C(KiB), C(M), C(G), C(T), C(P)), as Harbor's own pages do.
      - Harbor lets only a system administrator set it; when the quota per project is disabled in Harbor's
        configuration it has no quota to read, and the module fails.
    type: raw
  auto_scan:
    description: Scan every image pushed to the project (metadata C(auto_scan)).
    type: bool
  prevent_vul:
    description: Refuse pulls of images with vulnerabilities of O(severity) or above (metadata C(prevent_vul)).
    type: bool
  severity:
    description: The severity from which O(prevent_vul) refuses pulls (metadata C(severity)).
    type: str
    choices: [none, low, medium, high, critical]
  enable_content_trust:
    description:
      - Refuse pulls of images without a Notary signature (metadata C(enable_content_trust)).
      - Harbor ignores it for a proxy cache project, so the module refuses to set it on one.
    type: bool
  enable_content_trust_cosign:
    description: Refuse pulls of images without a cosign signature (metadata C(enable_content_trust_cosign)).
    type: bool
  auto_sbom_generation:
    description: Generate an SBOM for every image pushed to the project (metadata C(auto_sbom_generation)).
    type: bool
  registry_id:
    description:
      - Make the project a proxy cache of this registry endpoint (its id in C(/api/v2.0/registries)).
      - Harbor sets it at creation only. For an existing project that is not a proxy cache of this endpoint the module
        fails rather than recreating the project.
    type: int
  registry_name:
    description: As O(registry_id), the endpoint given by its name.
    type: str
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details:
      - Reads the project (and the registry endpoint, the quota), sends nothing that changes it, and reports what would
        change.
  diff_mode:
    support: full
    details:
      - Before and after are the settings the module manages, as Harbor holds them (O(storage_limit) only when given).
notes:
  - The user of O(api_username) needs the right to create projects (or to update this one); Harbor lets only a
    system administrator create a proxy cache project or set a quota.
  - The C(metadata) keys Harbor has but the module does not manage (C(reuse_sys_cve_allowlist), C(proxy_speed_kb),
    C(max_upstream_conn), C(retention_id)), the CVE allowlist and the members are left as they are.
seealso:
  - module: harbor.deploy.harbor_robot
  - name: Harbor API (Swagger) of the release
    description: Look for C(/projects) and C(/quotas).
    link: https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
"""

EXAMPLES = r"""
- name: Harbor's projects, managed from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
      ca_path: "{{ playbook_dir }}/files/harbor-ca.crt"
  tasks:
    - name: A private project with a 50 GiB quota, scanned on push
      harbor.deploy.harbor_project:
        name: platform
        public: false
        storage_limit: 50GiB
        auto_scan: true
        prevent_vul: true
        severity: high

    - name: A proxy cache of Docker Hub (the endpoint exists already)
      harbor.deploy.harbor_project:
        name: dockerhub
        public: true
        registry_name: docker-hub
        storage_limit: -1

    - name: Delete a project (it must hold no repository)
      harbor.deploy.harbor_project:
        name: scratch
        state: absent
"""

RETURN = r"""
project:
  description:
    - The project as Harbor answers C(GET /api/v2.0/projects/{name}) after the change.
    - In check mode, the project as it is before the change; V(null) when it does not exist (or no longer does).
  returned: always
  type: dict
  sample:
    project_id: 3
    name: platform
    registry_id: 0
    owner_name: admin
    repo_count: 0
    metadata: {public: "false", auto_scan: "true", prevent_vul: "true", severity: high}
    creation_time: "2025-06-01T10:00:00.000Z"
quota:
  description:
    - The project's quota as Harbor answers C(GET /api/v2.0/quotas), C(hard.storage) being the limit in bytes.
    - In check mode, the quota before the change.
  returned: when O(storage_limit) is given and the project exists
  type: dict
  sample: {id: 3, ref: {id: 3, name: platform}, hard: {storage: 53687091200}, used: {storage: 0}}
"""

import decimal
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    BY_NAME,
    ApiModule,
    api_argument_spec,
    changed_keys,
    ensure_absent,
    find_by_name,
    finish,
    get_project,
    project_path,
    run_module,
)

BOOL_METADATA = ("public", "auto_scan", "prevent_vul", "enable_content_trust", "enable_content_trust_cosign",
                 "auto_sbom_generation")
METADATA = BOOL_METADATA + ("severity",)
UNITS = {"": 0, "B": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5}


def parse_size(value):
    """storage_limit in bytes: -1, an integer, or a number with a unit (1024-based); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("storage_limit must be a size, not %r" % value)
    if isinstance(value, int):
        size = value
    else:
        match = re.fullmatch(r"\s*(-?[0-9]+(?:\.[0-9]+)?)\s*([KMGTP]?)(I?B)?\s*", str(value), re.IGNORECASE)
        if not match or (match.group(3) and match.group(3).upper() == "IB" and not match.group(2)):
            raise ValueError("storage_limit %r is not a size such as 1073741824, 10GiB or -1" % value)
        number = decimal.Decimal(match.group(1)) * 1024 ** UNITS[match.group(2).upper()]
        if number != number.to_integral_value():
            raise ValueError("storage_limit %r is not a whole number of bytes" % value)
        size = int(number)
    if size != -1 and size <= 0:
        raise ValueError("storage_limit must be -1 (no limit) or more than 0 bytes, not %r" % value)
    return size


def metadata_value(name, value):
    """An option as Harbor's metadata holds it (strings)."""
    if name in BOOL_METADATA:
        return "true" if value else "false"
    return value


def view(project, storage=None):
    """The settings this module manages, as Harbor holds them (for comparison and diff)."""
    if project is None:
        return {}
    metadata = project.get("metadata") or {}
    result = {"name": project.get("name")}
    for key in BOOL_METADATA:
        result[key] = str(metadata.get(key, "false")).lower() == "true"
    result["severity"] = metadata.get("severity")
    result["registry_id"] = project.get("registry_id") or None
    if storage is not None:
        result["storage_limit"] = storage
    return result


class ProjectModule(ApiModule):
    def __init__(self, module):
        super().__init__(module)
        self.name = module.params["name"]
        self.resource = "project %s" % self.name
        self.path = project_path(self.name)

    def read(self):
        return get_project(self.client, self.name, resource=self.resource)

    def registry_id(self):
        """The registry endpoint asked for, as an id (None when none was asked)."""
        if self.params["registry_id"] is not None:
            return self.params["registry_id"]
        name = self.params["registry_name"]
        if name is None:
            return None
        found = find_by_name(self.client, "/registries", name, resource="registry endpoint %s" % name)
        if found is None:
            self.fail("Harbor has no registry endpoint named %r (create it first): needed as the proxy cache of %s"
                      % (name, self.resource))
        return found["id"]

    def quota(self, project_id):
        quotas = self.client.list_all("/quotas", query={"reference": "project", "reference_id": project_id},
                                      resource="quota of %s" % self.resource)
        if not quotas:
            self.fail("Harbor keeps no quota for %s (is the quota per project disabled?), so storage_limit cannot "
                      "be managed" % self.resource)
        return quotas[0]

    def desired(self):
        wanted = {key: self.params[key] for key in METADATA if self.params[key] is not None}
        if self.params["storage_limit"] is not None:
            try:
                wanted["storage_limit"] = parse_size(self.params["storage_limit"])
            except ValueError as exc:
                self.fail(str(exc))
        return wanted

    def run(self):
        check = self.module.check_mode
        current = self.read()
        result = {"changed": False, "project": current}

        if self.params["state"] == "absent":
            ensure_absent(self.module, self.client, current, self.path, result, "project", view(current),
                          resource=self.resource, headers=BY_NAME)

        wanted = self.desired()
        registry = self.registry_id()
        proxy = registry is not None or bool(current and current.get("registry_id"))
        if proxy and self.params["enable_content_trust"] is not None:
            self.fail("enable_content_trust cannot be set on %s: Harbor ignores it for a proxy cache project"
                      % self.resource)

        if current is None:
            self.create(result, wanted, registry, check)

        # An existing project: compare only what was given.
        if registry is not None and (current.get("registry_id") or None) != registry:
            self.fail("%s exists and is %s; Harbor sets the proxy cache registry at creation only (delete the project "
                      "to change it)" % (self.resource, "a proxy cache of registry endpoint %s" % current["registry_id"]
                                         if current.get("registry_id") else "not a proxy cache"))
        quota = None
        if "storage_limit" in wanted:
            quota = self.quota(current["project_id"])
            result["quota"] = quota
        before = view(current, (quota or {}).get("hard", {}).get("storage") if quota else None)
        after = dict(before, **wanted)
        changes = changed_keys(before, {key: wanted[key] for key in METADATA if key in wanted})
        changed_metadata = {key: metadata_value(key, value) for key, value in changes.items()}
        storage_changed = quota is not None and before.get("storage_limit") != wanted["storage_limit"]
        result["changed"] = bool(changed_metadata) or storage_changed
        if result["changed"] and not check:
            if changed_metadata:
                self.client.put(self.path, {"metadata": changed_metadata}, headers=BY_NAME, resource=self.resource)
            if storage_changed:
                self.client.put("/quotas/%s" % quota["id"], {"hard": {"storage": wanted["storage_limit"]}},
                                resource="quota of %s" % self.resource)
                result["quota"] = self.quota(current["project_id"])
            result["project"] = self.read()
        finish(self.module, result, before, after)

    def create(self, result, wanted, registry, check):
        body = {"project_name": self.name,
                "metadata": {key: metadata_value(key, wanted[key]) for key in METADATA if key in wanted}}
        if "storage_limit" in wanted:
            body["storage_limit"] = wanted["storage_limit"]
        if registry is not None:
            body["registry_id"] = registry
        after = dict(view({"name": self.name, "registry_id": registry}), **wanted)
        result["changed"] = True
        if not check:
            created = self.client.post("/projects", body, resource=self.resource)
            result["project"] = project = self.read()
            if project is None:
                self.fail("Harbor answered %s to the creation of %s but does not show it"
                          % (created.status, self.resource))
            if "storage_limit" in wanted:
                result["quota"] = quota = self.quota(project["project_id"])
                storage = (quota.get("hard") or {}).get("storage")
                if storage != wanted["storage_limit"]:
                    self.module.warn("Harbor set the storage limit of %s to %s bytes, not %s: only a system "
                                     "administrator may choose it" % (self.resource, storage, wanted["storage_limit"]))
        finish(self.module, result, {}, after)


def main():
    argument_spec = api_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        public=dict(type="bool"),
        storage_limit=dict(type="raw"),
        auto_scan=dict(type="bool"),
        prevent_vul=dict(type="bool"),
        severity=dict(type="str", choices=["none", "low", "medium", "high", "critical"]),
        enable_content_trust=dict(type="bool"),
        enable_content_trust_cosign=dict(type="bool"),
        auto_sbom_generation=dict(type="bool"),
        registry_id=dict(type="int"),
        registry_name=dict(type="str"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("registry_id", "registry_name")],
        supports_check_mode=True,
    )
    run_module(module, ProjectModule)


if __name__ == "__main__":
    main()
