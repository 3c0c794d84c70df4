"""Unit tests of plugins/module_utils/_layout.py, and that the roles use its contract."""

from pathlib import Path

import pytest
import yaml

from ansible_collections.harbor.deploy.plugins.module_utils import _layout
from ansible_collections.harbor.deploy.plugins.module_utils._layout import (
    describe,
    paths,
    release_paths,
    stamp_version,
)

TOP = Path(__file__).resolve().parents[4]


def test_paths_under_a_root():
    assert paths("/srv/harbor/") == {
        "root": "/srv/harbor",
        "current_link": "/srv/harbor/current",
        "unit_path": "/etc/systemd/system/harbor.service",
        "stamp_name": ".deploy-stamp",
    }
    assert paths(None)["current_link"] == "/opt/harbor/current"
    assert release_paths("/opt/harbor/v2.15.2") == {
        "release_dir": "/opt/harbor/v2.15.2",
        "project_dir": "/opt/harbor/v2.15.2/harbor",
        "harbor_yml": "/opt/harbor/v2.15.2/harbor/harbor.yml",
        "stamp_path": "/opt/harbor/v2.15.2/harbor/.deploy-stamp",
    }


@pytest.mark.parametrize("text, want", [
    ('{"version": "v2.15.2", "files_sha256": {}}', "v2.15.2"),
    ('{"version": ""}', "v2.14.4"),
    ("not json", "v2.14.4"),
    (None, "v2.14.4"),
    ('["v2.15.2"]', "v2.14.4"),
])
def test_stamp_version_falls_back_to_the_directory(text, want):
    assert stamp_version(text, "/opt/harbor/v2.14.4/") == want


def test_https_internal_database_local_storage():
    got = describe({"https": {"port": 8443}, "http": {"port": 80}, "data_volume": "/srv/data/",
                    "database": {"password": "x"}, "harbor_admin_password": "y"})
    assert got["health_url"] == "https://127.0.0.1:8443/api/v2.0/health"
    assert got["api_url"] == "https://127.0.0.1:8443/api/v2.0"
    assert got["data_volume"] == "/srv/data"
    assert got["database"]["kind"] == "internal" and got["database"]["container"] == "harbor-db"
    assert "password" not in got["database"] and "admin_password" not in got
    assert got["storage"] == {"backend": "filesystem", "local": True, "path": "/srv/data/registry",
                              "rootdirectory": "/storage"}


def test_http_defaults():
    got = describe({"hostname": "h", "https": None})
    assert got["health_url"] == "http://127.0.0.1:80/api/v2.0/health"
    assert got["data_volume"] == "/data"
    assert describe(None)["data_volume"] == "/data"


def test_external_database_and_s3_with_secrets():
    got = describe({
        "http": {"port": "8080"},
        "database": {"password": "unused"},
        "external_database": {"harbor": {"host": "db.example.com", "port": "5433", "db_name": "harbor",
                                         "username": "h", "password": "p:w", "ssl_mode": "require"}},
        "storage_service": {"s3": {"bucket": "images", "region": "eu-west-1"}},
        "harbor_admin_password": "Admin12345",
    }, secrets=True)
    assert got["health_url"] == "http://127.0.0.1:8080/api/v2.0/health"
    assert got["database"] == {"kind": "external", "name": "harbor", "host": "db.example.com", "port": 5433,
                               "username": "h", "sslmode": "require", "container": "", "password": "p:w"}
    assert got["storage"] == {"backend": "s3", "local": False, "path": "", "location": "images"}
    assert got["admin_password"] == "Admin12345"


def _role_vars(role, kind):
    return yaml.safe_load((TOP / "roles" / role / kind / "main.yml").read_text())


def test_the_install_role_writes_what_the_contract_reads():
    install = _role_vars("install", "vars")
    assert install["__install_stamp_name"] == _layout.STAMP_NAME
    assert install["__install_unit_path"] == _layout.UNIT_PATH
    defaults = _role_vars("install", "defaults")
    assert defaults["install_current_link"].startswith("{{ (install_release_dir | dirname | dirname) ~ '/"
                                                       + _layout.CURRENT_LINK_NAME + "'")
    assert _role_vars("bundle", "defaults")["bundle_root"] == _layout.DEFAULT_ROOT


def test_backup_and_upgrade_derive_nothing_of_their_own():
    """They read the installed Harbor through harbor_installed, never a hard-coded path."""
    files = [f for role in ("backup", "upgrade") for part in ("tasks", "vars")
             for f in (TOP / "roles" / role / part).glob("*.yml")]
    assert len(files) > 10
    for f in files:
        text = f.read_text()
        assert "/opt/harbor" not in text, f
        assert ".deploy-stamp" not in text, f
        assert "harbor.service" not in text, f
