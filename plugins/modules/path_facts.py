#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: path_facts
short_description: Stat many paths and read small files on the host in one round trip
version_added: "0.1.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - The roles' converged reruns check many files (a link, a state stamp, a record of the last verification, a
    configuration to merge). One M(ansible.builtin.stat) or M(ansible.builtin.slurp) task per file costs a round
    trip each; this module answers for all of them in one.
  - Never follows a symbolic link for its own entry (RV(paths.type) is V(link) and RV(paths.link_target) is the
    link's text); the size, times and owner are the link's.
  - Reads the content of the paths listed in O(read), when they are regular files, up to O(max_bytes) each; a
    file whose name ends in C(.json) is parsed too. Never hashes a file.
options:
  paths:
    description: Absolute paths to report on. Missing paths are reported with RV(paths.exists) V(false).
    type: list
    elements: path
    required: true
  read:
    description:
      - Paths, among O(paths), whose content is returned in RV(paths.content) (text, UTF-8, invalid bytes
        replaced).
      - Do not list secrets; the content lands in the task result.
    type: list
    elements: path
    default: []
  max_bytes:
    description: The largest file O(read) returns; a larger one fails the task (it is not a small file).
    type: int
    default: 1048576
extends_documentation_fragment:
  - harbor.deploy.attributes
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it runs the same in check mode.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second run indicates no change.
    support: full
    details:
      - Never changes anything; C(changed) is always V(false).
seealso:
  - module: ansible.builtin.stat
  - module: ansible.builtin.slurp
"""

EXAMPLES = r"""
- name: Read the current link, the state stamp and the compose file in one round trip
  harbor.deploy.path_facts:
    paths:
      - /opt/harbor/current
      - /opt/harbor/current/.harbor-deploy-state.json
      - /opt/harbor/current/harbor/docker-compose.yml
    read:
      - /opt/harbor/current/.harbor-deploy-state.json
  register: found

- name: Use them
  ansible.builtin.debug:
    msg: >-
      {{ found.paths['/opt/harbor/current'].link_target | default('no link') }}
      {{ found.paths['/opt/harbor/current/.harbor-deploy-state.json'].json | default({}) }}
"""

RETURN = r"""
paths:
  description: One entry per path of O(paths), keyed by the path (after C(~) and variable expansion).
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the path exists (a dangling link exists).
      type: bool
    type:
      description: V(file), V(directory), V(link) or V(other); absent when the path does not exist.
      type: str
    size:
      description: Size in bytes.
      type: int
    mtime:
      description: Modification time, seconds since the epoch (float).
      type: float
    ctime:
      description: Status change time, seconds since the epoch (float).
      type: float
    inode:
      description: Inode number.
      type: int
    dev:
      description: Device number.
      type: int
    mode:
      description: Permission bits as an octal string, for example V(0644).
      type: str
    uid:
      description: Owner's user id.
      type: int
    gid:
      description: Owner's group id.
      type: int
    link_target:
      description: The text of the link, when RV(paths.type) is V(link).
      type: str
    content:
      description: The file's text, for the paths of O(read) that are regular files.
      type: str
    json:
      description:
        - The parsed content, for the paths of O(read) whose name ends in C(.json); V(null) when it does not
          parse (RV(paths.json_error) says why).
      type: raw
    json_error:
      description: Why the content of a C(.json) file did not parse.
      type: str
  sample:
    /opt/harbor/current:
      exists: true
      type: link
      link_target: /opt/harbor/releases/v2.15.2
      size: 29
      mtime: 1764518400.0
      ctime: 1764518400.0
      inode: 1234
      dev: 2049
      mode: "0777"
      uid: 0
      gid: 0
    /etc/docker/daemon.json:
      exists: false
"""

import json
import os
import stat

from ansible.module_utils.basic import AnsibleModule


def describe(path, read, max_bytes):
    """The facts of one path, or an error message for a file too large to read."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}, None
    except NotADirectoryError:
        return {"exists": False}, None
    if stat.S_ISLNK(st.st_mode):
        kind = "link"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    elif stat.S_ISDIR(st.st_mode):
        kind = "directory"
    else:
        kind = "other"
    facts = {
        "exists": True, "type": kind, "size": st.st_size, "mtime": st.st_mtime, "ctime": st.st_ctime,
        "inode": st.st_ino, "dev": st.st_dev, "mode": "%04o" % stat.S_IMODE(st.st_mode),
        "uid": st.st_uid, "gid": st.st_gid,
    }
    if kind == "link":
        facts["link_target"] = os.readlink(path)
    if read and kind == "file":
        if st.st_size > max_bytes:
            return facts, "%s is %d bytes, more than max_bytes (%d)" % (path, st.st_size, max_bytes)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            return facts, "%s grew past max_bytes (%d) while read" % (path, max_bytes)
        facts["content"] = data.decode("utf-8", errors="replace")
        if path.endswith(".json"):
            try:
                facts["json"] = json.loads(facts["content"])
            except ValueError as exc:
                facts["json"] = None
                facts["json_error"] = str(exc)
    return facts, None


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "required": True},
            "read": {"type": "list", "elements": "path", "default": []},
            "max_bytes": {"type": "int", "default": 1048576},
        },
        supports_check_mode=True,
    )
    paths = module.params["paths"]
    read = set(module.params["read"])
    unknown = sorted(read - set(paths))
    if unknown:
        module.fail_json(msg="read names paths that are not in paths: %s" % ", ".join(unknown))
    bad = sorted(p for p in paths if not os.path.isabs(p))
    if bad:
        module.fail_json(msg="paths must be absolute: %s" % ", ".join(bad))
    if module.params["max_bytes"] < 0:
        module.fail_json(msg="max_bytes must be 0 or more, got %d" % module.params["max_bytes"])
    result = {}
    for path in paths:
        try:
            result[path], error = describe(path, path in read, module.params["max_bytes"])
        except OSError as exc:
            module.fail_json(msg="cannot read %s: %s" % (path, exc), paths=result)
        if error:
            module.fail_json(msg=error, paths=result)
    module.exit_json(changed=False, paths=result)


if __name__ == "__main__":
    main()
