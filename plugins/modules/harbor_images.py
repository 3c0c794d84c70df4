#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: harbor_images
short_description: Load a Harbor bundle's images only when some of its tags are missing
version_added: "0.1.0"
author: harbor.deploy maintainers (!UNKNOWN)
description:
  - Reads the image tags (C(RepoTags)) of the C(docker save) archive of a Harbor offline bundle, for example
    C(harbor.v2.15.2.tar.gz), asks the Docker engine which of them it already has, and runs
    C(docker load -i ARCHIVE) only when at least one is missing.
  - Harbor's own C(install.sh) reloads every image on every run, which takes minutes; this module makes the
    load idempotent.
  - C(docker save) puts C(manifest.json) near the end of the archive and gzip cannot be searched, so reading the
    tags means decompressing the whole archive (about 5 s for 400 MB of gzip). The tags are then cached beside the
    archive in C(ARCHIVE.images.json), keyed by the archive's size and modification time, and later runs read
    only that file.
  - On the first run against an archive (no valid cache, O(cache=true), O(state=present), not check mode) the
    module runs C(docker load -i ARCHIVE) straight away and takes the tags from the C(Loaded image:) lines it
    prints (reading the manifest only if there are none), so a first install costs what a bare C(docker load)
    costs. If the engine turns out to have had every tag already, that load changed nothing and the module
    reports RV(loaded=true) with C(changed=false).
  - Otherwise it reads the tags (from the cache or the archive), and runs C(docker load -i ARCHIVE) only when
    at least one is missing.
  - The engine is asked with C(docker image ls --format '{{.Repository}}:{{.Tag}}'). Tags are compared in
    Docker's short form (C(docker.io/) and C(library/) dropped).
  - After a load the engine is asked again, and the module fails if a tag is still missing.
options:
  archive:
    description:
      - Path on the managed node of the C(docker save) archive (gzip, bzip2, xz or plain tar).
    type: path
    required: true
  state:
    description:
      - V(present) loads the archive when at least one of its tags is missing.
      - V(checked) only reports the missing tags and never loads.
    type: str
    choices: [present, checked]
    default: present
  docker_cli:
    description:
      - Name (looked up in E(PATH)) or absolute path of the Docker CLI.
    type: str
    default: docker
  cache:
    description:
      - Read and write the C(ARCHIVE.images.json) sidecar cache of the archive's tags.
      - When the directory is not writable the module warns and goes on without the cache.
      - The cache is never written in check mode.
    type: bool
    default: true
extends_documentation_fragment:
  - harbor.deploy.attributes
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the tags it would load and C(changed=true) when some are missing, without loading.
      - Reads the archive and asks the engine as in a real run, but does not write the sidecar cache.
  idempotent:
    description: When run twice in a row outside check mode, with the same arguments, the second run indicates no change.
    support: full
    details:
      - C(changed) is V(true) only when a tag was missing. A second run finds every tag, and the cache, and
        neither loads nor reports a change.
notes:
  - Needs the Docker CLI on the managed node and a running engine. Uses only Python's standard library.
  - The sidecar cache is a file beside the archive, mode C(0644); delete it to force a fresh read.
seealso:
  - module: community.docker.docker_image_load
    description: Loads an archive on every run (always changed).
  - module: harbor.deploy.harbor_health
"""

EXAMPLES = r"""
- name: Load Harbor's images when some are missing
  harbor.deploy.harbor_images:
    archive: /opt/harbor/v2.15.2/harbor/harbor.v2.15.2.tar.gz
  register: harbor_images_load

- name: Only report which images a node lacks
  harbor.deploy.harbor_images:
    archive: /opt/harbor/v2.15.2/harbor/harbor.v2.15.2.tar.gz
    state: checked
  register: harbor_images_check

- name: Show them
  ansible.builtin.debug:
    var: harbor_images_check.missing
"""

RETURN = r"""
images:
  description: Every tag in the archive's manifest, in the archive's order.
  returned: success
  type: list
  elements: str
  sample: ["goharbor/harbor-core:v2.15.2", "goharbor/harbor-db:v2.15.2", "goharbor/nginx-photon:v2.15.2"]
missing:
  description: The tags the engine did not have before this run (what was, or in check mode would be, loaded).
  returned: success
  type: list
  elements: str
  sample: ["goharbor/harbor-core:v2.15.2"]
loaded:
  description:
    - Whether C(docker load) ran. Always V(false) in check mode and with O(state=checked).
    - Can be V(true) with C(changed=false) on the first run against an uncached archive whose images the engine
      already had (see the description).
  returned: success
  type: bool
  sample: true
from_cache:
  description: Whether the tags came from the C(ARCHIVE.images.json) sidecar instead of reading the archive.
  returned: success
  type: bool
  sample: true
load_output:
  description: What C(docker load) printed (C(Loaded image ...) lines), when it ran.
  returned: when loaded
  type: str
  sample: "Loaded image: goharbor/harbor-core:v2.15.2"
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.harbor.deploy.plugins.module_utils._image_archive import (
    ArchiveError,
    load_cached_tags,
    loaded_tags,
    missing_tags,
    read_manifest_tags,
    save_cached_tags,
)

LIST_FORMAT = "{{.Repository}}:{{.Tag}}"


def engine_tags(module, docker):
    rc, out, err = module.run_command([docker, "image", "ls", "--format", LIST_FORMAT])
    if rc != 0:
        module.fail_json(msg="cannot list the engine's images with %s: %s" % (docker, (err or out).strip()), rc=rc)
    return [line.strip() for line in out.splitlines() if line.strip() and "<none>" not in line]


def docker_binary(module):
    cli = module.params["docker_cli"]
    if os.path.isabs(cli):
        if not os.access(cli, os.X_OK):
            module.fail_json(msg="docker_cli %s is not an executable file" % cli)
        return cli
    return module.get_bin_path(cli, required=True)


def archive_tags(module, archive, write_cache):
    try:
        tags = read_manifest_tags(archive)
    except ArchiveError as exc:
        module.fail_json(msg=str(exc))
    if write_cache:
        write_tags(module, archive, tags)
    return tags


def write_tags(module, archive, tags):
    error = save_cached_tags(archive, tags)
    if error:
        module.warn("tags of %s not cached: %s" % (archive, error))


def docker_load(module, docker, archive, result):
    rc, out, err = module.run_command([docker, "load", "-i", archive])
    if rc != 0:
        module.fail_json(msg="docker load -i %s failed: %s" % (archive, (err or out).strip()), rc=rc, **result)
    result.update(loaded=True, load_output=out.strip())
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            archive=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "checked"], default="present"),
            docker_cli=dict(type="str", default="docker"),
            cache=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    archive = module.params["archive"]
    use_cache = module.params["cache"]
    if not os.path.isfile(archive):
        module.fail_json(msg="archive %s does not exist or is not a file" % archive)
    docker = docker_binary(module)
    present = engine_tags(module, docker)

    images = load_cached_tags(archive) if use_cache else None
    result = dict(changed=False, images=images, missing=[], loaded=False, from_cache=images is not None)

    if images is None and use_cache and module.params["state"] == "present" and not module.check_mode:
        # First run on this archive: load it, and take the tags from what docker load
        # reports, instead of decompressing the whole archive once more to read them.
        images = loaded_tags(docker_load(module, docker, archive, result)) or archive_tags(module, archive, False)
        write_tags(module, archive, images)
        missing = missing_tags(images, present)
        result.update(images=images, missing=missing, changed=bool(missing))
    else:
        if images is None:
            images = archive_tags(module, archive, write_cache=use_cache and not module.check_mode)
        missing = missing_tags(images, present)
        result.update(images=images, missing=missing)
        if not missing or module.params["state"] == "checked":
            module.exit_json(**result)
        if module.check_mode:
            result.update(changed=True)
            module.exit_json(**result)
        docker_load(module, docker, archive, result)
        result.update(changed=True)

    still = missing_tags(images, engine_tags(module, docker))
    if still:
        module.fail_json(msg="docker load -i %s finished but these tags are still missing: %s"
                         % (archive, ", ".join(still)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
