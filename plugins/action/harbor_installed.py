# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action of harbor.deploy.harbor_installed (documented in plugins/modules/harbor_installed.py).

Reads the host with ansible.builtin.stat and ansible.builtin.slurp (read-only, check
mode safe) and parses harbor.yml on the controller, so the host needs no PyYAML.
"""

from __future__ import annotations

import base64

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.harbor.deploy.plugins.module_utils._layout import (
    describe,
    paths,
    release_paths,
    stamp_version,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("root", "secrets"))

    def _run(self, name, args, task_vars):
        return self._execute_module(module_name=name, module_args=args, task_vars=task_vars)

    def _slurp(self, path, task_vars):
        res = self._run("ansible.builtin.slurp", {"src": path}, task_vars)
        if res.get("failed"):
            return None
        return base64.b64decode(res["content"]).decode("utf-8", "replace")

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        unknown = set(args) - self._VALID_ARGS
        if unknown:
            raise AnsibleActionFail("harbor_installed: unknown options %s (known: root, secrets)" % ", ".join(sorted(unknown)))
        root = args.get("root") or "/opt/harbor"
        if not str(root).startswith("/"):
            raise AnsibleActionFail("harbor_installed: root must be an absolute path, got %r" % root)
        secrets = boolean(args.get("secrets", False), strict=True)
        where = paths(root)
        result.update(changed=False, installed=False, **where)

        link = self._run("ansible.builtin.stat", {"path": where["current_link"], "get_checksum": False,
                                                  "get_mime": False, "get_attributes": False}, task_vars)
        if link.get("failed"):
            raise AnsibleActionFail("harbor_installed: cannot stat %s: %s" % (where["current_link"], link.get("msg")))
        unit = self._run("ansible.builtin.stat", {"path": where["unit_path"], "get_checksum": False,
                                                  "get_mime": False, "get_attributes": False}, task_vars)
        result["unit_exists"] = bool(unit.get("stat", {}).get("exists"))
        st = link.get("stat", {})
        if not st.get("islnk"):
            return result

        release = release_paths(st["lnk_source"])
        result.update(release)
        text = self._slurp(release["harbor_yml"], task_vars)
        if text is None:
            raise AnsibleActionFail("harbor_installed: %s points to %s, which has no readable harbor.yml (%s)"
                                    % (where["current_link"], st["lnk_source"], release["harbor_yml"]))
        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise AnsibleActionFail("harbor_installed: %s is not valid YAML: %s"
                                    % (release["harbor_yml"], str(exc).splitlines()[0])) from None
        stamp_text = self._slurp(release["stamp_path"], task_vars)
        result["stamp_exists"] = stamp_text is not None
        result["version"] = stamp_version(stamp_text, st["lnk_source"])
        result["installed"] = True
        result.update(describe(config, secrets=secrets))
        if secrets:
            result["_ansible_no_log"] = True
        return result
