# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read the answer of Harbor's GET /api/v2.0/health.

Private to the harbor.deploy collection: the interface may change without notice.
Standard library only: this runs on the managed node.

The endpoint always answers 200 once core is up; the body says
``{"status": "healthy"|"unhealthy", "components": [{"name", "status", "error"?}]}``
and components start as unhealthy with an "unknown status" error.
"""

from __future__ import annotations

import json

HEALTHY = "healthy"
UNREACHABLE = "unreachable"


class Probe:
    """One look at the endpoint: status, components, and why it is not healthy yet."""

    def __init__(self, status, components=None, problem=None):
        self.status = status
        self.components = components or []
        self.problem = problem

    @property
    def healthy(self):
        return self.status == HEALTHY and all(c["status"] == HEALTHY for c in self.components)

    def summary(self):
        """`registry: unhealthy (dial tcp ...), core: unknown status`, or the problem."""
        if self.problem:
            return self.problem
        bad = [c for c in self.components if c["status"] != HEALTHY]
        if not bad:
            return "status %s" % self.status
        return ", ".join(
            "%s: %s%s" % (c["name"], c["status"], " (%s)" % c["error"] if c["error"] else "") for c in bad
        )


def parse_body(body):
    """A Probe from the body of a 200 answer (bytes or text)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except ValueError:
        return Probe(UNREACHABLE, problem="answer is not JSON: %s" % _clip(body))
    if not isinstance(data, dict) or not isinstance(data.get("status"), str):
        return Probe(UNREACHABLE, problem="answer has no status: %s" % _clip(body))
    components = []
    for item in data.get("components") or []:
        if not isinstance(item, dict):
            continue
        components.append({
            "name": str(item.get("name") or "?"),
            "status": str(item.get("status") or "unknown status"),
            "error": str(item["error"]) if item.get("error") else None,
        })
    return Probe(data["status"], components)


def _clip(text, limit=120):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
