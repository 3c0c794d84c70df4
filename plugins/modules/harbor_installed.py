#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Documentation of harbor.deploy.harbor_installed; the work is done by its action plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_installed
short_description: Describe the Harbor release that runs on a host (the roles' shared contract)
version_added: "0.1.0"
description:
  - Reads, without changing anything, what the install role leaves on a host
    (docs/CONTRACT.md describes them), namely the C(current) link under O(root), the release
    it points to, its state stamp, its C(harbor.yml) and the boot unit.
  - Returns what the backup, restore and upgrade roles derive from them, computed in
    one place, namely the release, data_volume, the local health and API URLs, the database
    (Harbor's own C(harbor-db) or C(external_database)) and the storage backend.
  - Runs as an action plugin, so harbor.yml is parsed on the controller and the host needs no PyYAML.
options:
  root:
    description: The releases' root (the bundle role's C(bundle_root)); C(ROOT/current) names the running release.
    type: path
    default: /opt/harbor
  secrets:
    description:
      - Also return C(admin_password) and C(database.password) from harbor.yml.
      - The whole result is then hidden from the logs (as with C(no_log)).
    type: bool
    default: false
extends_documentation_fragment:
  - harbor.deploy.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second run indicates no change.
    support: full
    details:
      - Never changes anything; C(changed) is always V(false).
author:
  - harbor.deploy maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read the running Harbor
  harbor.deploy.harbor_installed:
    root: "{{ bundle_root | default('/opt/harbor') }}"
  register: harbor

- name: Show where its data is
  ansible.builtin.debug:
    msg: "{{ harbor.version }} keeps its data in {{ harbor.data_volume }} ({{ harbor.storage.backend }})"
  when: harbor.installed
"""

RETURN = r"""
installed:
  description: Whether C(ROOT/current) is a link to a release.
  type: bool
  returned: always
root:
  description: The releases' root.
  type: str
  returned: always
current_link:
  description: C(ROOT/current).
  type: str
  returned: always
unit_path:
  description: The boot unit the install role writes.
  type: str
  returned: always
unit_exists:
  description: Whether the boot unit exists.
  type: bool
  returned: always
stamp_name:
  description: The state stamp's file name in a release's C(harbor/) directory.
  type: str
  returned: always
release_dir:
  description: The running release's directory (C(ROOT/vX.Y.Z), links resolved).
  type: str
  returned: when installed
project_dir:
  description: Its C(harbor/) directory (harbor.yml, docker-compose.yml).
  type: str
  returned: when installed
harbor_yml:
  description: Path of its harbor.yml.
  type: str
  returned: when installed
stamp_path:
  description: Path of its state stamp.
  type: str
  returned: when installed
stamp_exists:
  description: Whether the stamp exists (a run of the install role finished prepare).
  type: bool
  returned: when installed
version:
  description: The running release, from the stamp, else the release directory's name.
  type: str
  returned: when installed
  sample: v2.15.2
data_volume:
  description: harbor.yml's data_volume (default C(/data)), without a trailing slash.
  type: str
  returned: when installed
health_url:
  description: The health endpoint on this host's nginx (HTTPS when harbor.yml has an https block).
  type: str
  returned: when installed
  sample: https://127.0.0.1:443/api/v2.0/health
api_url:
  description: The API base on this host's nginx.
  type: str
  returned: when installed
database:
  description:
    - The database Harbor uses. C(kind) is C(internal) (the C(harbor-db) container) or C(external).
    - C(password) only with O(secrets).
  type: dict
  returned: when installed
  sample: {kind: external, name: registry, host: db.example.com, port: 5432, username: harbor, sslmode: require, container: ""}
storage:
  description:
    - The registry storage. C(backend) is C(filesystem), C(s3), C(azure), C(gcs), C(swift) or C(oss);
      C(local) is true for the filesystem, whose C(path) on the host is C(data_volume/registry).
  type: dict
  returned: when installed
admin_password:
  description: harbor.yml's harbor_admin_password (the install role keeps it current).
  type: str
  returned: with O(secrets)
"""
