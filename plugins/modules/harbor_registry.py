#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_registry
short_description: Create, update or delete a Harbor registry endpoint
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Manages one registry endpoint through Harbor's API, C(/api/v2.0/registries), the remote registries that replication
    rules and proxy cache projects use.
  - The endpoint is found by its name. Only the options given are compared and changed; the others keep whatever Harbor
    has.
  - Optionally asks Harbor to ping the endpoint (C(POST /api/v2.0/registries/ping)) and fails when it does not answer.
options:
  name:
    description: The endpoint's name, unique in Harbor.
    type: str
    required: true
  state:
    description: V(present) creates or updates the endpoint, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The kind of registry (Harbor's adapter), such as V(harbor), V(docker-hub), V(docker-registry), V(github-ghcr),
        V(quay), V(gitlab), V(aws-ecr), V(azure-acr), V(google-gcr), V(jfrog-artifactory).
      - Required to create the endpoint. The module checks it against the adapters this Harbor has
        (C(GET /api/v2.0/replication/adapters)) before creating anything.
      - Harbor sets it at creation only; for an existing endpoint of another type the module fails rather than
        recreating it.
    type: str
  url:
    description:
      - The registry's address, such as V(https://hub.docker.com) or V(https://registry.example.com).
      - Required to create the endpoint. Compared without a trailing C(/), as Harbor stores it.
    type: str
  description:
    description: A free text.
    type: str
  insecure:
    description: Do not verify the registry's TLS certificate.
    type: bool
  ca_certificate:
    description: A PEM CA certificate Harbor verifies the registry's certificate with (instead of the system's CAs).
    type: str
  credential:
    description:
      - How Harbor authenticates to the registry. Without it, anonymously (at creation), or as it already does.
    type: dict
    suboptions:
      type:
        description: V(basic) (a user name and password) or V(oauth) (a token).
        type: str
        choices: [basic, oauth]
        default: basic
      access_key:
        description: The user name (or key id).
        type: str
        required: true
      access_secret:
        description:
          - The password, token or secret key.
          - Write-only. Harbor never shows it back, so it cannot be compared. It is sent when the endpoint is created,
            when O(update_secret=true), and along with a change of O(credential.type) or O(credential.access_key);
            otherwise it is neither sent nor compared, and a changed secret goes unnoticed.
        type: str
  update_secret:
    description:
      - Send O(credential.access_secret) to an existing endpoint, and report a change, on every run (the secret cannot
        be compared). Leave it V(false) to send it only at creation and with a new O(credential.access_key).
    type: bool
    default: false
  ping:
    description:
      - After the change (or when nothing changed), ask Harbor to ping the endpoint with its stored settings; the module
        fails with Harbor's message when the registry does not answer or refuses the credential.
      - In check mode, the ping carries the settings asked for, so it checks the endpoint as it would be.
    type: bool
    default: false
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details:
      - Reads the endpoint (and the adapters), sends nothing that changes it and reports what would change. With
        O(ping=true) it still sends the ping, which changes nothing.
  diff_mode:
    support: full
    details:
      - Before and after are the settings the module manages; the secret shows as V((not shown)), or V((new, not shown))
        when it is sent.
  idempotent:
    support: partial
    details: Not with O(update_secret=true), which sends the secret and reports a change every time.
notes:
  - Harbor lets only a system administrator manage registry endpoints.
  - Harbor refuses to delete an endpoint that a proxy cache project or a replication rule uses; the module then fails
    with Harbor's message.
  - A credential is not removed when O(credential) is left out.
seealso:
  - module: harbor.deploy.harbor_project
  - module: harbor.deploy.harbor_info
  - name: Harbor API (Swagger) of the release
    description: Look for C(/registries) and C(/replication/adapters).
    link: https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
"""

EXAMPLES = r"""
- name: Harbor's registry endpoints, managed from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
  tasks:
    - name: Docker Hub, for a proxy cache project, checked with a ping
      harbor.deploy.harbor_registry:
        name: docker-hub
        type: docker-hub
        url: https://hub.docker.com
        credential:
          access_key: mydockerid
          access_secret: "{{ dockerhub_token }}"
        ping: true

    - name: Another Harbor, its certificate signed by an internal CA
      harbor.deploy.harbor_registry:
        name: harbor-dr
        type: harbor
        url: https://harbor-dr.example.com
        ca_certificate: "{{ lookup('ansible.builtin.file', 'internal-ca.crt') }}"
        credential:
          access_key: robot$replicator
          access_secret: "{{ dr_robot_secret }}"

    - name: Rotate the password Harbor uses for Docker Hub
      harbor.deploy.harbor_registry:
        name: docker-hub
        credential:
          access_key: mydockerid
          access_secret: "{{ new_dockerhub_token }}"
        update_secret: true

    - name: Delete an endpoint
      harbor.deploy.harbor_registry:
        name: old-mirror
        state: absent
"""

RETURN = r"""
registry:
  description:
    - The endpoint as Harbor answers C(GET /api/v2.0/registries/{id}) after the change; Harbor shows a secret as
      V(*****).
    - In check mode, the endpoint as it is before the change; V(null) when it does not exist (or no longer does).
  returned: always
  type: dict
  sample:
    id: 2
    name: docker-hub
    type: docker-hub
    url: https://hub.docker.com
    description: ""
    insecure: false
    status: healthy
    credential: {type: basic, access_key: mydockerid, access_secret: "*****"}
    creation_time: "2025-06-01T10:00:00.000Z"
    update_time: "2025-06-01T10:00:00.000Z"
secret_sent:
  description: Whether the secret was sent to Harbor in this run (or would be, in check mode).
  returned: when O(state=present)
  type: bool
  sample: false
healthy:
  description: Harbor pinged the endpoint successfully (the module fails otherwise).
  returned: when O(ping=true) and O(state=present)
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    SECRET_KEPT,
    SECRET_NEW,
    ApiModule,
    HarborApiError,
    api_argument_spec,
    changed_keys,
    ensure_absent,
    find_by_name,
    finish,
    run_module,
)

FIELDS = ("url", "description", "insecure", "ca_certificate")


def view(registry):
    """What the module manages, for comparison and diff (the secret only as whether there is one)."""
    if registry is None:
        return {}
    credential = registry.get("credential") or {}
    result = {"name": registry.get("name"), "type": registry.get("type"),
              "url": (registry.get("url") or "").rstrip("/"), "description": registry.get("description") or "",
              "insecure": bool(registry.get("insecure")), "ca_certificate": registry.get("ca_certificate") or ""}
    if credential.get("type") or credential.get("access_key"):
        result["credential"] = {"type": credential.get("type") or "", "access_key": credential.get("access_key") or "",
                                "access_secret": SECRET_KEPT if credential.get("access_secret") else ""}
    return result


class RegistryModule(ApiModule):
    def __init__(self, module):
        super().__init__(module)
        self.name = module.params["name"]
        self.resource = "registry endpoint %s" % self.name

    def read(self, registry_id):
        return self.client.get("/registries/%s" % registry_id, resource=self.resource)

    def wanted(self):
        """The settings asked for, as view() shows them (the credential without its secret)."""
        wanted = {key: self.params[key] for key in FIELDS if self.params[key] is not None}
        if "url" in wanted:
            wanted["url"] = wanted["url"].strip().rstrip("/")
        credential = self.params["credential"]
        if credential is not None:
            wanted["credential"] = {"type": credential["type"], "access_key": credential["access_key"]}
        return wanted

    def check_type(self):
        adapters = self.client.get("/replication/adapters", resource=self.resource) or []
        if self.params["type"] not in adapters:
            self.fail("%s: Harbor has no registry type %r; it knows %s" % (
                self.resource, self.params["type"], ", ".join(sorted(adapters))))

    def run(self):
        check = self.module.check_mode
        credential = self.params["credential"] or {}
        if self.params["state"] == "present" and self.params["update_secret"] and not credential.get("access_secret"):
            self.fail("update_secret=true needs credential.access_secret (for %s)" % self.resource)
        current = find_by_name(self.client, "/registries", self.name, resource=self.resource)
        if current is not None:
            current = self.read(current["id"])
        result = {"changed": False, "registry": current}
        if self.params["state"] == "absent":
            ensure_absent(self.module, self.client, current, "/registries/%s" % (current or {}).get("id"), result,
                          "registry", view(current), resource=self.resource)

        wanted = self.wanted()
        if current is None:
            before, after, body = self.create(result, wanted, credential, check)
        else:
            before, after, body = self.update(result, current, wanted, credential, check)
        if self.params["ping"]:
            self.ping(result, body if check else {"id": result["registry"]["id"]})
        finish(self.module, result, before, after)

    def create(self, result, wanted, credential, check):
        for key in ("type", "url"):
            if self.params[key] is None:
                self.fail("%s is required to create %s" % (key, self.resource))
        self.check_type()
        body = {"name": self.name, "type": self.params["type"], "url": wanted["url"],
                "description": wanted.get("description", ""), "insecure": wanted.get("insecure", False)}
        if wanted.get("ca_certificate"):
            body["ca_certificate"] = wanted["ca_certificate"]
        after = dict(name=self.name, type=body["type"], url=body["url"], description=body["description"],
                     insecure=body["insecure"], ca_certificate=body.get("ca_certificate", ""))
        if credential:
            body["credential"] = {"type": credential["type"], "access_key": credential["access_key"],
                                  "access_secret": credential.get("access_secret") or ""}
            after["credential"] = dict(wanted["credential"], access_secret=SECRET_NEW if credential.get(
                "access_secret") else "")
        result.update(changed=True, secret_sent=bool(credential.get("access_secret")))
        if not check:
            created = self.client.post("/registries", body, resource=self.resource)
            registry_id = created.location_id
            if registry_id is None:
                found = find_by_name(self.client, "/registries", self.name, resource=self.resource)
                registry_id = found and found["id"]
            if registry_id is None:
                self.fail("Harbor answered %s to the creation of %s but does not show it"
                          % (created.status, self.resource))
            result["registry"] = self.read(registry_id)
        return {}, after, self.ping_body(body, credential)

    def update(self, result, current, wanted, credential, check):
        before = view(current)
        if self.params["type"] is not None and self.params["type"] != current.get("type"):
            self.fail("%s exists and is of type %s, not %s; Harbor sets the type at creation only (delete the "
                      "endpoint to change it)" % (self.resource, current.get("type"), self.params["type"]))
        changes = changed_keys(before, {k: v for k, v in wanted.items() if k != "credential"})
        after = dict(before, **changes)
        body = dict(changes)
        old = before.get("credential") or {}
        send_secret = False
        if "credential" in wanted:
            new = wanted["credential"]
            if (old.get("type"), old.get("access_key")) != (new["type"], new["access_key"]):
                body.update(credential_type=new["type"], access_key=new["access_key"])
                send_secret = bool(credential.get("access_secret"))
            send_secret = send_secret or self.params["update_secret"]
            after["credential"] = dict(old, **new)
            after["credential"].setdefault("access_secret", "")
            if send_secret:
                body["access_secret"] = credential["access_secret"]
                after["credential"]["access_secret"] = SECRET_NEW
        result.update(changed=bool(body), secret_sent=send_secret)
        if body and not check:
            self.client.put("/registries/%s" % current["id"], body, resource=self.resource)
            result["registry"] = self.read(current["id"])
        ping = {"id": current["id"]}
        ping.update({k: v for k, v in body.items() if k not in ("name", "description")})
        return before, after, ping

    @staticmethod
    def ping_body(body, credential):
        """POST /registries/ping's body (RegistryPing) for an endpoint not created yet."""
        ping = {k: body[k] for k in ("type", "url", "insecure", "ca_certificate") if k in body}
        if credential:
            ping.update(credential_type=credential["type"], access_key=credential["access_key"],
                        access_secret=credential.get("access_secret") or "")
        return ping

    def ping(self, result, body):
        try:
            self.client.post("/registries/ping", body, resource=self.resource)
        except HarborApiError as exc:
            if exc.status not in (400, 404):
                raise
            self.fail("Harbor's ping of %s failed: %s" % (self.resource, exc.message), changed=result["changed"],
                      registry=result["registry"], status=exc.status)
        result["healthy"] = True


def main():
    credential = dict(
        type=dict(type="str", choices=["basic", "oauth"], default="basic"),
        access_key=dict(type="str", required=True, no_log=False),
        access_secret=dict(type="str", no_log=True),
    )
    argument_spec = api_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        type=dict(type="str"),
        url=dict(type="str"),
        description=dict(type="str"),
        insecure=dict(type="bool"),
        ca_certificate=dict(type="str"),
        credential=dict(type="dict", options=credential),
        update_secret=dict(type="bool", default=False, no_log=False),
        ping=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, RegistryModule)


if __name__ == "__main__":
    main()
