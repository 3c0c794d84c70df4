#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_health
short_description: Wait until Harbor and every one of its components report healthy
version_added: "0.1.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Polls Harbor's C(GET /api/v2.0/health) (no authentication) until the answer's C(status) is C(healthy) and
    every entry of its C(components) is C(healthy), then returns each component's status.
  - That endpoint answers 200 as soon as core is up, with components starting as unhealthy (C(unknown status)),
    so the module reads the body rather than the HTTP status.
  - Connection errors, timeouts, HTTP errors (for example 502 from nginx while core starts) and bodies that are
    not Harbor's JSON all count as "not yet" and are retried every O(interval) seconds.
  - A TLS certificate that does not verify is not retried, since waiting would not fix it. Set O(ca_path) or
    O(validate_certs).
  - "On timeout the module fails with a message naming each unhealthy component and its error, for example
    C(Harbor not healthy after 300s: registry: unhealthy (dial tcp ...), core: unknown status)."
options:
  url:
    description: The health endpoint.
    type: str
    default: http://127.0.0.1/api/v2.0/health
  timeout:
    description: How long to wait in total, in seconds. V(0) probes once.
    type: float
    default: 300
  interval:
    description: Seconds between two probes.
    type: float
    default: 5
  request_timeout:
    description: Timeout of one HTTP request, in seconds.
    type: float
    default: 10
  validate_certs:
    description: Verify the server's TLS certificate (HTTPS URLs).
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA that signed Harbor's certificate, on the managed node.
    type: path
  headers:
    description: Extra HTTP request headers.
    type: dict
    default: {}
  host_header:
    description:
      - Value of the C(Host) header, when O(url) names an address (such as V(127.0.0.1)) but the server expects
        Harbor's host name.
    type: str
extends_documentation_fragment:
  - harbor.deploy.attributes
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: partial
    details:
      - The module only reads, but in check mode it probes once, does not wait, and never fails; it reports what
        it saw. The tasks before it did not really start Harbor in check mode, so waiting would only time out.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second run indicates no change.
    support: full
    details:
      - Never changes anything; C(changed) is always V(false).
notes:
  - Uses P(ansible.builtin.uri#module)'s HTTP code (C(ansible.module_utils.urls)); needs nothing but Python on the
    managed node.
seealso:
  - module: ansible.builtin.uri
  - module: harbor.deploy.harbor_images
"""

EXAMPLES = r"""
- name: Wait for Harbor
  harbor.deploy.harbor_health:
    timeout: 600
  register: harbor_health

- name: Wait for Harbor over HTTPS, trusting its CA
  harbor.deploy.harbor_health:
    url: https://harbor.example.com/api/v2.0/health
    ca_path: /etc/harbor/tls/ca.crt

- name: Through the loopback address, with the name nginx expects
  harbor.deploy.harbor_health:
    url: https://127.0.0.1/api/v2.0/health
    host_header: harbor.example.com
    validate_certs: false
"""

RETURN = r"""
status:
  description:
    - The C(status) of the last answer (V(healthy) or V(unhealthy)), or V(unreachable) when the last probe got no
      usable answer.
  returned: always
  type: str
  sample: healthy
components:
  description: The components of the last answer.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Component name.
      type: str
      sample: registry
    status:
      description: Its status.
      type: str
      sample: healthy
    error:
      description: Harbor's error text, or V(null) when it gave none.
      type: str
      sample: "dial tcp 172.18.0.5:5000: connect: connection refused"
  sample:
    - {name: core, status: healthy, error: null}
    - {name: registry, status: unhealthy, error: "dial tcp 172.18.0.5:5000: connect: connection refused"}
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 42.3
attempts:
  description: Number of probes made.
  returned: always
  type: int
  sample: 9
"""

import http.client
import ssl
import time
import urllib.error

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import SSLValidationError, open_url

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_health import (
    UNREACHABLE,
    Probe,
    parse_body,
)


class CertificateError(Exception):
    """The server's certificate does not verify: retrying will not help."""


def _is_cert_error(exc):
    reason = getattr(exc, "reason", exc)
    return isinstance(exc, SSLValidationError) or isinstance(reason, ssl.SSLCertVerificationError)


def probe(params, headers):
    """One GET of the health endpoint, as a Probe; raises CertificateError on a bad certificate."""
    try:
        response = open_url(
            params["url"],
            method="GET",
            headers=headers,
            timeout=params["request_timeout"],
            validate_certs=params["validate_certs"],
            ca_path=params["ca_path"],
        )
        return parse_body(response.read())
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError,
            SSLValidationError, UrlsConnectionError) as exc:  # all mean "not yet", but a bad certificate
        if _is_cert_error(exc):
            raise CertificateError(str(getattr(exc, "reason", exc))) from exc
        code = getattr(exc, "code", None)
        return Probe(UNREACHABLE, problem="HTTP %s" % code if code else "%s: %s" % (params["url"], exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", default="http://127.0.0.1/api/v2.0/health"),
            timeout=dict(type="float", default=300),
            interval=dict(type="float", default=5),
            request_timeout=dict(type="float", default=10),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            headers=dict(type="dict", default={}),
            host_header=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    headers = dict(params["headers"])
    if params["host_header"]:
        headers["Host"] = params["host_header"]

    start = time.monotonic()
    deadline = start + (0 if module.check_mode else max(params["timeout"], 0))
    attempts = 0
    while True:
        attempts += 1
        try:
            last = probe(params, headers)
        except CertificateError as exc:
            last = Probe(UNREACHABLE, problem="TLS certificate of %s does not verify (%s): set ca_path, or "
                                              "validate_certs=false" % (params["url"], exc))
            if not module.check_mode:
                break
        if last.healthy or time.monotonic() >= deadline:
            break
        time.sleep(max(0.0, min(params["interval"], deadline - time.monotonic())))

    elapsed = round(time.monotonic() - start, 1)
    result = dict(changed=False, status=last.status, components=last.components, elapsed=elapsed, attempts=attempts)
    if last.healthy:
        module.exit_json(msg="Harbor is healthy", **result)
    message = "Harbor not healthy after %ds: %s" % (round(elapsed), last.summary())
    if module.check_mode:
        module.exit_json(msg="check mode, probed once: " + message, **result)
    module.fail_json(msg=message, **result)


if __name__ == "__main__":
    main()
