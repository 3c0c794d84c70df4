# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read the image tags of a `docker save` archive, and compare them with an engine's.

Private to the harbor.deploy collection: the interface may change without notice.
Standard library only: this runs on the managed node.

`docker save` writes manifest.json near the end of the tar, and a gzip stream
cannot be searched, so the first read decompresses the whole archive (about 5 s
for 400 MB of gzip here). The tags are then kept in a sidecar
``<archive>.images.json`` keyed by the archive's size and mtime, so the next
reads cost one stat and one small file. ``loaded_tags`` reads the same tags from
the output of ``docker load``, so a first load needs no extra pass over the file.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile

CACHE_SUFFIX = ".images.json"
CACHE_FORMAT = 1
_CHUNK = 1 << 20  # read the archive in 1 MiB chunks


class ArchiveError(Exception):
    """The archive cannot be read or holds no tagged image."""


def cache_path(archive):
    return archive + CACHE_SUFFIX


def _stamp(archive):
    st = os.stat(archive)
    return {"format": CACHE_FORMAT, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def read_manifest_tags(archive):
    """RepoTags of every image in a docker-save tar (plain, gzip, bzip2 or xz), in order, deduplicated."""
    try:
        with tarfile.open(archive, mode="r|*", bufsize=_CHUNK) as tar:
            manifest = _manifest(tar, archive)
    except (OSError, tarfile.TarError, EOFError, ValueError) as exc:
        raise ArchiveError("cannot read %s: %s" % (archive, exc)) from exc
    tags = _unique(tag for entry in (manifest if isinstance(manifest, list) else [])
                   for tag in (entry or {}).get("RepoTags") or [])
    if not tags:
        raise ArchiveError("%s holds no tagged image (manifest.json has no RepoTags)" % archive)
    return tags


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def loaded_tags(output):
    """The tags named by the `Loaded image: TAG` lines of `docker load` (not `Loaded image ID:`)."""
    prefix = "Loaded image: "
    return _unique(line.strip()[len(prefix):].strip() for line in output.splitlines()
                   if line.strip().startswith(prefix))


def _manifest(tar, archive):
    for member in tar:
        if member.name.lstrip("./") == "manifest.json" and member.isfile():
            return json.load(tar.extractfile(member))
    raise ArchiveError("%s has no manifest.json: not a `docker save` archive" % archive)


def load_cached_tags(archive):
    """Tags from the sidecar cache when it matches the archive's size and mtime, else None."""
    try:
        with open(cache_path(archive)) as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("stamp") != _stamp(archive):
        return None
    tags = data.get("images")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        return None
    return tags


def save_cached_tags(archive, tags):
    """Write the sidecar cache atomically. Returns an error string, or None when written."""
    directory = os.path.dirname(os.path.abspath(archive))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".images-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump({"stamp": _stamp(archive), "images": tags}, handle, indent=1)
            os.chmod(tmp, 0o644)
            os.replace(tmp, cache_path(archive))
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        return "cannot write %s: %s" % (cache_path(archive), exc)
    return None


def normalize(tag):
    """The short form docker prints: no docker.io/ registry, no library/ namespace."""
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if tag.startswith(prefix):
            tag = tag[len(prefix):]
            break
    if tag.startswith("library/") and tag.count("/") == 1:
        tag = tag[len("library/"):]
    return tag


def missing_tags(wanted, present):
    """The tags of wanted (in order) that are not among present, compared in normalized form."""
    have = {normalize(tag) for tag in present}
    return [tag for tag in wanted if normalize(tag) not in have]
