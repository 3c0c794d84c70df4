# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one place that knows the rules of Harbor's harbor.yml.

Private to the harbor.deploy collection: the interface may change without notice.

- ``template_defaults(text)`` reads a release's ``harbor.yml.tmpl`` into a dict.
- ``deep_merge(base, override)`` merges the user's dict over it (a key set to None
  in the override removes that key, lists replace, inputs are left untouched).
- ``validate(config)`` returns one error string per problem, each starting with the
  dotted path of the key (``https.certificate: ...``); an empty list means valid.
- ``endpoint(config)`` says how clients reach that Harbor: the registry name image
  references use (``host`` or ``host:port``), the URL and whether it is HTTPS.

The rules cover what Harbor's ``prepare`` (v2.12 to v2.15) rejects, what it crashes on
with a bare KeyError, and what it silently gets wrong (several storage backends, an
unknown backend, typos in key names, keys the release does not know).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

ROOT = "harbor.yml"

PLACEHOLDER_CERTIFICATE = "/your/certificate/path"
PLACEHOLDER_PRIVATE_KEY = "/your/private/key/path"
PLACEHOLDER_HOSTNAME = "reg.mydomain.com"

STORAGE_BACKENDS = ("filesystem", "azure", "gcs", "s3", "swift", "oss")
LOG_LEVELS = ("debug", "info", "warning", "error", "fatal")
JOB_LOGGERS = ("STD_OUTPUT", "FILE", "DB")
PROXY_COMPONENTS = ("core", "jobservice", "trivy")
TRIVY_SECURITY_CHECKS = ("vuln", "config", "secret")
PG_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

# Keys that the harbor.yml.tmpl of older releases does not have: prepare of those
# releases ignores them, so setting one there is a silent no-op we refuse.
KEYS_SINCE = {
    "jobservice.max_job_duration_hours": (2, 13),
    "external_redis.tlsOptions": (2, 13),
    "trivy.db_repository": (2, 15),
    "trivy.java_db_repository": (2, 15),
}

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_GO_DURATION_RE = re.compile(r"^-?(\d+(\.\d+)?(ns|us|\u00b5s|ms|s|m|h))+$")
_HOURS_RE = re.compile(r"^(\d+)h$")
_LOG_SIZE_RE = re.compile(r"^\d+[kKmMgG]?$")
_HOST_PORT_RE = re.compile(r"^[^\s:/,]+:(\d+)$")


# ---------------------------------------------------------------- merge and load


def template_defaults(tmpl_text):
    """Parse a release's harbor.yml.tmpl (plain YAML with comments) into a dict."""
    import yaml  # controller side only; kept local so importing this file needs no PyYAML

    data = yaml.safe_load(tmpl_text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("harbor.yml.tmpl must hold a mapping, got %s" % type(data).__name__)
    return data


def deep_merge(base, override):
    """Return base with override merged in, recursively, without mutating either.

    Dicts merge key by key; any other value (lists included) replaces. A key whose
    override value is None is removed from the result, at any depth, so
    ``{"https": None}`` turns HTTPS off and ``{"storage_service": {"filesystem": None,
    "s3": {...}}}`` swaps the backend.
    """
    if base is None:
        base = {}
    if override is None:
        override = {}
    for name, value in (("base", base), ("override", override)):
        if not isinstance(value, dict):
            raise TypeError("%s must be a dict, got %s" % (name, type(value).__name__))
    return _merge(base, override)


def _merge(base, override):
    result = {key: _copy(value) for key, value in base.items()}
    for key, value in override.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            below = base.get(key)
            result[key] = _merge(below if isinstance(below, dict) else {}, value)
        else:
            result[key] = _copy(value)
    return result


def _copy(value):
    """A copy of the containers (plain dicts and lists out); scalars are immutable and kept.

    Not copy.deepcopy: in Ansible 2.19 the inputs are lazy template containers whose
    deepcopy also copies their templating context, hundreds of times slower.
    """
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


# ---------------------------------------------------------------- field checkers
#
# A checker is ``check(errors, path, value)``: it appends "path: message" strings.
# It is only called for a value that is not None; ``Required`` makes None or a
# missing key an error. A ``Block`` checks a mapping against a dict of checkers.


_TYPE_NAMES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (dict, "mapping"), (list, "list"))


def _type_name(value):
    """The YAML-level type name (Ansible 2.19 hands over subclasses such as _AnsibleTaggedStr)."""
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _show(value):
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return "%s (%s)" % (text, _type_name(value))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class Required:
    """Wraps a checker: the key must be present and not null."""

    def __init__(self, check, why=""):
        self.check = check
        self.why = why


def _scalar(test, expect, secret=False):
    def check(errors, path, value):
        if not test(value):
            got = "a value of type %s" % _type_name(value) if secret else _show(value)
            errors.append("%s: must be %s, got %s" % (path, expect, got))

    return check


def _int(low=None, high=None):
    if low is not None and high is not None:
        expect = "an integer from %d to %d" % (low, high)
    elif low == 1:
        expect = "a positive integer"
    elif low is not None:
        expect = "an integer >= %d" % low
    else:
        expect = "an integer"
    return _scalar(
        lambda v: _is_int(v) and (low is None or v >= low) and (high is None or v <= high),
        expect,
    )


def _text(nonempty=True, secret=False):
    if nonempty:
        return _scalar(lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string", secret)
    return _scalar(lambda v: isinstance(v, str), "a string", secret)


def _pattern(regex, expect):
    return _scalar(lambda v: isinstance(v, str) and regex.match(v) is not None, expect)


def _choice(choices):
    return _scalar(lambda v: v in choices, "one of %s" % ", ".join(choices))


def _hours(minimum):
    def test(value):
        match = _HOURS_RE.match(value) if isinstance(value, str) else None
        return match is not None and int(match.group(1)) >= minimum

    return _scalar(test, "a number of hours like '24h', at least %dh" % minimum)


def _duration(zero_int=False):
    def test(value):
        if zero_int and _is_int(value) and value == 0:
            return True
        return isinstance(value, str) and (value == "0" or _GO_DURATION_RE.match(value) is not None)

    return _scalar(test, "a Go duration like '5m0s', '300ms' or '2h45m'" + (" (or 0)" if zero_int else ""))


def _url(schemes, with_path=True):
    def test(value):
        if not isinstance(value, str):
            return False
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            return False
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            return False
        return with_path or parts.path in ("", "/")

    what = "a URL with scheme %s and a host" % "/".join(schemes)
    return _scalar(test, what if with_path else what + " (no path)")


def _abs_path(value):
    return isinstance(value, str) and value.startswith("/") and "\n" not in value


def _list_of(choices, nonempty=False):
    def check(errors, path, value):
        expect = "a list of %s%s" % (", ".join(choices), " (at least one)" if nonempty else "")
        if not isinstance(value, list) or (nonempty and not value):
            errors.append("%s: must be %s, got %s" % (path, expect, _show(value)))
            return
        wrong = [item for item in value if item not in choices]
        if wrong:
            errors.append("%s: unknown %s; must be %s" % (path, ", ".join(map(repr, wrong)), expect))

    return check


def _security_checks(errors, path, value):
    items = value.split(",") if isinstance(value, str) else None
    if not items or any(item.strip() not in TRIVY_SECURITY_CHECKS for item in items):
        errors.append("%s: must be a comma-separated list of %s, got %s"
                      % (path, ", ".join(TRIVY_SECURITY_CHECKS), _show(value)))


def _redis_hosts(errors, path, value):
    hosts = value.split(",") if isinstance(value, str) else []
    if not hosts or not all(_HOST_PORT_RE.match(h.strip()) and 0 < int(h.strip().rsplit(":", 1)[1]) < 65536 for h in hosts):
        errors.append("%s: must be 'host:port' (or 'host1:port1,host2:port2,...' for redis+sentinel), got %s"
                      % (path, _show(value)))


def _sample_rate(errors, path, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        errors.append("%s: must be a number from 0 to 1, got %s" % (path, _show(value)))


BOOL = _scalar(lambda v: isinstance(v, bool), "true or false")
PORT = _int(1, 65535)
COUNT = _int(0)
POSITIVE = _int(1)
TEXT = _text()
OPTIONAL_TEXT = _text(nonempty=False)
SECRET = _text(secret=True)
OPTIONAL_SECRET = _text(nonempty=False, secret=True)
ABS_PATH = _scalar(_abs_path, "an absolute path")
MAPPING = _scalar(lambda v: isinstance(v, dict), "a mapping")
ANY = _scalar(lambda v: True, "anything")
PROXY_URL = _url(("http", "https", "socks5"))


class Block:
    """A mapping whose keys are checked; unknown keys are errors unless open_."""

    def __init__(self, fields, open_=False):
        self.fields = fields
        self.open = open_

    def __call__(self, errors, path, value):
        if not isinstance(value, dict):
            # only the type: a value put where a block belongs may well be a password
            errors.append("%s: must be a mapping, got a value of type %s" % (path, _type_name(value)))
            return
        if not self.open:
            for key in value:
                if key not in self.fields:
                    errors.append("%s: unknown key; known keys here: %s"
                                  % (_join(path, key), ", ".join(sorted(self.fields))))
        for key, check in self.fields.items():
            _check_field(errors, _join(path, key), value.get(key), check)


def _check_field(errors, path, value, check):
    if isinstance(check, Required):
        if value is None:
            errors.append("%s: is required%s" % (path, check.why))
            return
        check = check.check
    if value is not None:
        check(errors, path, value)


def _join(path, key):
    return "%s.%s" % (path, key) if path and path != ROOT else str(key)


# ---------------------------------------------------------------- the schema

_DB_POOL = {
    "max_idle_conns": _int(),
    "max_open_conns": _int(),
    "conn_max_lifetime": _duration(zero_int=True),
    "conn_max_idle_time": _duration(zero_int=True),
}
_REDIS_INDEXES = {
    name: COUNT
    for name in ("registry_db_index", "jobservice_db_index", "trivy_db_index",
                 "harbor_db_index", "cache_layer_db_index")
}
_STORAGE_FIELDS = {
    "ca_bundle": ABS_PATH,
    "redirect": Block({"disable": BOOL, "disabled": BOOL}),
    # backend blocks are checked by _storage_rules: free-form distribution driver params
}
_STORAGE_FIELDS.update({name: ANY for name in STORAGE_BACKENDS})
_BACKEND_REQUIRED = {
    "s3": ("region", "bucket"),
    "gcs": ("bucket",),
    "azure": ("accountname", "container"),
    "swift": ("authurl", "username", "password", "container"),
    "oss": ("accesskeyid", "accesskeysecret", "region", "bucket"),
}
_LOCAL_HOSTNAMES = ("localhost", "localhost.localdomain")

SCHEMA = Block({
    "hostname": Required(TEXT),
    "http": Block({"port": PORT}),
    "https": Block({
        "port": PORT,
        "certificate": Required(TEXT, " when https is set (or set https: null for plain HTTP)"),
        "private_key": Required(TEXT, " when https is set (or set https: null for plain HTTP)"),
        "strong_ssl_ciphers": BOOL,
    }),
    "ip_family": Block({"ipv6": Block({"enabled": BOOL}), "ipv4": Block({"enabled": BOOL})}),
    "internal_tls": Block({"enabled": BOOL, "dir": ABS_PATH, "verify_client_cert": BOOL}),
    "external_url": _url(("http", "https"), with_path=False),
    "harbor_admin_password": Required(SECRET),
    "database": Block(dict(_DB_POOL, password=Required(SECRET))),
    "data_volume": Required(ABS_PATH),
    "storage_service": Block(_STORAGE_FIELDS),
    "trivy": Block({
        "ignore_unfixed": BOOL,
        "skip_update": BOOL,
        "skip_java_db_update": BOOL,
        "offline_scan": BOOL,
        "insecure": BOOL,
        "timeout": _duration(),
        "security_check": _security_checks,
        "github_token": OPTIONAL_SECRET,
        "db_repository": TEXT,
        "java_db_repository": TEXT,
    }),
    "jobservice": Required(Block({
        "max_job_workers": Required(POSITIVE),
        "max_job_duration_hours": POSITIVE,
        "job_loggers": _list_of(JOB_LOGGERS, nonempty=True),
        "logger_sweeper_duration": POSITIVE,
    })),
    "notification": Required(Block({
        "webhook_job_max_retry": Required(COUNT),
        "webhook_job_http_client_timeout": POSITIVE,
    })),
    "log": Required(Block({
        "level": Required(_choice(LOG_LEVELS)),
        "local": Block({
            "rotate_count": COUNT,
            "rotate_size": _pattern(_LOG_SIZE_RE, "a size like '200M', '1G', '500k' or '100'"),
            "location": ABS_PATH,
        }),
        "external_endpoint": Block({
            "protocol": Required(_choice(("tcp", "udp"))),
            "host": Required(TEXT),
            "port": Required(PORT),
        }),
    })),
    "_version": Required(_pattern(_VERSION_RE, "a release number like '2.15.0' (a quoted string)")),
    "external_database": Block({
        "harbor": Required(Block(dict(
            _DB_POOL,
            host=Required(TEXT),
            port=Required(PORT),
            db_name=Required(TEXT),
            username=Required(TEXT),
            password=Required(SECRET),
            ssl_mode=Required(_choice(PG_SSL_MODES)),
        ))),
    }),
    "redis": Block(_REDIS_INDEXES),
    "external_redis": Block(dict(
        _REDIS_INDEXES,
        host=Required(_redis_hosts),
        password=OPTIONAL_SECRET,
        username=OPTIONAL_TEXT,
        sentinel_master_set=TEXT,
        idle_timeout_seconds=COUNT,
        tlsOptions=Block({"enable": BOOL, "rootCA": ABS_PATH}),
    )),
    "uaa": Block({"ca_file": ABS_PATH}),
    "proxy": Block({
        "http_proxy": PROXY_URL,
        "https_proxy": PROXY_URL,
        "no_proxy": OPTIONAL_TEXT,
        "components": _list_of(PROXY_COMPONENTS),
    }),
    "metric": Block({
        "enabled": Required(BOOL),
        "port": Required(PORT),
        "path": Required(_pattern(re.compile(r"^/\S*$"), "a URL path starting with '/'")),
    }),
    "trace": Block({
        "enabled": BOOL,
        "sample_rate": _sample_rate,
        "namespace": OPTIONAL_TEXT,
        "attributes": MAPPING,
        "jaeger": Block({
            "endpoint": _url(("http", "https")),
            "username": OPTIONAL_TEXT,
            "password": OPTIONAL_SECRET,
            "agent_host": TEXT,
            "agent_port": PORT,
        }),
        "otel": Block({
            "endpoint": Required(TEXT),
            "url_path": Required(_pattern(re.compile(r"^/\S*$"), "a URL path starting with '/'")),
            "compression": BOOL,
            "insecure": BOOL,
            "timeout": POSITIVE,
        }),
    }),
    "upload_purging": Block({
        "enabled": BOOL,
        "age": _hours(2),
        "interval": _hours(2),
        "dryrun": BOOL,
    }),
    "cache": Block({"enabled": BOOL, "expire_hours": POSITIVE}),
    "core": Block({"quota_update_provider": _choice(("redis", "db"))}),
})


# ---------------------------------------------------------------- cross-field rules


def _get(config, dotted):
    """Value at a dotted path, or None when any level is missing or not a mapping."""
    value = config
    for key in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _hostname_rules(config, errors):
    host = config.get("hostname")
    if not isinstance(host, str) or not host.strip():
        return  # the schema already said "required" / "must be a non-empty string"
    if host == PLACEHOLDER_HOSTNAME:
        errors.append("hostname: still the template placeholder %s; set the name clients use to reach Harbor"
                      % PLACEHOLDER_HOSTNAME)
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host.lower() in _LOCAL_HOSTNAMES or (address is not None and (address.is_loopback or address.is_unspecified)):
        errors.append("hostname: %s cannot be the hostname: clients outside this host must reach Harbor by it" % host)
    elif address is None and re.search(r"[\s/:@]", host):
        errors.append("hostname: must be a bare host name or IP address (no scheme, port or path; "
                      "ports go in http.port / https.port, a public URL in external_url), got %r" % host)


def _https_rules(config, errors):
    https = config.get("https")
    if not isinstance(https, dict):
        return
    for key, placeholder in (("certificate", PLACEHOLDER_CERTIFICATE), ("private_key", PLACEHOLDER_PRIVATE_KEY)):
        value = https.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        if value == placeholder:
            errors.append("https.%s: still the template placeholder %s; set the path on the Harbor host "
                          "(or set https: null for plain HTTP)" % (key, placeholder))
        elif not _abs_path(value):
            errors.append("https.%s: must be an absolute path on the Harbor host, got %r" % (key, value))
    http_port = _get(config, "http.port") or 80
    https_port = https.get("port") or 443
    if http_port == https_port:
        errors.append("https.port: must differ from http.port (both are %s)" % https_port)


def _database_rules(config, errors):
    if config.get("external_database") is None and config.get("database") is None:
        errors.append("database: is required unless external_database is set")


def _storage_rules(config, errors):
    storage = config.get("storage_service")
    if not isinstance(storage, dict):
        return
    unknown = [key for key in storage if key not in _STORAGE_FIELDS]
    if unknown:
        return  # the schema names them; counting backends would only repeat it
    backends = [name for name in STORAGE_BACKENDS if storage.get(name) is not None]
    if len(backends) != 1:
        errors.append(
            "storage_service: exactly one storage backend must be set (one of %s), found %s; "
            "prepare would silently use %s. Remove the others with '<backend>: null'"
            % (", ".join(STORAGE_BACKENDS), ", ".join(backends) or "none",
               backends[0] if backends else "filesystem"))
    for name in backends:
        _backend_rules(name, storage[name], errors)


def _backend_rules(name, params, errors):
    path = "storage_service." + name
    if not isinstance(params, dict):
        errors.append("%s: must be a mapping of the %s driver's parameters, got a value of type %s"
                      % (path, name, _type_name(params)))
        return
    for key in _BACKEND_REQUIRED.get(name, ()):
        _check_field(errors, "%s.%s" % (path, key), params.get(key), Required(SECRET, " for the %s driver" % name))
    if name == "s3" and (params.get("accesskey") is None) != (params.get("secretkey") is None):
        errors.append("%s.secretkey: accesskey and secretkey go together: set both, or neither to use an "
                      "instance role" % path)
    if name == "filesystem" and params.get("maxthreads") is not None:
        _int(25)(errors, path + ".maxthreads", params["maxthreads"])


def _trace_rules(config, errors):
    trace = config.get("trace")
    if not isinstance(trace, dict):
        return
    exporters = [name for name in ("jaeger", "otel") if trace.get(name) is not None]
    if len(exporters) == 2:
        errors.append("trace: only one trace exporter at a time: set jaeger or otel, not both")
    elif not exporters and trace.get("enabled") is True:
        errors.append("trace: enabled but no exporter: set trace.jaeger or trace.otel")
    jaeger = trace.get("jaeger")
    if isinstance(jaeger, dict):
        has = [key for key in ("endpoint", "agent_host") if jaeger.get(key)]
        if len(has) != 1:
            errors.append("trace.jaeger: set exactly one of endpoint (collector mode) or agent_host (agent mode), got %s"
                          % (" and ".join(has) or "neither"))


def _internal_tls_rules(config, errors):
    tls = config.get("internal_tls")
    if isinstance(tls, dict) and tls.get("enabled") is True and not tls.get("dir"):
        errors.append("internal_tls.dir: is required when internal_tls.enabled is true")


def _cache_rules(config, errors):
    cache = config.get("cache")
    if isinstance(cache, dict) and cache.get("enabled") is True and cache.get("expire_hours") is None:
        errors.append("cache.expire_hours: is required when cache.enabled is true")


def _redis_rules(config, errors):
    host = _get(config, "external_redis.host")
    if isinstance(host, str) and "," in host and not _get(config, "external_redis.sentinel_master_set"):
        errors.append("external_redis.sentinel_master_set: is required when external_redis.host lists several "
                      "hosts (redis+sentinel)")


def _version_rules(config, errors):
    match = _VERSION_RE.match(str(config.get("_version") or ""))
    if not match:
        return
    release = (int(match.group(1)), int(match.group(2)))
    for dotted, since in sorted(KEYS_SINCE.items()):
        parent, key = dotted.rsplit(".", 1)
        block = _get(config, parent)
        if release < since and isinstance(block, dict) and block.get(key) is not None:
            errors.append("%s: not a key of harbor.yml %d.%d (first in %d.%d): prepare of this release "
                          "ignores it; remove it or use a newer release" % ((dotted,) + release + since))


_RULES = (
    _hostname_rules,
    _https_rules,
    _database_rules,
    _storage_rules,
    _trace_rules,
    _internal_tls_rules,
    _cache_rules,
    _redis_rules,
    _version_rules,
)


def validate(config):
    """Return a list of error strings for a full (merged) harbor.yml dict; [] when valid."""
    errors = []
    if not isinstance(config, dict):
        return ["%s: must be a mapping, got %s" % (ROOT, _show(config))]
    SCHEMA(errors, ROOT, config)
    for rule in _RULES:
        rule(config, errors)
    return errors


# ---------------------------------------------------------------- what clients use


def _registry_name(host, port, default_port):
    """host or host:port as image references spell it (docker reads a first path
    part as a registry only when it holds a dot or a port, or is localhost)."""
    bracketed = "[%s]" % host if ":" in host else host
    if port != default_port or ("." not in host and ":" not in host and host != "localhost"):
        return "%s:%d" % (bracketed, port)
    return bracketed


def endpoint(config):
    """How clients reach the Harbor of a valid harbor.yml dict.

    Returns {"registry": "host[:port]", "url": "scheme://host[:port]", "https": bool}.
    external_url (Harbor behind a proxy) wins over hostname and the ports.
    """
    external = config.get("external_url")
    if external:
        parts = urlsplit(external)
        https = parts.scheme == "https"
        default_port = 443 if https else 80
        port = parts.port or default_port
        host = parts.hostname
    else:
        https = bool(config.get("https"))
        default_port = 443 if https else 80
        block = (config.get("https") if https else config.get("http")) or {}
        port = int(block.get("port") or default_port)
        host = str(config.get("hostname", ""))
    registry = _registry_name(host, port, default_port)
    bracketed = "[%s]" % host if ":" in host else host
    url = "%s://%s%s" % ("https" if https else "http", bracketed, "" if port == default_port else ":%d" % port)
    return {"registry": registry, "url": url, "https": https}
