# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The options of the API modules that start a job in Harbor and may wait for it (wait_argument_spec())."""

from __future__ import annotations


class ModuleDocFragment:
    """wait and wait_timeout; each module documents its own run option."""

    DOCUMENTATION = r"""
options:
  wait:
    description: With O(run=true), wait for the job Harbor runs (an execution, a garbage collection) to end.
    type: bool
    default: true
  wait_timeout:
    description:
      - With O(run=true) and O(wait=true), how many seconds to wait. When it passes, the module fails; the job goes
        on in Harbor.
    type: int
    default: 600
"""
