# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The attributes the modules that talk to Harbor's API share (with harbor.deploy.api, their connection options).

A fragment of its own, not a section of api.py: ansible-core 2.19 resolves ``harbor.deploy.api.attributes`` to
the fragment file ``attributes.py`` (a collection's ``NAME.SECTION`` is first looked up as a plugin ``SECTION`` below
``NAME``), so a section named after another fragment of the collection would never be read.
"""

from __future__ import annotations


class ModuleDocFragment:
    """extends_documentation_fragment: [harbor.deploy.api, harbor.deploy.api_attributes]; it describes the attributes
    itself (no ansible.builtin.action_common_attributes needed).

    Every module of the action group harbor.deploy.api (meta/runtime.yml) uses it, and no other module, as
    tests/unit/test_action_group.py checks. The module's own attributes win key by key: it gives its check_mode
    ``details``, its diff_mode ``support`` and ``details``, and idempotent ``support`` and ``details`` when not full.
    """

    DOCUMENTATION = r"""
attributes:
  action_group:
    description: Part of the action group C(harbor.deploy.api); set the connection options of all its modules once with
      C(module_defaults) and C(group/harbor.deploy.api).
    support: full
    membership:
      - harbor.deploy.api
  check_mode:
    description: Can run in check mode and report what would change, without changing anything.
    support: full
  diff_mode:
    description: Returns details on what has changed (or would change, in check mode), in diff mode.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second run indicates no change.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details:
      - The module runs where the task runs (the managed node, or the controller with C(delegate_to) or a play on
        C(localhost)), the host that talks to Harbor's API; it changes nothing on that host but the files it is asked
        to write.
"""
