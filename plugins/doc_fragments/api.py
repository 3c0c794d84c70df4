# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The connection options of the modules that talk to Harbor's API (module_utils/_harbor_api.py)."""

from __future__ import annotations


class ModuleDocFragment:
    """Options of api_argument_spec(); the modules also document the retries in their notes."""

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Harbor's address, C(https://HOST) or C(http://HOST), with an optional C(:PORT). A trailing C(/api/v2.0) is
        accepted and ignored.
      - Redirects are not followed (Harbor's nginx redirects HTTP to HTTPS); the module fails naming the address Harbor
        redirects to.
      - When not given, the value of the E(HARBOR_URL) environment variable (of the managed node) is used.
    type: str
    required: true
  api_username:
    description:
      - User name for HTTP basic authentication, a Harbor user (such as V(admin)) or a robot account's full name
        (such as V(robot$automation)).
      - When not given, the E(HARBOR_USERNAME) environment variable, else V(admin).
    type: str
    default: admin
  api_password:
    description:
      - That user's password, or the robot account's secret.
      - When not given, the E(HARBOR_PASSWORD) environment variable.
    type: str
    required: true
  validate_certs:
    description: Verify Harbor's TLS certificate (HTTPS addresses).
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA that signed Harbor's certificate, on the managed node.
    type: path
  timeout:
    description: Timeout of one HTTP request, in seconds.
    type: float
    default: 30
notes:
  - Requests go through C(ansible.module_utils.urls) and need nothing but Python on the managed node, which is the host
    that talks to Harbor (often the controller, with C(delegate_to) or a local connection).
  - Answers 500, 502, 503 and 504, timeouts and connection errors are retried 3 times, after 1, 2 and 4 seconds; other
    errors (4xx, a certificate that does not verify) fail at once. Errors name the method, the API path, the resource
    and Harbor's own message.
"""
