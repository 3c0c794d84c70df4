# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filter containerd_config_path: config.toml text with the CRI registry config_path set.

Documentation beside this file in containerd_config_path.yml; the logic is in
plugins/module_utils/_containerd_toml.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.harbor.deploy.plugins.module_utils._containerd_toml import (
    ContainerdTomlError,
    set_config_path,
)


def containerd_config_path(text, path="/etc/containerd/certs.d", new_version=2):
    """Return {content, table, old, new, changed} for containerd config.toml ``text``."""
    try:
        content, table, old, new = set_config_path(text or "", path, int(new_version))
    except ContainerdTomlError as exc:
        raise AnsibleFilterError(f"containerd_config_path: {exc}") from exc
    return {"content": content, "table": table, "old": old, "new": new, "changed": content != (text or "")}


class FilterModule:
    """containerd config.toml filter."""

    def filters(self):
        return {"containerd_config_path": containerd_config_path}
