"""Unit tests of plugins/module_utils/_harbor_yml.py: merge, template parsing, rules."""

from pathlib import Path

import pytest

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_yml import (
    STORAGE_BACKENDS,
    deep_merge,
    endpoint,
    remove_errors,
    remove_keys,
    template_defaults,
    validate,
)

TEMPLATES = Path(__file__).resolve().parents[3] / "negative" / "templates"
RELEASES = ("v2.12.4", "v2.13.2", "v2.14.4", "v2.15.2")

HTTPS = {"certificate": "/etc/harbor/tls/harbor.crt", "private_key": "/etc/harbor/tls/harbor.key"}
BASE = {"hostname": "harbor.example.com", "https": HTTPS}

# Every block the templates carry commented out, filled in with valid values.
EVERY_OPTIONAL_BLOCK = {
    "hostname": "harbor.example.com",
    "https": dict(HTTPS, port=8443, strong_ssl_ciphers=True),
    "http": {"port": 8080},
    "ip_family": {"ipv6": {"enabled": False}, "ipv4": {"enabled": True}},
    "internal_tls": {"enabled": True, "dir": "/etc/harbor/tls/internal"},
    "external_url": "https://harbor.example.com:8433",
    "storage_service": {
        "ca_bundle": "/etc/harbor/storage-ca.crt",
        "filesystem": {"maxthreads": 100},
        "redirect": {"disable": False},
    },
    "trivy": {"github_token": "xxx", "security_check": "vuln,secret"},
    "log": {"external_endpoint": {"protocol": "tcp", "host": "syslog.example.com", "port": 5140}},
    "external_database": {"harbor": {
        "host": "db.example.com", "port": 5432, "db_name": "registry", "username": "harbor",
        "password": "secret", "ssl_mode": "verify-full", "max_idle_conns": 2, "max_open_conns": 0,
    }},
    "external_redis": {
        "host": "redis.example.com:6379", "password": None, "username": "harbor",
        "tlsOptions": {"enable": True, "rootCA": "/etc/harbor/redis-ca.crt"},
        "registry_db_index": 1, "jobservice_db_index": 2, "trivy_db_index": 5, "idle_timeout_seconds": 30,
        "harbor_db_index": 6, "cache_layer_db_index": 7,
    },
    "uaa": {"ca_file": "/path/to/ca"},
    "proxy": {"http_proxy": "http://proxy.example.com:3128", "https_proxy": "http://proxy.example.com:3128",
              "no_proxy": "127.0.0.1,localhost", "components": ["core", "jobservice"]},
    "metric": {"enabled": True, "port": 9090, "path": "/metrics"},
    "trace": {"enabled": True, "sample_rate": 0.5, "namespace": "harbor", "attributes": {"application": "harbor"},
              "otel": {"endpoint": "otel.example.com:4318", "url_path": "/v1/traces", "compression": False,
                       "insecure": True, "timeout": 10}},
    "cache": {"enabled": True, "expire_hours": 24},
    "core": {"quota_update_provider": "redis"},
}


def tmpl(release="v2.15.2"):
    return template_defaults((TEMPLATES / release / "harbor.yml.tmpl").read_text())


def errors_for(override, release="v2.15.2", remove=None, **kwargs):
    """Errors of the template + BASE + override (+ remove), as validate sees it without the role's extras."""
    return validate(remove_keys(deep_merge(deep_merge(tmpl(release), BASE), override), remove or []), **kwargs)


def role_errors(override, release="v2.15.2", remove=None):
    """Errors as the install role asks for them: with the template, the user's dict, the release, the remove list."""
    template = tmpl(release)
    merged = remove_keys(deep_merge(deep_merge(template, BASE), override), remove or [])
    return validate(merged, template=template, user=override, version=release, remove=remove)


def names(error, key):
    """True when the error is about key or a key below it."""
    return error.startswith(key + ":") or error.startswith(key + ".")


# ---------------------------------------------------------------- deep_merge


@pytest.mark.parametrize("base, override, expected", [
    ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
    ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"a": {"x": 1, "y": 3}}),
    ({"a": {"x": 1}}, {"a": None}, {}),
    ({"a": {"x": 1, "y": 2}}, {"a": {"x": None}}, {"a": {"y": 2}}),
    ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
    ({"a": 1}, {"a": {"x": 1}}, {"a": {"x": 1}}),
    ({"a": {"x": 1}}, {"a": "flat"}, {"a": "flat"}),
    ({}, {"new": {"gone": None, "kept": 1}}, {"new": {"kept": 1}}),
    ({"a": 1}, {"missing": None}, {"a": 1}),
    ({"a": None}, {}, {"a": None}),
    ({"a": 1}, None, {"a": 1}),
    (None, {"a": 1}, {"a": 1}),
], ids=["add", "nested", "remove-block", "remove-nested", "list-replaces", "scalar-to-dict",
        "dict-to-scalar", "nulls-stripped-in-new-block", "remove-absent", "base-null-kept",
        "override-none", "base-none"])
def test_deep_merge(base, override, expected):
    assert deep_merge(base, override) == expected


def test_deep_merge_does_not_mutate_inputs():
    base = {"a": {"x": [1, 2]}, "b": {"y": 1}}
    override = {"a": {"x": [3]}, "b": None, "c": {"z": [4]}}
    merged = deep_merge(base, override)
    merged["a"]["x"].append(9)
    merged["c"]["z"].append(9)
    assert base == {"a": {"x": [1, 2]}, "b": {"y": 1}}
    assert override == {"a": {"x": [3]}, "b": None, "c": {"z": [4]}}


@pytest.mark.parametrize("base, override", [([], {}), ({}, "text"), ({}, [1])])
def test_deep_merge_rejects_non_dicts(base, override):
    with pytest.raises(TypeError, match="must be a dict"):
        deep_merge(base, override)


# ---------------------------------------------------------------- template_defaults


@pytest.mark.parametrize("release", RELEASES)
def test_template_defaults_reads_each_release(release):
    data = tmpl(release)
    assert data["_version"] == release[1:5] + ".0"
    assert data["https"]["certificate"] == "/your/certificate/path"
    assert "storage_service" not in data  # commented out in every release


@pytest.mark.parametrize("text, expected", [("", {}), ("# only a comment\n", {}), ("a: 1\n", {"a": 1})])
def test_template_defaults_small(text, expected):
    assert template_defaults(text) == expected


def test_template_defaults_rejects_a_list():
    with pytest.raises(ValueError, match="mapping"):
        template_defaults("- a\n- b\n")


def test_reference_templates_match_shared_copies():
    shared = Path(__file__).resolve().parents[5] / "shared" / "reference" / "harbor"
    if not shared.is_dir():
        pytest.skip("no shared/reference beside the repository")
    for release in RELEASES:
        assert (TEMPLATES / release / "harbor.yml.tmpl").read_text() == \
            (shared / release / "harbor.yml.tmpl").read_text(), release


# ---------------------------------------------------------------- validate: valid configs


@pytest.mark.parametrize("release", RELEASES)
def test_raw_template_names_its_placeholders(release):
    assert [e.split(":")[0] for e in validate(tmpl(release))] == \
        ["hostname", "https.certificate", "https.private_key"]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("override", [
    {},
    {"https": None},
    {"https": None, "http": {"port": 8080}},
    {"storage_service": {"s3": {"region": "eu-west-1", "bucket": "harbor"}}},
    {"storage_service": {"filesystem": None, "gcs": {"bucket": "harbor", "keyfile": "/etc/gcs.json"}}},
    {"database": None, "external_database": EVERY_OPTIONAL_BLOCK["external_database"]},
    {"trace": {"enabled": True, "jaeger": {"agent_host": "jaeger", "agent_port": 6831}}},
    {"upload_purging": {"age": "2h", "interval": "2h"}},
    {"log": {"local": {"rotate_size": "1G"}}},
    {"external_redis": {"host": "s1:26379,s2:26379", "sentinel_master_set": "mymaster"}},
    {"redis": {"registry_db_index": 1, "jobservice_db_index": 2, "trivy_db_index": 5,
               "harbor_db_index": 6, "cache_layer_db_index": 7}},
    {"http": {"port": "8080"}},
    {"storage_service": {"ca_bundle": "/etc/harbor/storage-ca.crt"}},
    {"proxy": {"http_proxy": "proxy.example.com:3128"}},
    {"database": {"max_idle_conns": "100"}},
    {"trivy": {"skip_update": "true"}},
    {"external_redis": {"host": "r:6379", "registry_db_index": "1"}},
    {"log": {"local": {"rotate_count": "50"}}},
], ids=["https", "http-only", "http-8080", "s3", "gcs-replaces-fs", "external-db", "jaeger-agent",
        "purge-2h", "rotate-1G", "sentinel", "bundled-redis", "quoted-port", "only-ca-bundle", "proxy-no-scheme",
        "quoted-pool", "quoted-go-bool", "quoted-index", "quoted-rotate-count"])
def test_valid_configs(release, override):
    assert errors_for(override, release) == []


def test_every_optional_block_of_the_templates_is_accepted():
    assert errors_for(EVERY_OPTIONAL_BLOCK) == []


@pytest.mark.parametrize("key", ["external_redis", "jobservice"])
def test_version_specific_keys_are_accepted_on_2_15(key):
    override = {"jobservice": {"max_job_duration_hours": 48}} if key == "jobservice" \
        else {"external_redis": {"host": "r:6379", "tlsOptions": {"enable": False}}}
    assert errors_for(override) == []


# ---------------------------------------------------------------- validate: rules one by one


@pytest.mark.parametrize("override, key, fragment", [
    ({"hostname": ""}, "hostname", "non-empty"),
    ({"hostname": None}, "hostname", "is required"),
    ({"hostname": "reg.mydomain.com"}, "hostname", "placeholder"),
    ({"hostname": "127.0.0.1"}, "hostname", "cannot be the hostname"),
    ({"hostname": "127.0.1.1"}, "hostname", "cannot be the hostname"),
    ({"hostname": "localhost"}, "hostname", "cannot be the hostname"),
    ({"hostname": "::1"}, "hostname", "cannot be the hostname"),
    ({"hostname": "0.0.0.0"}, "hostname", "cannot be the hostname"),
    ({"hostname": "https://harbor.example.com"}, "hostname", "bare host name"),
    ({"hostname": "harbor.example.com:8443"}, "hostname", "bare host name"),
    ({"external_url": "harbor.example.com"}, "external_url", "scheme http/https"),
    ({"external_url": "ftp://harbor.example.com"}, "external_url", "scheme http/https"),
    ({"external_url": "https://harbor.example.com:99999"}, "external_url", "a host"),
    ({"external_url": "https://harbor.example.com/sub"}, "external_url", "no path"),
    ({"http": {"port": 0}}, "http.port", "from 1 to 65535"),
    ({"http": {"port": "eighty"}}, "http.port", "from 1 to 65535"),
    ({"https": {"port": 70000}}, "https.port", "from 1 to 65535"),
    ({"https": {"port": True}}, "https.port", "from 1 to 65535"),
    ({"http": {"port": 443}}, "https.port", "must differ"),
    ({"https": {"certificate": "/your/certificate/path"}}, "https.certificate", "placeholder"),
    ({"https": {"private_key": "/your/private/key/path"}}, "https.private_key", "placeholder"),
    ({"https": {"certificate": ""}}, "https.certificate", "non-empty"),
    ({"https": {"private_key": None}}, "https.private_key", "is required"),
    ({"https": {"certificate": "certs/harbor.crt"}}, "https.certificate", "absolute"),
    ({"https": {"strong_ssl_ciphers": "yes"}}, "https.strong_ssl_ciphers", "true or false"),
    ({"harbor_admin_password": ""}, "harbor_admin_password", "non-empty"),
    ({"harbor_admin_password": None}, "harbor_admin_password", "is required"),
    ({"database": {"password": ""}}, "database.password", "non-empty"),
    ({"database": {"max_idle_conns": "many"}}, "database.max_idle_conns", "integer"),
    ({"database": {"max_open_conns": 1.5}}, "database.max_open_conns", "integer"),
    ({"database": {"conn_max_lifetime": "5 minutes"}}, "database.conn_max_lifetime", "Go duration"),
    ({"database": None}, "database", "unless external_database"),
    ({"data_volume": "data"}, "data_volume", "absolute"),
    ({"data_volume": None}, "data_volume", "is required"),
    ({"trivy": {"skip_update": "yes"}}, "trivy.skip_update", "true or false"),
    ({"trivy": {"offline_scan": 1}}, "trivy.offline_scan", "true or false"),
    ({"trivy": {"timeout": "5 minutes"}}, "trivy.timeout", "Go duration"),
    ({"trivy": {"security_check": "vuln,viruses"}}, "trivy.security_check", "comma-separated"),
    ({"trivy": {"skip_updte": True}}, "trivy.skip_updte", "unknown key"),
    ({"jobservice": {"max_job_workers": 0}}, "jobservice.max_job_workers", "positive"),
    ({"jobservice": {"job_loggers": ["STD_OUTPUT", "SYSLOG"]}}, "jobservice.job_loggers", "'SYSLOG'"),
    ({"jobservice": {"job_loggers": []}}, "jobservice.job_loggers", "at least one"),
    ({"jobservice": None}, "jobservice", "is required"),
    ({"notification": {"webhook_job_max_retry": -1}}, "notification.webhook_job_max_retry", ">= 0"),
    ({"log": {"level": "verbose"}}, "log.level", "one of debug"),
    ({"log": {"local": {"rotate_count": "fifty"}}}, "log.local.rotate_count", "integer"),
    ({"log": {"local": {"rotate_count": 0}}}, "log.local.rotate_count", "keeps 50"),
    ({"log": {"local": None}}, "log.local", "crashes without it"),
    ({"log": {"local": {"rotate_size": "200MB"}}}, "log.local.rotate_size", "200M"),
    ({"log": {"local": {"location": "var/log"}}}, "log.local.location", "absolute"),
    ({"log": {"external_endpoint": {"protocol": "http", "host": "h", "port": 514}}},
     "log.external_endpoint.protocol", "tcp, udp"),
    ({"log": {"external_endpoint": {"protocol": "tcp", "host": "", "port": 514}}},
     "log.external_endpoint.host", "non-empty"),
    ({"log": {"external_endpoint": {"protocol": "udp", "host": "h"}}}, "log.external_endpoint.port", "required"),
    ({"metric": {"enabled": "yes", "port": 9090, "path": "/metrics"}}, "metric.enabled", "true or false"),
    ({"metric": {"enabled": True, "port": 90900, "path": "/metrics"}}, "metric.port", "65535"),
    ({"metric": {"enabled": True, "port": 9090, "path": "metrics"}}, "metric.path", "starting with '/'"),
    ({"trace": {"enabled": True, "jaeger": {"endpoint": "http://j:14268/api/traces"},
                "otel": {"endpoint": "o:4318", "url_path": "/v1/traces"}}}, "trace", "not both"),
    ({"trace": {"enabled": False, "otel": "o:4318"}}, "trace.otel", "mapping"),
    ({"trace": {"enabled": "false", "otel": {"endpoint": "o:4318", "url_path": "/v1/traces"}}}, "trace.enabled",
     "reads any non-empty text as true"),
    ({"trace": {"enabled": True, "sample_rate": 2, "otel": {"endpoint": "o:4318", "url_path": "/v1/traces"}}},
     "trace.sample_rate", "from 0 to 1"),
    ({"trace": {"enabled": True, "jaeger": {"username": "u"}}}, "trace.jaeger", "exactly one"),
    ({"trace": {"enabled": True, "otel": {"url_path": "/v1/traces"}}}, "trace.otel.endpoint", "required"),
    ({"trace": {"enabled": True}}, "trace", "no exporter"),
    ({"upload_purging": {"age": "1h"}}, "upload_purging.age", "at least 2h"),
    ({"upload_purging": {"age": "7d"}}, "upload_purging.age", "'24h'"),
    ({"upload_purging": {"interval": 24}}, "upload_purging.interval", "'24h'"),
    ({"upload_purging": {"enabled": "true"}}, "upload_purging.enabled", "true or false"),
    ({"cache": {"enabled": "false"}}, "cache.enabled", "true or false"),
    ({"cache": {"enabled": True, "expire_hours": 0}}, "cache.expire_hours", "positive"),
    ({"cache": {"enabled": True, "expire_hours": "24"}}, "cache.expire_hours", "positive"),
    ({"cache": {"enabled": True, "expire_hours": None}}, "cache.expire_hours", "required"),
    ({"external_database": {"harbor": {"host": "db", "port": 5432}}}, "external_database.harbor",
     "db_name: is required"),
    ({"external_database": {"notary_signer": {}}}, "external_database", "unknown key"),
    ({"external_redis": {"password": "x"}}, "external_redis.host", "is required"),
    ({"external_redis": {"host": "redis"}}, "external_redis.host", "host:port"),
    ({"external_redis": {"host": "r:6379", "registry_db_index": "one"}}, "external_redis.registry_db_index",
     "integer"),
    ({"external_redis": {"host": "r:6379", "trivy_db_index": 0}}, "external_redis.trivy_db_index", "core's"),
    ({"redis": {"harbor_db_index": 6}, "external_redis": {"host": "r:6379"}}, "redis", "not both"),
    ({"external_redis": {"host": "r:6379", "tlsOptions": {"enable": True}}}, "external_redis.tlsOptions.rootCA",
     "crashes"),
    ({"external_redis": {"host": "s1:26379,s2:26379"}}, "external_redis.sentinel_master_set", "required"),
    ({"proxy": {"components": ["core", "registry"]}}, "proxy.components", "'registry'"),
    ({"proxy": {"http_proxy": "ftp://proxy:3128"}}, "proxy.http_proxy", "proxy URL"),
    ({"proxy": {"https_proxy": "http://proxy:99999"}}, "proxy.https_proxy", "proxy URL"),
    ({"proxy": {"components": "core"}}, "proxy.components", "a list"),
    ({"proxy": {"no_proxy": ["a", "b"]}}, "proxy.no_proxy", "a string"),
    ({"_version": None}, "_version", "is required"),
    ({"_version": "2.15"}, "_version", "release number"),
    ({"internal_tls": {"enabled": True}}, "internal_tls.dir", "required"),
    ({"internal_tls": {"enabled": False, "strong_ssl_ciphers": "yes"}}, "internal_tls.strong_ssl_ciphers",
     "true or false"),
    ({"internal_tls": {"enabled": False, "verify_client_cert": True}}, "internal_tls.verify_client_cert",
     "unknown key"),
    ({"ip_family": {"ipv6": {"enabled": True}}}, "ip_family.ipv4", "crashes without it"),
    ({"ip_family": {"ipv4": "yes", "ipv6": {"enabled": True}}}, "ip_family.ipv4", "read it as disabled"),
    ({"ip_family": {"ipv4": {"enabled": False}, "ipv6": {}}}, "ip_family", "no address"),
    ({"metric": {"enabled": False}}, "metric", "metric.port: is required"),
    ({"metric": {"enabled": True, "port": 443, "path": "/metrics"}}, "metric.port", "443 is taken"),
    ({"jobservice": {"max_job_duration_hours": 12}}, "jobservice.max_job_duration_hours", "with 24"),
    ({"jobservice": {"job_loggers": None}}, "jobservice.job_loggers", "crashes"),
    ({"notification": {"webhook_job_http_client_timeout": None}}, "notification.webhook_job_http_client_timeout",
     "required"),
    ({"core": {"quota_update_provider": "memcached"}}, "core.quota_update_provider", "redis, db"),
    ({"storage_service": {"s3": {"region": "r", "bucket": "b"}, "filesystem": {}}}, "storage_service",
     "found filesystem, s3"),
    ({"storage_service": {"ceph": {"pool": "p"}}}, "storage_service.ceph", "unknown key"),
    ({"storage_service": {"ca_bundle": 5}}, "storage_service.ca_bundle", "absolute path"),
    ({"storage_service": {"redirect": {"disabled": True}}}, "storage_service.redirect", "disable: is required"),
    ({"storage_service": {"redirect": {"disable": "true"}}}, "storage_service.redirect.disable", "true or false"),
    ({"storage_service": {"filesystem": {"maxthreads": "5"}}}, "storage_service.filesystem.maxthreads", ">= 25"),
    ({"storage_service": {"s3": {"bucket": "b"}}}, "storage_service.s3.region", "required"),
    ({"storage_service": {"s3": {"region": "r", "bucket": "b", "accesskey": "AK"}}},
     "storage_service.s3.secretkey", "go together"),
    ({"storage_service": {"s3": "bucket=b"}}, "storage_service.s3", "mapping"),
    ({"storage_service": {"filesystem": {"maxthreads": 5}}}, "storage_service.filesystem.maxthreads", ">= 25"),
    ({"storage_service": {"azure": {"accountname": "a"}}}, "storage_service.azure.container", "required"),
    ({"http": 80}, "http", "mapping"),
    ({"hostnmae": "typo.example.com"}, "hostnmae", "unknown key"),
])
def test_rule(override, key, fragment):
    errors = errors_for(override)
    assert errors, "expected an error for %s" % key
    assert all(names(e, key) for e in errors), errors
    assert any(fragment in e for e in errors), errors


@pytest.mark.parametrize("release, key, override", [
    ("v2.12.4", "jobservice.max_job_duration_hours", {"jobservice": {"max_job_duration_hours": 24}}),
    ("v2.12.4", "external_redis.tlsOptions", {"external_redis": {"host": "r:6379", "tlsOptions": {"enable": True}}}),
    ("v2.14.4", "trivy.db_repository", {"trivy": {"db_repository": "mirror.example.com/trivy-db"}}),
    ("v2.13.2", "trivy.java_db_repository", {"trivy": {"java_db_repository": "mirror.example.com/trivy-java-db"}}),
])
def test_keys_newer_than_the_release(release, key, override):
    errors = errors_for(override, release)
    assert errors and all(e.startswith(key + ": not a key of harbor.yml 2.1") for e in errors), errors


def test_several_storage_backends_are_named():
    errors = errors_for({"storage_service": {"filesystem": {}, "s3": {"region": "r", "bucket": "b"},
                                             "oss": {"accesskeyid": "a", "accesskeysecret": "s",
                                                     "region": "r", "bucket": "b"}}})
    assert errors == [
        "storage_service: one storage backend at most (one of filesystem, azure, gcs, s3, swift, oss), "
        "found filesystem, s3, oss; prepare would silently use s3 (the first one set that is not empty). "
        "List the others in install_config_remove (e.g. 'storage_service.filesystem')"
    ]


@pytest.mark.parametrize("backend", STORAGE_BACKENDS)
def test_each_backend_alone_with_its_required_keys(backend):
    params = {"filesystem": {}, "s3": {"region": "r", "bucket": "b"}, "gcs": {"bucket": "b"},
              "azure": {"accountname": "a", "accountkey": "k", "container": "c"},
              "swift": {"authurl": "https://k/v3", "username": "u", "password": "p", "container": "c"},
              "oss": {"accesskeyid": "a", "accesskeysecret": "s", "region": "r", "bucket": "b"}}[backend]
    assert errors_for({"storage_service": {backend: params}}) == []


@pytest.mark.parametrize("override", [
    {"harbor_admin_password": 12345},
    {"database": {"password": ["hunter2"]}},
    {"external_redis": {"host": "r:6379", "password": 4711}},
    {"database": "hunter2"},
    {"storage_service": {"swift": {"authurl": "https://k/v3", "username": "u", "password": 4711, "container": "c"}}},
    {"storage_service": {"s3": "hunter2"}},
    {"database": None, "external_database": {"harbor": {"host": "db", "port": 5432, "db_name": "r", "username": "u",
                                                        "password": 4711, "ssl_mode": "disable"}}},
    {"trace": {"enabled": True, "jaeger": {"endpoint": "http://j:14268/api/traces", "password": ["hunter2"]}}},
    {"trivy": {"github_token": 4711}},
    {"storage_service": {"oss": {"accesskeyid": "a", "accesskeysecret": ["hunter2"], "region": "r", "bucket": "b"}}},
])
def test_secrets_never_appear_in_messages(override):
    errors = errors_for(override)
    assert errors and not any(s in " ".join(errors) for s in ("12345", "hunter2", "4711")), errors


@pytest.mark.parametrize("config", [None, [], "hostname: x"])
def test_validate_non_mapping(config):
    assert validate(config) == ["harbor.yml: must be a mapping, got %r (%s)" % (config, type(config).__name__)]


def test_every_error_names_a_dotted_key():
    broken = deep_merge(tmpl(), {"hostname": "localhost", "https": {"certificate": "x"}, "log": {"level": "loud"},
                                 "cache": {"enabled": True, "expire_hours": -1},
                                 "trace": {"enabled": True, "jaeger": {"username": "u"}}})
    errors = validate(broken)
    assert len(errors) >= 6
    for error in errors:
        key, _, message = error.partition(": ")
        assert key and " " not in key and message, error


def test_messages_name_yaml_types_for_ansible_tagged_values():
    """Ansible 2.19 passes str/int subclasses (_AnsibleTaggedStr ...): messages say str/int."""
    from ansible._internal._datatag._tags import Origin  # pylint: disable=import-outside-toplevel

    origin = Origin(path="/inventory/group_vars/all.yml")
    errors = errors_for({"trivy": {"skip_update": origin.tag("yes")}, "http": {"port": origin.tag("eighty")},
                         "cache": {"enabled": origin.tag("no")}})
    assert errors == ["http.port: must be an integer from 1 to 65535, got 'eighty' (str)",
                      "trivy.skip_update: must be true or false, got 'yes' (str)",
                      "cache.enabled: must be true or false, got 'no' (str); prepare reads any non-empty text as true"]
    assert errors_for({"http": {"port": origin.tag("8080")}}) == []


# ---------------------------------------------------------------- the verdicts the issue names


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("override", [
    {"http": {"port": "8080"}},
    {"trace": {"enabled": False, "jaeger": {"endpoint": "http://j:14268/api/traces"},
               "otel": {"endpoint": "o:4318", "url_path": "/v1/traces"}}},
    {"upload_purging": {"enabled": False, "age": "1h"}},
    {"storage_service": {"ca_bundle": "/etc/harbor/storage-ca.crt"}},
    {"proxy": {"http_proxy": "proxy.example:3128"}},
], ids=["quoted-http-port", "trace-off-two-exporters", "purging-off-1h", "only-ca-bundle", "proxy-without-scheme"])
def test_issue_configs_prepare_accepts_are_accepted(release, override):
    assert role_errors(override, release) == []


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("override, key", [
    ({"storage_service": {"redirect": {"disabled": True}}}, "storage_service.redirect"),
    ({"log": {"local": None}}, "install_config.log.local"),
    ({"external_redis": {"host": "r:6379", "tlsOptions": {"enable": True}}}, "external_redis.tlsOptions"),
], ids=["redirect-typo", "log-local-null", "redis-tls-without-ca"])
def test_issue_configs_prepare_rejects_are_refused(release, override, key):
    errors = role_errors(override, release)
    assert errors and all(names(e, key) for e in errors), errors


def test_log_local_null_is_refused_even_without_the_users_dict():
    errors = errors_for({"log": {"local": None}})
    assert errors == ["log.local: is required: prepare takes the log location from it and crashes without it"]


def test_empty_local_log_block():
    config = deep_merge(deep_merge(tmpl(), BASE), {})
    config["log"]["local"] = {}
    assert validate(config) == ["log.local: must not be empty: prepare takes the log location from it and "
                                "crashes without it"]


def test_redis_tls_without_ca_on_2_12_is_only_a_key_2_12_lacks():
    errors = role_errors({"external_redis": {"host": "r:6379", "tlsOptions": {"enable": True}}}, "v2.12.4")
    assert errors == ["external_redis.tlsOptions: not a key of harbor.yml v2.12.4 (first in 2.13): prepare of this "
                      "release ignores it; remove it or use a newer release"]


# ---------------------------------------------------------------- remove_keys and install_config_remove


def test_remove_keys():
    config = {"a": {"b": 1, "c": 2}, "d": 3, "e": [1]}
    assert remove_keys(config, ["a.b", "d", "x.y", "a.b.c", "e.f"]) == {"a": {"c": 2}, "e": [1]}
    assert config == {"a": {"b": 1, "c": 2}, "d": 3, "e": [1]}
    assert remove_keys(config, None) == config and remove_keys(config, None) is not config
    assert remove_keys(config, ["a"]) == {"d": 3, "e": [1]}


@pytest.mark.parametrize("paths, expected", [
    ("https", ["install_config_remove: must be a list of dotted harbor.yml keys such as 'storage_service.filesystem', "
               "got a value of type str"]),
    (["https", "", "a..b", 5, ".a", "a b"], [
        "install_config_remove[1]: must be a dotted harbor.yml key such as 'storage_service.filesystem' or 'https', "
        "got '' (str)",
        "install_config_remove[2]: must be a dotted harbor.yml key such as 'storage_service.filesystem' or 'https', "
        "got 'a..b' (str)",
        "install_config_remove[3]: must be a dotted harbor.yml key such as 'storage_service.filesystem' or 'https', "
        "got 5 (int)",
        "install_config_remove[4]: must be a dotted harbor.yml key such as 'storage_service.filesystem' or 'https', "
        "got '.a' (str)",
        "install_config_remove[5]: must be a dotted harbor.yml key such as 'storage_service.filesystem' or 'https', "
        "got 'a b' (str)",
    ]),
    ([], []),
    (None, []),
])
def test_remove_errors(paths, expected):
    assert remove_errors(paths) == expected
    if expected:
        with pytest.raises(ValueError, match=r"^install_config_remove"):
            remove_keys({}, paths)
        assert validate(deep_merge(tmpl(), BASE), remove=paths) == expected


def test_remove_keys_needs_a_dict():
    with pytest.raises(TypeError, match="must be a dict"):
        remove_keys(["a"], ["a"])


def test_remove_a_key_install_config_sets():
    assert role_errors({"https": {"port": 8443}}, remove=["https"]) == [
        "install_config_remove[0]: 'https' is also set in install_config: the key would be removed after the merge; "
        "drop one of the two"]


@pytest.mark.parametrize("release", RELEASES)
def test_remove_a_key_nobody_knows(release):
    assert role_errors({}, release, remove=["storage_service.filesytem"]) == [
        "install_config_remove[0]: 'storage_service.filesytem' is not a key of harbor.yml %s (its harbor.yml.tmpl) "
        "nor one this collection knows" % release]


@pytest.mark.parametrize("remove", [["https"], ["storage_service.filesystem"], ["trivy.github_token", "proxy"],
                                    ["storage_service.s3.regionendpoint"], ["trace.attributes.application"]])
def test_remove_keys_this_collection_knows(remove):
    assert role_errors({}, remove=remove) == []


def test_removing_a_required_key_is_caught_by_the_required_rules():
    assert role_errors({}, remove=["jobservice.job_loggers"]) == [
        "jobservice.job_loggers: is required (prepare crashes without it)"]


# ---------------------------------------------------------------- install_config: no null


def test_null_in_install_config_names_the_key_and_the_way_out():
    assert role_errors({"log": {"local": None}}) == [
        "install_config.log.local: null is not a value; to remove a key of the release's harbor.yml, list "
        "'log.local' in install_config_remove"]


def test_every_null_is_reported_once():
    errors = role_errors({"https": None, "storage_service": {"filesystem": None, "s3": {"region": "r", "bucket": "b"}},
                          "hostname": None})
    assert [e.split(":")[0] for e in errors] == ["install_config.https", "install_config.storage_service.filesystem",
                                                 "install_config.hostname"]


@pytest.mark.parametrize("user", [["hostname"], "hostname: x"])
def test_install_config_must_be_a_mapping(user):
    errors = validate(deep_merge(tmpl(), BASE), user=user)
    assert errors == ["install_config: must be a mapping of harbor.yml keys, got a value of type %s"
                      % type(user).__name__]


def test_no_null_check_without_the_users_dict():
    assert validate(deep_merge(deep_merge(tmpl(), BASE), {"https": None})) == []


# ---------------------------------------------------------------- keys of the release's own template


def future_template(release="v2.15.2"):
    """The release's template plus keys a later Harbor might add."""
    return deep_merge(tmpl(release), {"gc": {"workers": 2}, "trivy": {"skip_scan_on_push": False},
                                      "jobservice": {"max_job_duration_hours": 24}})


def test_keys_of_the_template_are_accepted_even_when_unknown_here():
    template = future_template()
    merged = deep_merge(deep_merge(template, BASE), {"trivy": {"skip_scan_on_push": True}, "gc": {"workers": 4}})
    assert validate(merged, template=template, version="v2.15.2") == []
    assert sorted(e.split(":")[0] for e in validate(merged)) == ["gc", "trivy.skip_scan_on_push"]


def test_a_key_of_neither_the_template_nor_this_collection_names_the_release():
    template = future_template("v2.14.4")
    merged = deep_merge(deep_merge(template, BASE), {"foo": {"bar": 1}, "trivy": {"offline_scna": True}})
    errors = sorted(validate(merged, template=template, user={"foo": {"bar": 1}}, version="v2.14.4"))
    assert errors[0].startswith("foo: not a key of harbor.yml v2.14.4 (its harbor.yml.tmpl) nor one this collection "
                                "knows; known keys here: _version, cache, core")
    assert errors[1].startswith("trivy.offline_scna: not a key of harbor.yml v2.14.4 (its harbor.yml.tmpl) nor one "
                                "this collection knows; known keys here: db_repository")
    assert len(errors) == 2


def test_a_key_newer_than_the_release_is_accepted_when_its_template_has_it():
    template = future_template("v2.12.4")  # has jobservice.max_job_duration_hours
    merged = deep_merge(deep_merge(template, BASE), {"jobservice": {"max_job_duration_hours": 48}})
    assert validate(merged, template=template, version="v2.12.4") == []
    assert any(e.startswith("jobservice.max_job_duration_hours: not a key of harbor.yml v2.12.4 (first in 2.13)")
               for e in validate(merged, template=tmpl("v2.12.4"), version="v2.12.4"))


@pytest.mark.parametrize("release", RELEASES)
def test_the_release_template_itself_only_lacks_its_placeholders(release):
    template = tmpl(release)
    assert [e.split(":")[0] for e in validate(template, template=template, user={}, version=release, remove=[])] == \
        ["hostname", "https.certificate", "https.private_key"]


# ---------------------------------------------------------------- the release decides


def test_version_wins_over_version_key():
    merged = deep_merge(deep_merge(tmpl("v2.15.2"), BASE), {"trivy": {"db_repository": "mirror/trivy-db"}})
    assert validate(merged) == []
    assert validate(merged, version="v2.14.4") == [
        "%s: not a key of harbor.yml v2.14.4 (first in 2.15): prepare of this release ignores it; "
        "remove it or use a newer release" % key for key in ("trivy.db_repository", "trivy.java_db_repository")]


@pytest.mark.parametrize("version", ["v2.15.2", "2.15.2", "v2.15.2-rc1"])
def test_version_forms(version):
    assert validate(deep_merge(tmpl(), BASE), version=version) == []


@pytest.mark.parametrize("version", ["2.15", "latest", "vX.Y.Z"])
def test_version_must_be_a_release(version):
    with pytest.raises(ValueError, match="version must be a release tag"):
        validate(deep_merge(tmpl(), BASE), version=version)


def test_version_key_must_stay_the_templates():
    assert role_errors({"_version": "2.14.0"}) == [
        "_version: must stay 2.15.0, the value of the release's harbor.yml.tmpl (prepare's migrate reads it to "
        "upgrade harbor.yml), got '2.14.0' (str)"]


# ---------------------------------------------------------------- switched-off features are not looked into


@pytest.mark.parametrize("override", [
    {"metric": {"enabled": False, "port": "none", "path": "metrics"}},
    {"trace": {"enabled": False, "sample_rate": 7, "jaeger": {"username": "u"}, "otel": {"url_path": "x"}}},
    {"upload_purging": {"enabled": False, "age": "7d", "interval": 24, "dryrun": "yes"}},
    {"cache": {"enabled": False, "expire_hours": "never"}},
    {"internal_tls": {"enabled": False, "dir": "relative"}},
    {"external_redis": {"host": "r:6379", "tlsOptions": {"enable": False, "rootCA": 5}}},
    {"https": None, "ip_family": {"ipv6": {"enabled": "maybe"}}},
])
def test_sub_settings_of_a_feature_that_is_off_are_not_checked(override):
    assert errors_for(override) == []


# ---------------------------------------------------------------- endpoint

@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (BASE, ("harbor.example.com", "https://harbor.example.com", True)),
        ({"hostname": "harbor.example.com", "https": dict(HTTPS, port=8443)},
         ("harbor.example.com:8443", "https://harbor.example.com:8443", True)),
        ({"hostname": "harbor.example.com", "http": {"port": 80}},
         ("harbor.example.com", "http://harbor.example.com", False)),
        ({"hostname": "harbor.example.com", "http": {"port": 8080}, "https": None},
         ("harbor.example.com:8080", "http://harbor.example.com:8080", False)),
        # docker reads a dotless first part as a Docker Hub namespace: the port stays
        ({"hostname": "harbor", "https": HTTPS}, ("harbor:443", "https://harbor", True)),
        ({"hostname": "10.0.0.5", "http": {}}, ("10.0.0.5", "http://10.0.0.5", False)),
        ({"hostname": "fd00::5", "https": HTTPS}, ("[fd00::5]", "https://[fd00::5]", True)),
        ({"hostname": "harbor.internal", "https": HTTPS, "external_url": "https://registry.example.com:4443"},
         ("registry.example.com:4443", "https://registry.example.com:4443", True)),
        ({"hostname": "harbor.internal", "https": HTTPS, "external_url": "http://registry.example.com"},
         ("registry.example.com", "http://registry.example.com", False)),
    ],
)
def test_endpoint(config, expected):
    assert tuple(endpoint(config).values()) == expected
