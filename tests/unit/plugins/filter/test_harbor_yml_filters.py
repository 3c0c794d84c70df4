"""The harbor.yml filters as the install role calls them (plugins/filter/harbor_yml.py)."""

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.harbor.deploy.plugins.filter.harbor_yml import FilterModule

FILTERS = FilterModule().filters()
TMPL = yaml.safe_load((Path(__file__).resolve().parents[3] / "negative" / "templates" / "v2.15.2" / "harbor.yml.tmpl")
                      .read_text())
SHORTCUTS = {"hostname": "harbor.example.com",
             "https": {"certificate": "/etc/harbor/tls/harbor.crt", "private_key": "/etc/harbor/tls/harbor.key"}}


def build(install_config, remove=None):
    merged = FILTERS["harbor_yml_merge"](FILTERS["harbor_yml_merge"](TMPL, SHORTCUTS), install_config)
    return FILTERS["harbor_yml_remove"](merged, remove)


def test_the_filters_are_there():
    assert set(FILTERS) == {"harbor_yml_merge", "harbor_yml_remove", "harbor_yml_errors", "harbor_yml_endpoint"}


def test_errors_positional_use_still_works():
    assert FILTERS["harbor_yml_errors"](build({})) == []
    assert FILTERS["harbor_yml_errors"](build({"hostname": "localhost"}))[0].startswith("hostname: localhost")


def test_errors_with_everything_the_role_passes():
    user = {"log": {"local": None}, "foo": 1}
    remove = ["storage_service.filesystem", "https"]
    errors = FILTERS["harbor_yml_errors"](build(user, remove), template=TMPL, user=user, version="v2.15.2",
                                          remove=remove)
    assert errors == [
        "install_config.log.local: null is not a value; to remove a key of the release's harbor.yml, list "
        "'log.local' in install_config_remove",
        "foo: not a key of harbor.yml v2.15.2 (its harbor.yml.tmpl) nor one this collection knows; known keys here: "
        "_version, cache, core, data_volume, database, external_database, external_redis, external_url, "
        "harbor_admin_password, hostname, http, https, internal_tls, ip_family, jobservice, log, metric, notification, "
        "proxy, redis, storage_service, trace, trivy, uaa, upload_purging",
    ]


def test_errors_refuses_a_version_that_is_no_release():
    with pytest.raises(AnsibleFilterError, match="harbor_yml_errors: version must be a release tag"):
        FILTERS["harbor_yml_errors"](build({}), version="latest")


def test_remove():
    config = {"https": {"port": 443}, "storage_service": {"filesystem": {}, "s3": {"bucket": "b"}}}
    assert FILTERS["harbor_yml_remove"](config, ["storage_service.filesystem", "https", "not.there"]) == \
        {"storage_service": {"s3": {"bucket": "b"}}}
    assert FILTERS["harbor_yml_remove"](config) == config


@pytest.mark.parametrize("config, paths, message", [
    ({}, ["ok", ""], r"harbor_yml_remove: install_config_remove\[1\]: must be a dotted harbor.yml key"),
    ({}, "https", "harbor_yml_remove: install_config_remove: must be a list"),
    ([], ["https"], "harbor_yml_remove: the input must be a dict"),
])
def test_remove_refuses(config, paths, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["harbor_yml_remove"](config, paths)


def test_merge_keeps_null_removes_for_the_roles_shortcuts():
    assert "https" not in FILTERS["harbor_yml_merge"](TMPL, {"https": None})
