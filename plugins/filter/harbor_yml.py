# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters for Harbor's harbor.yml: harbor_yml_merge and harbor_yml_errors.

Their documentation lives beside this file in harbor_yml_merge.yml and
harbor_yml_errors.yml (one sidecar per filter, as ansible-core does it).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_yml import (
    deep_merge,
    validate,
)


def harbor_yml_merge(base, override=None):
    """Deep-merge the user's harbor.yml dict over a release's template dict."""
    try:
        return deep_merge(base, override)
    except TypeError as exc:
        raise AnsibleFilterError("harbor_yml_merge: %s" % exc) from exc


def harbor_yml_errors(config):
    """List the problems of a full harbor.yml dict; an empty list means valid."""
    return validate(config)


class FilterModule:
    """harbor.yml filters."""

    def filters(self):
        return {
            "harbor_yml_merge": harbor_yml_merge,
            "harbor_yml_errors": harbor_yml_errors,
        }
