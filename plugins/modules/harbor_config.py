#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_config
short_description: Set Harbor's system configuration
version_added: "0.2.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Sets Harbor's system settings through its API (C(GET) and C(PUT /api/v2.0/configurations)), those of the
    Configurations schema of Harbor's swagger (authentication, LDAP, OIDC, UAA, HTTP auth proxy, project creation,
    read-only mode, robots, quotas, audit log, ...).
  - Only the keys given in O(settings) are compared (with the C(value) Harbor answers for each) and only the changed
    ones are sent; the others keep whatever Harbor has.
  - Unknown keys, and values of the wrong type, are refused before any request.
options:
  settings:
    description:
      - The settings to have, a dict of the keys below.
      - A key Harbor shows as not C(editable) (set by an environment variable of Harbor's core, or C(auth_mode) once
        there are users) makes the module fail before any change when its value differs.
    type: dict
    required: true
    suboptions:
      audit_log_forward_endpoint:
        description: The audit log forward endpoint.
        type: str
      auth_mode:
        description: How users authenticate. Harbor refuses to change it once users other than admin exist.
        type: str
        choices: [db_auth, ldap_auth, uaa_auth, http_auth, oidc_auth]
      banner_message:
        description: The web pages' banner, a JSON string (C(message), C(type), C(closable), C(fromDate), C(toDate)).
        type: str
      disabled_audit_log_event_types:
        description: The audit log event types not logged in the database (comma separated).
        type: str
      http_authproxy_admin_groups:
        description: The group which has the harbor admin privileges.
        type: str
      http_authproxy_admin_usernames:
        description: The username which has the harbor admin privileges.
        type: str
      http_authproxy_endpoint:
        description: The endpoint of the HTTP auth.
        type: str
      http_authproxy_server_certificate:
        description: The certificate of the HTTP auth provider.
        type: str
      http_authproxy_skip_search:
        description: Search user before onboard.
        type: bool
      http_authproxy_tokenreview_endpoint:
        description: The token review endpoint.
        type: str
      http_authproxy_verify_cert:
        description: Verify the HTTP auth provider's certificate.
        type: bool
      ldap_base_dn:
        description: The Base DN for LDAP binding.
        type: str
      ldap_filter:
        description: The filter for LDAP search.
        type: str
      ldap_group_admin_dn:
        description: Specify the ldap group which have the same privilege with Harbor admin.
        type: str
      ldap_group_attach_parallel:
        description: Attach LDAP user group information in parallel, the parallel worker count is 5.
        type: bool
      ldap_group_attribute_name:
        description: The attribute that names an LDAP group (usually C(cn)).
        type: str
      ldap_group_base_dn:
        description: The base DN to search LDAP group.
        type: str
      ldap_group_membership_attribute:
        description: The user attribute to identify the group membership.
        type: str
      ldap_group_search_filter:
        description: The filter to search the ldap group.
        type: str
      ldap_group_search_scope:
        description: The scope of the LDAP group search, V(0) base, V(1) one level, V(2) subtree.
        type: int
      ldap_scope:
        description: The scope of the LDAP user search, V(0) base, V(1) one level, V(2) subtree.
        type: int
      ldap_search_dn:
        description: The DN of the user to do the search.
        type: str
      ldap_search_password:
        description:
          - The password of the ldap search dn.
          - Write-only, Harbor never shows it; sent only when listed in O(update_secrets).
        type: str
      ldap_timeout:
        description: Timeout in seconds for connection to LDAP server.
        type: int
      ldap_uid:
        description: The attribute that is a user's login name in LDAP, such as C(uid), C(cn) or C(sAMAccountName).
        type: str
      ldap_url:
        description: The URL of LDAP server.
        type: str
      ldap_verify_cert:
        description: Verify the LDAP server's certificate.
        type: bool
      notification_enable:
        description: Enable notification.
        type: bool
      oidc_admin_group:
        description: The OIDC group which has the harbor admin privileges.
        type: str
      oidc_auto_onboard:
        description: Auto onboard the OIDC user.
        type: bool
      oidc_client_id:
        description: The client ID of the OIDC provider.
        type: str
      oidc_client_secret:
        description:
          - The OIDC provider secret.
          - Write-only, Harbor never shows it; sent only when listed in O(update_secrets).
        type: str
      oidc_endpoint:
        description: The endpoint of the OIDC provider.
        type: str
      oidc_extra_redirect_parms:
        description: Extra parameters to add when redirect request to OIDC provider.
        type: str
      oidc_group_filter:
        description: The OIDC group filter which filters out the group name doesn't match the regular expression.
        type: str
      oidc_groups_claim:
        description: The attribute claims the group name.
        type: str
      oidc_logout:
        description: Log the user out of the OIDC provider too.
        type: bool
      oidc_name:
        description: The OIDC provider name.
        type: str
      oidc_scope:
        description: The scope of the OIDC provider.
        type: str
      oidc_user_claim:
        description: The attribute claims the username.
        type: str
      oidc_verify_cert:
        description: Verify the OIDC provider's certificate.
        type: bool
      primary_auth_mode:
        description: The flag to indicate whether the current auth mode should consider as a primary one.
        type: bool
      project_creation_restriction:
        description: Who may create projects.
        type: str
        choices: [adminonly, everyone]
      quota_per_project_enable:
        description: Enable quota per project.
        type: bool
      read_only:
        description: Harbor refuses pushes, deletions and most changes (a maintenance mode).
        type: bool
      robot_name_prefix:
        description: The prefix of robot account names.
        type: str
      robot_token_duration:
        description: The robot account token duration in days.
        type: int
      scanner_skip_update_pulltime:
        description: Whether or not to skip update pull time for scanner.
        type: bool
      self_registration:
        description: Users may sign up themselves (else an administrator adds them).
        type: bool
      session_timeout:
        description: The lifetime of a web session, in minutes.
        type: int
      skip_audit_log_database:
        description: Skip audit log database.
        type: bool
      storage_per_project:
        description: The default storage quota of a new project, in bytes, V(-1) for none.
        type: int
      token_expiration:
        description: The lifetime of the registry tokens, in minutes.
        type: int
      uaa_client_id:
        description: The client id of UAA.
        type: str
      uaa_client_secret:
        description:
          - The client secret of the UAA.
          - Write-only, Harbor never shows it; sent only when listed in O(update_secrets).
        type: str
      uaa_endpoint:
        description: The endpoint of the UAA.
        type: str
      uaa_verify_cert:
        description: Verify the certificate in UAA server.
        type: bool
  update_secrets:
    description:
      - The write-only keys of O(settings) to send, V(ldap_search_password), V(oidc_client_secret),
        V(uaa_client_secret).
      - Harbor never shows these, so they cannot be compared. A write-only key of O(settings) not listed here is
        neither sent nor compared; one listed here is sent, and reported as a change, on every run. List it for the
        first run, or when the secret changes.
      - Each key listed must be in O(settings).
    type: list
    elements: str
    choices: [ldap_search_password, oidc_client_secret, uaa_client_secret]
    default: []
extends_documentation_fragment:
  - harbor.deploy.api
  - harbor.deploy.api_attributes
attributes:
  check_mode:
    details:
      - Reads the configuration, sends nothing and reports what would change.
  diff_mode:
    support: full
    details:
      - Before and after are the keys given (not the write-only ones that are not sent); a write-only key that is sent
        shows as V((not shown)) before and V((new, not shown)) after.
  idempotent:
    support: partial
    details: Not when O(update_secrets) lists a key, which is sent and reported as a change every time.
notes:
  - Harbor lets only a system administrator read or change its configuration.
  - The write-only values are kept out of the output and the logs.
seealso:
  - module: harbor.deploy.harbor_info
  - name: Harbor API (Swagger) of the release
    description: Look for C(/configurations) and the C(Configurations) definition.
    link: https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
"""

EXAMPLES = r"""
- name: Harbor's configuration, managed from the controller (the connection options set once)
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/harbor.deploy.api:
      api_url: https://harbor.example.com
      api_password: "{{ harbor_admin_password }}"
  tasks:
    - name: Only administrators create projects; no self sign-up
      harbor.deploy.harbor_config:
        settings:
          project_creation_restriction: adminonly
          self_registration: false
          robot_token_duration: 90

    - name: LDAP authentication, the search password sent on this run
      harbor.deploy.harbor_config:
        settings:
          auth_mode: ldap_auth
          ldap_url: ldaps://ldap.example.com
          ldap_base_dn: ou=people,dc=example,dc=com
          ldap_search_dn: cn=harbor,ou=services,dc=example,dc=com
          ldap_search_password: "{{ ldap_password }}"
          ldap_uid: uid
          ldap_scope: 2
        update_secrets: "{{ ['ldap_search_password'] if rotate_ldap_password | default(false) else [] }}"

    - name: Read-only mode for a maintenance
      harbor.deploy.harbor_config:
        settings:
          read_only: true
"""

RETURN = r"""
configurations:
  description:
    - Harbor's configuration as C(GET /api/v2.0/configurations) answers it after the change, each key a dict of
      C(value) and C(editable); it holds no write-only key.
    - In check mode, the configuration before the change.
  returned: always
  type: dict
  sample:
    auth_mode: {value: db_auth, editable: false}
    project_creation_restriction: {value: adminonly, editable: true}
    read_only: {value: false, editable: true}
    token_expiration: {value: 30, editable: true}
changed_keys:
  description: The keys sent (or that would be, in check mode), write-only ones included, sorted.
  returned: always
  type: list
  elements: str
  sample: [ldap_search_password, project_creation_restriction]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    SECRET_KEPT,
    SECRET_NEW,
    ApiModule,
    api_argument_spec,
    changed_keys,
    finish,
    run_module,
)

PATH = "/configurations"
RESOURCE = "system configuration"
WRITE_ONLY = ("ldap_search_password", "oidc_client_secret", "uaa_client_secret")
# The keys of the Configurations definition of Harbor's v2.15 swagger.yaml, with their types.
SETTINGS = {
    "audit_log_forward_endpoint": {"type": "str"},
    "auth_mode": {"type": "str", "choices": ["db_auth", "ldap_auth", "uaa_auth", "http_auth", "oidc_auth"]},
    "banner_message": {"type": "str"},
    "disabled_audit_log_event_types": {"type": "str"},
    "http_authproxy_admin_groups": {"type": "str"},
    "http_authproxy_admin_usernames": {"type": "str"},
    "http_authproxy_endpoint": {"type": "str"},
    "http_authproxy_server_certificate": {"type": "str"},
    "http_authproxy_skip_search": {"type": "bool"},
    "http_authproxy_tokenreview_endpoint": {"type": "str"},
    "http_authproxy_verify_cert": {"type": "bool"},
    "ldap_base_dn": {"type": "str"},
    "ldap_filter": {"type": "str"},
    "ldap_group_admin_dn": {"type": "str"},
    "ldap_group_attach_parallel": {"type": "bool"},
    "ldap_group_attribute_name": {"type": "str"},
    "ldap_group_base_dn": {"type": "str"},
    "ldap_group_membership_attribute": {"type": "str"},
    "ldap_group_search_filter": {"type": "str"},
    "ldap_group_search_scope": {"type": "int"},
    "ldap_scope": {"type": "int"},
    "ldap_search_dn": {"type": "str"},
    "ldap_search_password": {"type": "str"},
    "ldap_timeout": {"type": "int"},
    "ldap_uid": {"type": "str"},
    "ldap_url": {"type": "str"},
    "ldap_verify_cert": {"type": "bool"},
    "notification_enable": {"type": "bool"},
    "oidc_admin_group": {"type": "str"},
    "oidc_auto_onboard": {"type": "bool"},
    "oidc_client_id": {"type": "str"},
    "oidc_client_secret": {"type": "str"},
    "oidc_endpoint": {"type": "str"},
    "oidc_extra_redirect_parms": {"type": "str"},
    "oidc_group_filter": {"type": "str"},
    "oidc_groups_claim": {"type": "str"},
    "oidc_logout": {"type": "bool"},
    "oidc_name": {"type": "str"},
    "oidc_scope": {"type": "str"},
    "oidc_user_claim": {"type": "str"},
    "oidc_verify_cert": {"type": "bool"},
    "primary_auth_mode": {"type": "bool"},
    "project_creation_restriction": {"type": "str", "choices": ["adminonly", "everyone"]},
    "quota_per_project_enable": {"type": "bool"},
    "read_only": {"type": "bool"},
    "robot_name_prefix": {"type": "str"},
    "robot_token_duration": {"type": "int"},
    "scanner_skip_update_pulltime": {"type": "bool"},
    "self_registration": {"type": "bool"},
    "session_timeout": {"type": "int"},
    "skip_audit_log_database": {"type": "bool"},
    "storage_per_project": {"type": "int"},
    "token_expiration": {"type": "int"},
    "uaa_client_id": {"type": "str"},
    "uaa_client_secret": {"type": "str"},
    "uaa_endpoint": {"type": "str"},
    "uaa_verify_cert": {"type": "bool"},
}


class ConfigModule(ApiModule):
    def run(self):
        given = {key: value for key, value in (self.params["settings"] or {}).items() if value is not None}
        secrets = self.params["update_secrets"] or []
        missing = sorted(set(secrets) - set(given))
        if missing:
            self.fail("update_secrets lists %s, not in settings" % ", ".join(missing))
        current = self.client.get(PATH, resource=RESOURCE) or {}
        result = {"changed": False, "configurations": current}

        wanted = {key: value for key, value in given.items() if key not in WRITE_ONLY}
        before = {key: (current.get(key) or {}).get("value") for key in wanted}
        changes = changed_keys(before, wanted)
        locked = sorted(key for key in changes if not (current.get(key) or {}).get("editable", True))
        if locked:
            self.fail("Harbor does not let these settings change (editable is false): %s" % ", ".join(
                "%s (is %r, wanted %r)" % (key, before[key], wanted[key]) for key in locked))
        after = dict(before, **changes)
        body = dict(changes)
        for key in sorted(secrets):
            body[key] = given[key]
            before[key], after[key] = SECRET_KEPT, SECRET_NEW
        result["changed_keys"] = sorted(body)
        result["changed"] = bool(body)
        if body and not self.module.check_mode:
            self.client.put(PATH, body, resource=RESOURCE)
            result["configurations"] = self.client.get(PATH, resource=RESOURCE) or {}
        finish(self.module, result, before, after)


def main():
    settings = {key: dict(spec, no_log=key in WRITE_ONLY) for key, spec in SETTINGS.items()}
    argument_spec = api_argument_spec()
    argument_spec.update(
        settings=dict(type="dict", required=True, options=settings),
        update_secrets=dict(type="list", elements="str", choices=list(WRITE_ONLY), default=[], no_log=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, ConfigModule)


if __name__ == "__main__":
    main()
