# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Attributes every harbor.deploy module shares: no diff, POSIX targets."""

from __future__ import annotations


class ModuleDocFragment:
    """Use with ansible.builtin.action_common_attributes, which describes them."""

    DOCUMENTATION = r"""
attributes:
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
"""
