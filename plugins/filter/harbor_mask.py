# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filter harbor_yml_mask: a copy of harbor.yml with every secret replaced.

Documentation beside this file in harbor_yml_mask.yml.
"""

from __future__ import annotations

import re

MASK = "********"
# Keys of harbor.yml (any release) that hold secrets, matched on the key name alone.
SECRET_KEY = re.compile(r"(password|passwd|secret|accesskey|secretkey|accountkey|token|credential|private_key_content)$", re.I)


def harbor_yml_mask(config, mask=MASK):
    """Return a deep copy of ``config`` whose secret values are replaced by ``mask``."""
    if isinstance(config, dict):
        return {
            key: (mask if SECRET_KEY.search(str(key)) and value not in (None, "") and not isinstance(value, dict)
                  else harbor_yml_mask(value, mask))
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [harbor_yml_mask(item, mask) for item in config]
    return config


class FilterModule:
    """harbor.yml masking filter."""

    def filters(self):
        return {"harbor_yml_mask": harbor_yml_mask}
