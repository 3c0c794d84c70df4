# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The contract between the roles: where an installed Harbor keeps its state, and what
the other roles derive from it. docs/CONTRACT.md says the same in prose.

Private to the harbor.deploy collection: the interface may change without notice.

- ``paths(root)``: the fixed places under the releases' root (``bundle_root``): the
  ``current`` link, and, per release, the project directory and the state stamp; the
  boot unit.
- ``describe(config)``: what backup, restore and upgrade need from a parsed harbor.yml:
  data_volume, the local health and API URLs, the database (Harbor's own container or
  ``external_database``) and the storage backend (local filesystem or an object store).
- ``stamp_version(stamp_text, release_dir)``: the running release, from the stamp the
  install role writes (its ``version``), else the release directory's name.
"""

from __future__ import annotations

import json
import posixpath

# The install role writes these; the bundle role unpacks ROOT/vX.Y.Z/harbor.
CURRENT_LINK_NAME = "current"
PROJECT_DIR_NAME = "harbor"
STAMP_NAME = ".deploy-stamp"
UNIT_PATH = "/etc/systemd/system/harbor.service"
DEFAULT_ROOT = "/opt/harbor"
DEFAULT_DATA_VOLUME = "/data"

# Harbor's own database, as its compose file names it.
INTERNAL_DB = {"kind": "internal", "name": "registry", "host": "postgresql", "port": 5432,
               "username": "postgres", "sslmode": "disable", "container": "harbor-db"}


def paths(root=DEFAULT_ROOT):
    root = (root or DEFAULT_ROOT).rstrip("/") or "/"
    return {
        "root": root,
        "current_link": posixpath.join(root, CURRENT_LINK_NAME),
        "unit_path": UNIT_PATH,
        "stamp_name": STAMP_NAME,
    }


def release_paths(release_dir):
    """Paths inside one release directory (ROOT/vX.Y.Z)."""
    project = posixpath.join(release_dir, PROJECT_DIR_NAME)
    return {
        "release_dir": release_dir,
        "project_dir": project,
        "harbor_yml": posixpath.join(project, "harbor.yml"),
        "stamp_path": posixpath.join(project, STAMP_NAME),
    }


def stamp_version(stamp_text, release_dir):
    """The running release: the stamp's version, else the release directory's name."""
    if stamp_text:
        try:
            stamp = json.loads(stamp_text)
        except ValueError:
            stamp = None
        if isinstance(stamp, dict) and isinstance(stamp.get("version"), str) and stamp["version"]:
            return stamp["version"]
    return posixpath.basename(release_dir.rstrip("/"))


def _port(block, default):
    try:
        return int((block or {}).get("port", default))
    except (TypeError, ValueError):
        return default


def describe(config, secrets=False):
    """What the roles derive from a parsed harbor.yml (a dict)."""
    config = config if isinstance(config, dict) else {}
    data_volume = str(config.get("data_volume") or DEFAULT_DATA_VOLUME).rstrip("/") or "/"
    https = config.get("https")
    if isinstance(https, dict):
        base = "https://127.0.0.1:%d" % _port(https, 443)
    else:
        base = "http://127.0.0.1:%d" % _port(config.get("http"), 80)

    external = (config.get("external_database") or {}).get("harbor") if isinstance(
        config.get("external_database"), dict) else None
    if isinstance(external, dict):
        database = {
            "kind": "external",
            "name": str(external.get("db_name", "registry")),
            "host": str(external.get("host", "")),
            "port": _port(external, 5432),
            "username": str(external.get("username", "")),
            "sslmode": str(external.get("ssl_mode", "disable")),
            "container": "",
        }
        password = external.get("password", "")
    else:
        database = dict(INTERNAL_DB)
        password = (config.get("database") or {}).get("password", "") if isinstance(config.get("database"), dict) else ""

    storage_cfg = config.get("storage_service") if isinstance(config.get("storage_service"), dict) else {}
    backends = [k for k in ("azure", "gcs", "s3", "swift", "oss", "filesystem") if isinstance(storage_cfg.get(k), dict)]
    backend = backends[0] if backends else "filesystem"
    if backend == "filesystem":
        root = str((storage_cfg.get("filesystem") or {}).get("rootdirectory") or "/storage")
        storage = {"backend": "filesystem", "local": True,
                   # the registry container's /storage is data_volume/registry on the host
                   "path": posixpath.join(data_volume, "registry"), "rootdirectory": root}
    else:
        params = storage_cfg.get(backend) or {}
        where = params.get("bucket") or params.get("container") or params.get("region") or ""
        storage = {"backend": backend, "local": False, "path": "", "location": str(where)}

    out = {
        "data_volume": data_volume,
        "health_url": base + "/api/v2.0/health",
        "api_url": base + "/api/v2.0",
        "database": database,
        "storage": storage,
    }
    if secrets:
        out["database"] = dict(database, password=str(password or ""))
        out["admin_password"] = str(config.get("harbor_admin_password") or "")
    return out
