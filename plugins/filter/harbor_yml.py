# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters for Harbor's harbor.yml: harbor_yml_merge, harbor_yml_remove, harbor_yml_errors
and harbor_yml_endpoint.

Their documentation lives beside this file in harbor_yml_merge.yml,
harbor_yml_remove.yml, harbor_yml_errors.yml and harbor_yml_endpoint.yml (one sidecar
per filter, as ansible-core does it).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_yml import (
    deep_merge,
    endpoint,
    remove_keys,
    validate,
)


def harbor_yml_merge(base, override=None):
    """Deep-merge a harbor.yml dict (the shortcuts, the user's install_config) over a release's template dict."""
    try:
        return deep_merge(base, override)
    except TypeError as exc:
        raise AnsibleFilterError("harbor_yml_merge: %s" % exc) from exc


def harbor_yml_remove(config, paths=None):
    """A copy of a harbor.yml dict without the dotted keys listed (install_config_remove)."""
    try:
        return remove_keys(config, paths)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("harbor_yml_remove: %s" % exc) from exc


def harbor_yml_errors(config, template=None, user=None, version=None, remove=None):
    """List the problems of a full harbor.yml dict; an empty list means valid."""
    try:
        return validate(config, template=template, user=user, version=version, remove=remove)
    except ValueError as exc:
        raise AnsibleFilterError("harbor_yml_errors: %s" % exc) from exc


def harbor_yml_endpoint(config):
    """How clients reach the Harbor of a harbor.yml dict: registry, url, https."""
    if not isinstance(config, dict) or not (config.get("hostname") or config.get("external_url")):
        raise AnsibleFilterError("harbor_yml_endpoint: needs a harbor.yml dict with hostname or external_url")
    try:
        return endpoint(config)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("harbor_yml_endpoint: %s" % exc) from exc


class FilterModule:
    """harbor.yml filters."""

    def filters(self):
        return {
            "harbor_yml_merge": harbor_yml_merge,
            "harbor_yml_remove": harbor_yml_remove,
            "harbor_yml_errors": harbor_yml_errors,
            "harbor_yml_endpoint": harbor_yml_endpoint,
        }
