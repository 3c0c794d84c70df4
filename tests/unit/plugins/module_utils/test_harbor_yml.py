"""Unit tests of plugins/module_utils/_harbor_yml.py: merge, template parsing, rules."""

from pathlib import Path

import pytest

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_yml import (
    STORAGE_BACKENDS,
    deep_merge,
    endpoint,
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
    "redis": {"registry_db_index": 1, "jobservice_db_index": 2, "trivy_db_index": 5,
              "harbor_db_index": 6, "cache_layer_db_index": 7},
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


def errors_for(override, release="v2.15.2"):
    return validate(deep_merge(deep_merge(tmpl(release), BASE), override))


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
], ids=["https", "http-only", "http-8080", "s3", "gcs-replaces-fs", "external-db", "jaeger-agent",
        "purge-2h", "rotate-1G", "sentinel"])
def test_valid_configs(release, override):
    assert errors_for(override, release) == []


def test_every_optional_block_of_the_templates_is_accepted():
    assert errors_for(EVERY_OPTIONAL_BLOCK) == []


@pytest.mark.parametrize("key", ["external_redis", "jobservice"])
def test_version_specific_keys_are_accepted_on_2_15(key):
    override = {"jobservice": {"max_job_duration_hours": 12}} if key == "jobservice" \
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
    ({"http": {"port": "80"}}, "http.port", "from 1 to 65535"),
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
    ({"database": {"max_idle_conns": "100"}}, "database.max_idle_conns", "integer"),
    ({"database": {"max_open_conns": 1.5}}, "database.max_open_conns", "integer"),
    ({"database": {"conn_max_lifetime": "5 minutes"}}, "database.conn_max_lifetime", "Go duration"),
    ({"database": None}, "database", "unless external_database"),
    ({"data_volume": "data"}, "data_volume", "absolute"),
    ({"data_volume": None}, "data_volume", "is required"),
    ({"trivy": {"skip_update": "true"}}, "trivy.skip_update", "true or false"),
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
    ({"log": {"local": {"rotate_count": "50"}}}, "log.local.rotate_count", "integer"),
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
    ({"trace": {"jaeger": {"endpoint": "http://j:14268/api/traces"},
                "otel": {"endpoint": "o:4318", "url_path": "/v1/traces"}}}, "trace", "not both"),
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
    ({"cache": {"expire_hours": 0}}, "cache.expire_hours", "positive"),
    ({"cache": {"enabled": True, "expire_hours": None}}, "cache.expire_hours", "required"),
    ({"external_database": {"harbor": {"host": "db", "port": 5432}}}, "external_database.harbor",
     "db_name: is required"),
    ({"external_database": {"notary_signer": {}}}, "external_database", "unknown key"),
    ({"external_redis": {"password": "x"}}, "external_redis.host", "is required"),
    ({"external_redis": {"host": "redis"}}, "external_redis.host", "host:port"),
    ({"external_redis": {"host": "r:6379", "registry_db_index": "1"}}, "external_redis.registry_db_index",
     "integer"),
    ({"external_redis": {"host": "s1:26379,s2:26379"}}, "external_redis.sentinel_master_set", "required"),
    ({"proxy": {"components": ["core", "registry"]}}, "proxy.components", "'registry'"),
    ({"proxy": {"http_proxy": "proxy:3128"}}, "proxy.http_proxy", "URL"),
    ({"proxy": {"no_proxy": ["a", "b"]}}, "proxy.no_proxy", "a string"),
    ({"_version": None}, "_version", "is required"),
    ({"_version": "2.15"}, "_version", "release number"),
    ({"internal_tls": {"enabled": True}}, "internal_tls.dir", "required"),
    ({"core": {"quota_update_provider": "memcached"}}, "core.quota_update_provider", "redis, db"),
    ({"storage_service": {"s3": {"region": "r", "bucket": "b"}, "filesystem": {}}}, "storage_service",
     "found filesystem, s3"),
    ({"storage_service": {"ceph": {"pool": "p"}}}, "storage_service.ceph", "unknown key"),
    ({"storage_service": {"ca_bundle": "/x"}}, "storage_service", "found none"),
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
        "storage_service: exactly one storage backend must be set (one of filesystem, azure, gcs, s3, swift, oss), "
        "found filesystem, s3, oss; prepare would silently use filesystem. Remove the others with '<backend>: null'"
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
])
def test_secrets_never_appear_in_messages(override):
    errors = errors_for(override)
    assert errors and not any(s in " ".join(errors) for s in ("12345", "hunter2", "4711")), errors


@pytest.mark.parametrize("config", [None, [], "hostname: x"])
def test_validate_non_mapping(config):
    assert validate(config) == ["harbor.yml: must be a mapping, got %r (%s)" % (config, type(config).__name__)]


def test_every_error_names_a_dotted_key():
    broken = deep_merge(tmpl(), {"hostname": "localhost", "https": {"certificate": "x"}, "log": {"level": "loud"},
                                 "cache": {"expire_hours": -1}, "trace": {"jaeger": {}, "otel": {}}})
    errors = validate(broken)
    assert len(errors) >= 6
    for error in errors:
        key, _, message = error.partition(": ")
        assert key and " " not in key and message, error


def test_messages_name_yaml_types_for_ansible_tagged_values():
    """Ansible 2.19 passes str/int subclasses (_AnsibleTaggedStr ...): messages say str/int."""
    from ansible._internal._datatag._tags import Origin  # pylint: disable=import-outside-toplevel

    origin = Origin(path="/inventory/group_vars/all.yml")
    errors = errors_for({"trivy": {"skip_update": origin.tag("yes")}, "http": {"port": origin.tag("80")}})
    assert errors == ["http.port: must be an integer from 1 to 65535, got '80' (str)",
                      "trivy.skip_update: must be true or false, got 'yes' (str)"]


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
