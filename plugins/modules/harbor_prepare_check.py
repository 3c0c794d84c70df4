#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_prepare_check
short_description: Check on the Harbor host the files Harbor's prepare reads, before it runs
version_added: "0.1.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Reads the harbor.yml settings that name files on the Harbor host and checks each file the way Harbor's
    C(prepare) needs it, in one round trip, so that a bad file is reported with the harbor.yml key that names it
    instead of a failed or crashed C(prepare).
  - C(https.certificate) and C(https.private_key) (when C(https) is set) - required, exist, regular files,
    readable, a PEM certificate and an unencrypted PEM private key, and the key is the certificate's.
  - C(storage_service.ca_bundle) (when set) - exists, readable, a PEM certificate, and owned by uid 10000 with the
    owner read bit or (another owner) readable by others, the rule C(prepare) enforces.
  - C(internal_tls.dir) (when C(internal_tls.enabled)) - a directory holding every file C(prepare) expects
    (C(harbor_internal_ca.crt), and C(.crt)/C(.key) of core, job_service, portal, proxy, registry, registryctl,
    of trivy_adapter with O(with_trivy), of harbor_db unless C(external_database) is set), no symlinks, each
    C(.crt) but the CA's with a subjectAltName, each key the one of its certificate.
  - C(external_redis.tlsOptions.rootCA) (when C(tlsOptions.enable), Harbor v2.13 and later) - required, exists,
    readable, a PEM certificate.
  - C(uaa.ca_file) (when set) - exists, readable, a PEM certificate, readable by uid 10000 (harbor-core, which
    gets it bind-mounted).
  - Paths C(prepare) copies must not go through a symlink with an absolute target - C(prepare) reads the host
    under C(/hostfs) in its container, where such a link points into the container.
  - Certificates and keys are parsed with the C(cryptography) Python package when the host has it, else with the
    C(openssl) binary. With neither, only the PEM markers are checked, RV(crypto) is V(none) and a warning says
    so; existence, type and readability are always checked.
  - Returns every problem in RV(errors), and fails with all of them joined when there is any (outside check mode).
    File contents and harbor.yml secrets are never returned.
options:
  config:
    description:
      - The harbor.yml settings, as a mapping (the merged configuration the install role writes).
      - Never logged; secrets from it never reach the output.
    type: dict
    required: true
  version:
    description:
      - Harbor release, for example V(v2.15.2). C(external_redis.tlsOptions) is checked from v2.13 on; unset means
        the newest rules.
    type: str
  with_trivy:
    description: Whether C(prepare) runs with C(--with-trivy) (then C(internal_tls) needs the trivy_adapter files).
    type: bool
    default: false
extends_documentation_fragment:
  - harbor.deploy.attributes
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - >-
        The module only reads. In check mode it does not fail - it returns RV(errors) and warns with them - since
        the tasks before it (a certificate copied, a CA bundle written) did not really run. Add
        C(failed_when: result.errors | length > 0) to fail in check mode too.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second run indicates no change.
    support: full
    details:
      - Never changes anything; C(changed) is always V(false).
notes:
  - Run it with the privileges C(prepare) has (C(become)), so that "readable" means readable by root.
  - C(storage_service.ca_bundle) is checked at the path harbor.yml gives; C(prepare) also reads a path under
    C(/data/) inside its container (where data_volume is mounted), which is the same file when data_volume is
    V(/data).
seealso:
  - module: harbor.deploy.harbor_health
"""

EXAMPLES = r"""
- name: Check the files prepare reads, and hash them
  harbor.deploy.harbor_prepare_check:
    config: "{{ harbor_yml }}"
    version: v2.15.2
    with_trivy: true
  register: prepare_files

- name: Show what was checked
  ansible.builtin.debug:
    msg: "{{ prepare_files.files | map(attribute='key') | list }} via {{ prepare_files.crypto }}"
"""

RETURN = r"""
errors:
  description:
    - "Every problem found, as C(dotted.harbor.yml.key: message naming the path). Empty when all is well."
  returned: always
  type: list
  elements: str
  sample:
    - "https.private_key: /etc/harbor/tls/harbor.key is not the key of /etc/harbor/tls/harbor.crt"
    - >-
      storage_service.ca_bundle: /etc/harbor/s3-ca.pem (owner uid 0, mode 0600) must be owned by uid 10000 with the
      owner read bit, or be readable by others (for example 0644): prepare refuses it
checksums:
  description:
    - The sha256 of every file that could be read, by path. Their change is a change of what C(prepare) copies.
  returned: always
  type: dict
  sample: {"/etc/harbor/tls/harbor.crt": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
files:
  description: The files checked, with the harbor.yml key that names them (or their directory).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The harbor.yml key.
      type: str
      sample: https.certificate
    path:
      description: The file.
      type: str
      sample: /etc/harbor/tls/harbor.crt
crypto:
  description:
    - What parsed the certificates and keys - V(cryptography), V(openssl), or V(none) (only the PEM markers were
      checked).
  returned: always
  type: str
  sample: cryptography
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._prepare_check import (
    Backend,
    PrepareCheck,
    secret_values,
)

HIDDEN = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def _mask(text, secrets):
    for secret in secrets:
        text = text.replace(secret, "********")
    return text


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="dict", required=True, no_log=True),
            version=dict(type="str"),
            with_trivy=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    # no_log on config makes Ansible mask every leaf of harbor.yml wherever it appears in the output, down to
    # "1" or "db" inside the paths and digests this module returns: mask only the secrets, and never echo config.
    module.no_log_values = secret_values(params["config"])
    invocation = {"module_args": {"config": HIDDEN, "version": params["version"], "with_trivy": params["with_trivy"]}}

    backend = Backend(run_command=module.run_command, openssl=module.get_bin_path("openssl"))
    check = PrepareCheck(backend).run(params["config"], version=params["version"], with_trivy=params["with_trivy"])
    if check.deep_skipped:
        module.warn("Neither the python cryptography package nor the openssl binary is on this host: certificates "
                    "and keys were only checked for their PEM markers (not parsed, key/certificate match and "
                    "subjectAltName not checked).")
    # Ansible masks secrets in values, not in keys: the paths keying checksums are masked here.
    checksums = {_mask(path, module.no_log_values): digest for path, digest in check.checksums.items()}
    result = dict(changed=False, errors=check.errors, checksums=checksums, files=check.files,
                  crypto=backend.name, invocation=invocation)
    if check.errors:
        message = "Files harbor.yml names for prepare: " + "; ".join(check.errors)
        if module.check_mode:
            # the tasks before this one (certificates copied, bundles written) did not really run in check mode
            module.warn("check mode, not failing: " + message)
            module.exit_json(msg="check mode, not failing: " + message, **result)
        module.fail_json(msg=message, **result)
    module.exit_json(msg="%d file(s) prepare reads are fine" % len(check.files), **result)


if __name__ == "__main__":
    main()
