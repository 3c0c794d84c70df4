# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one place that knows the rules of Harbor's harbor.yml.

Private to the harbor.deploy collection: the interface may change without notice.

- ``template_defaults(text)`` reads a release's ``harbor.yml.tmpl`` into a dict.
- ``deep_merge(base, override)`` merges a dict over it (a key set to None in the
  override removes that key, lists replace, inputs are left untouched). The install
  role uses that None for its own shortcuts (``https: None`` is plain HTTP); the
  user's ``install_config`` may hold no null (see ``validate(user=...)``).
- ``remove_keys(config, paths)`` returns a copy without the dotted keys listed (the
  user's ``install_config_remove``); ``remove_errors(paths)`` checks such a list.
- ``validate(config, template=, user=, version=, remove=)`` returns one error string
  per problem, each starting with the dotted path of the key (``https.certificate:
  ...``); an empty list means valid.
- ``endpoint(config)`` says how clients reach that Harbor: the registry name image
  references use (``host`` or ``host:port``), the URL and whether it is HTTPS.

The rules mirror what Harbor's ``prepare`` (v2.12 to v2.15) rejects or crashes on,
accept what it accepts, and refuse on top what it accepts but gets wrong at run time
(several storage backends, quoted booleans it reads as true, values it silently
replaces, keys it ignores). roles/install/VALIDATION.md lists every rule.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

ROOT = "harbor.yml"
USER = "install_config"
REMOVE = "install_config_remove"

PLACEHOLDER_CERTIFICATE = "/your/certificate/path"
PLACEHOLDER_PRIVATE_KEY = "/your/private/key/path"
PLACEHOLDER_HOSTNAME = "reg.mydomain.com"

STORAGE_BACKENDS = ("filesystem", "azure", "gcs", "s3", "swift", "oss")
LOG_LEVELS = ("debug", "info", "warning", "error", "fatal")
JOB_LOGGERS = ("STD_OUTPUT", "FILE", "DB")
PROXY_COMPONENTS = ("core", "jobservice", "trivy")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
TRIVY_SECURITY_CHECKS = ("vuln", "config", "secret")
PG_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# What Go's strconv.ParseBool reads: a value prepare hands to a Go service as text.
GO_BOOL_TEXT = ("1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False")

# Keys that the harbor.yml.tmpl of older releases does not have: prepare of those
# releases ignores them, so setting one there is a silent no-op we refuse.
KEYS_SINCE = {
    "jobservice.max_job_duration_hours": (2, 13),
    "external_redis.tlsOptions": (2, 13),
    "trivy.db_repository": (2, 15),
    "trivy.java_db_repository": (2, 15),
}

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_RELEASE_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.+-]*)?$")
_GO_DURATION_RE = re.compile(r"^[-+]?(\d+(\.\d*)?(ns|us|\u00b5s|ms|s|m|h))+$")
_HOURS_RE = re.compile(r"^(\d+)h$")
_LOG_SIZE_RE = re.compile(r"^\d+[kKmMgG]?$")
_HOST_PORT_RE = re.compile(r"^[^\s:/,]+:(\d+)$")
_INT_TEXT_RE = re.compile(r"^[-+]?\d+$")
_DOTTED_RE = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")


# ---------------------------------------------------------------- merge, remove and load


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
    ``{"https": None}`` turns HTTPS off. That is for the install role's own shortcuts:
    the user removes keys with ``remove_keys`` (install_config_remove), and
    ``validate(user=...)`` refuses a null in the user's dict.
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


def remove_errors(paths):
    """Problems of an install_config_remove list: a list of non-empty dotted keys."""
    if paths is None:
        return []
    if not isinstance(paths, list):
        return ["%s: must be a list of dotted harbor.yml keys such as 'storage_service.filesystem', "
                "got a value of type %s" % (REMOVE, _type_name(paths))]
    return ["%s[%d]: must be a dotted harbor.yml key such as 'storage_service.filesystem' or 'https', got %s"
            % (REMOVE, index, _show(path))
            for index, path in enumerate(paths) if not (isinstance(path, str) and _DOTTED_RE.match(path))]


def remove_keys(config, paths):
    """A copy of config without the dotted keys of paths; a key that is not there is fine.

    Raises ValueError (naming install_config_remove) when paths is not a list of
    non-empty dotted keys.
    """
    if not isinstance(config, dict):
        raise TypeError("the input must be a dict, got %s" % type(config).__name__)
    problems = remove_errors(paths)
    if problems:
        raise ValueError("; ".join(problems))
    result = _copy(config)
    for path in paths or ():
        *parents, last = path.split(".")
        block = result
        for key in parents:
            block = block.get(key) if isinstance(block, dict) else None
        if isinstance(block, dict):
            block.pop(last, None)
    return result


# ---------------------------------------------------------------- value checkers
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
    if isinstance(value, str):
        value = str(value)  # the plain text, not the repr of a tagged subclass
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return "%s (%s)" % (text, _type_name(value))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value, text=True):
    """The integer a value stands for: an int, or (text=True) a string of digits; else None."""
    if _is_int(value):
        return int(value)
    if text and isinstance(value, str) and _INT_TEXT_RE.match(value.strip()):
        return int(value.strip())
    return None


def _as_number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class Required:
    """Wraps a checker: the key must be present and not null.

    ``even_off``: in a Block with an on/off switch, the key must be there even when the
    block is off (prepare reads it unconditionally); its value is only checked when on.
    """

    def __init__(self, check, why="", even_off=False):
        self.check = check
        self.why = why
        self.even_off = even_off


class Always:
    """Wraps a checker: checked even when its Block is switched off (prepare reads it anyway)."""

    def __init__(self, check):
        self.check = check


def _unwrap(check):
    while isinstance(check, (Required, Always)):
        check = check.check
    return check


def _scalar(test, expect, secret=False, why=""):
    def check(errors, path, value):
        if not test(value):
            got = "a value of type %s" % _type_name(value) if secret else _show(value)
            errors.append("%s: must be %s, got %s%s" % (path, expect, got, why))

    return check


def _int(low=None, high=None, text=True, why=""):
    """An integer (or, text=True, a quoted one: prepare writes it out as text and Harbor parses it)."""
    if low is not None and high is not None:
        expect = "an integer from %d to %d" % (low, high)
    elif low == 1:
        expect = "a positive integer"
    elif low is not None:
        expect = "an integer >= %d" % low
    else:
        expect = "an integer"

    def test(value):
        number = _as_int(value, text)
        return number is not None and (low is None or number >= low) and (high is None or number <= high)

    return _scalar(test, expect, why=why)


def _text(nonempty=True, secret=False):
    if nonempty:
        return _scalar(lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string", secret)
    return _scalar(lambda v: isinstance(v, str), "a string", secret)


def _pattern(regex, expect):
    return _scalar(lambda v: isinstance(v, str) and regex.match(v) is not None, expect)


def _choice(choices):
    return _scalar(lambda v: isinstance(v, str) and v in choices, "one of %s" % ", ".join(choices))


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


def _proxy_url(value):
    """Go (net/http) reads a proxy without a scheme as http://value."""
    if not isinstance(value, str):
        return False
    if value == "":
        return True
    parts = urlsplit(value if "://" in value else "http://" + value)
    try:
        return parts.scheme in PROXY_SCHEMES and bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:
        return False


def _abs_path(value):
    return isinstance(value, str) and value.startswith("/") and "\n" not in value


def _list_of(choices, nonempty=False, why=""):
    def check(errors, path, value):
        expect = "a list of %s%s" % (", ".join(choices), " (at least one)" if nonempty else "")
        if not isinstance(value, list) or (nonempty and not value):
            errors.append("%s: must be %s, got %s%s" % (path, expect, _show(value), why))
            return
        wrong = [item for item in value if item not in choices]
        if wrong:
            errors.append("%s: unknown %s; must be %s%s" % (path, ", ".join(map(repr, wrong)), expect, why))

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
    number = _as_number(value)
    if number is None or not 0 <= number <= 1:
        errors.append("%s: must be a number from 0 to 1, got %s" % (path, _show(value)))


def _rotate_count(errors, path, value):
    if _as_int(value) is None or _as_int(value) < 0:
        errors.append("%s: must be an integer >= 0, got %s" % (path, _show(value)))
    elif _is_int(value) and value == 0:
        errors.append("%s: 0 does not work: prepare reads 0 as unset and keeps 50 rotations; "
                      "write '0' (quoted) to keep no old log" % path)


def _bool(errors, path, value):
    """A switch prepare (or its templates) tests for truth: any non-empty text reads as true."""
    if not isinstance(value, bool):
        why = "; prepare reads any non-empty text as true" if isinstance(value, str) and value else ""
        errors.append("%s: must be true or false, got %s%s" % (path, _show(value), why))


def _go_bool(errors, path, value):
    """A switch prepare writes out as text for a Go service, which reads it with strconv.ParseBool."""
    if not isinstance(value, bool) and not (isinstance(value, str) and value in GO_BOOL_TEXT):
        errors.append("%s: must be true or false, got %s" % (path, _show(value)))


BOOL = _bool
GO_BOOL = _go_bool
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
PROXY_URL = _scalar(_proxy_url, "a proxy URL such as 'http://proxy.example.com:3128' or 'proxy.example.com:3128' "
                                "(scheme %s)" % "/".join(PROXY_SCHEMES))
URL_PATH = _pattern(re.compile(r"^/\S*$"), "a URL path starting with '/'")
# Free-form values: anything below them is the user's (driver parameters, trace attributes).
FREE_FORM = (ANY, MAPPING)


class Block:
    """A mapping whose keys are checked (unknown keys are found by ``_unknown_keys``).

    gate: the name of the block's on/off switch (``enabled``): the other keys are only
    checked when it is true, as prepare only reads them then (``Always`` and
    ``Required(even_off=True)`` mark the exceptions).
    empty_off: an empty mapping means "not set", as prepare reads it (``https: {}``).
    nonempty: an empty mapping is an error (``log.local``).
    shallow: only the type is checked here; a rule function checks the rest.
    """

    def __init__(self, fields, gate=None, empty_off=False, nonempty=False, shallow=False, why=""):
        self.fields = fields
        self.gate = gate
        self.empty_off = empty_off
        self.nonempty = nonempty
        self.shallow = shallow
        self.why = why

    def __call__(self, errors, path, value):
        if not isinstance(value, dict):
            # only the type: a value put where a block belongs may well be a password
            errors.append("%s: must be a mapping, got a value of type %s%s" % (path, _type_name(value), self.why))
            return
        if not value and self.nonempty:
            errors.append("%s: must not be empty%s" % (path, self.why))
            return
        if (not value and self.empty_off) or self.shallow:
            return
        on = self.gate is None or value.get(self.gate) is True
        for key, check in self.fields.items():
            sub = _join(path, key)
            if on or key == self.gate or isinstance(check, Always):
                _check_field(errors, sub, value.get(key), check)
            elif isinstance(check, Required) and check.even_off and key not in value:
                errors.append("%s: is required%s" % (sub, check.why))


def _check_field(errors, path, value, check):
    if isinstance(check, Always):
        check = check.check
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

_CRASH = " (prepare crashes without it)"
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
    "redirect": Block({"disable": Required(BOOL, " when redirect is set" + _CRASH)}, empty_off=True),
    # backend blocks are checked by _storage_rules: free-form distribution driver parameters
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
_HTTPS_ONLY = " when https is set (or remove https for plain HTTP)"

SCHEMA = Block({
    "hostname": Required(TEXT),
    "http": Block({"port": PORT}),
    "https": Block({
        "port": PORT,
        "certificate": Required(TEXT, _HTTPS_ONLY),
        "private_key": Required(TEXT, _HTTPS_ONLY),
        "strong_ssl_ciphers": BOOL,
    }, empty_off=True),
    # checked by _ip_family_rules, only where prepare's nginx templates read it
    "ip_family": Block({"ipv6": Block({"enabled": BOOL}), "ipv4": Block({"enabled": BOOL})}, shallow=True),
    "internal_tls": Block({
        "enabled": BOOL,
        "dir": Required(ABS_PATH, " when internal_tls.enabled is true" + _CRASH),
        "strong_ssl_ciphers": Always(BOOL),
    }, gate="enabled"),
    "external_url": _url(("http", "https"), with_path=False),
    "harbor_admin_password": Required(SECRET),
    "database": Block(dict(_DB_POOL, password=Required(SECRET)), empty_off=True),
    "data_volume": Required(ABS_PATH),
    "storage_service": Block(_STORAGE_FIELDS),
    "trivy": Block({
        "ignore_unfixed": GO_BOOL,
        "skip_update": GO_BOOL,
        "skip_java_db_update": GO_BOOL,
        "offline_scan": GO_BOOL,
        "insecure": GO_BOOL,
        "timeout": _duration(),
        "security_check": _security_checks,
        "github_token": OPTIONAL_SECRET,
        "db_repository": TEXT,
        "java_db_repository": TEXT,
    }),
    "jobservice": Required(Block({
        "max_job_workers": Required(POSITIVE, _CRASH),
        "max_job_duration_hours": _int(24, text=False,
                                       why="; prepare replaces a smaller or a quoted number with 24"),
        "job_loggers": Required(_list_of(JOB_LOGGERS, nonempty=True,
                                         why="; prepare drops unknown names and reads a string letter by letter"),
                                _CRASH),
        "logger_sweeper_duration": Required(COUNT, _CRASH),
    }), _CRASH),
    "notification": Required(Block({
        "webhook_job_max_retry": Required(COUNT, _CRASH),
        "webhook_job_http_client_timeout": Required(POSITIVE, _CRASH),
    }), _CRASH),
    "log": Required(Block({
        "level": Required(_choice(LOG_LEVELS), _CRASH),
        "local": Required(Block({
            "rotate_count": _rotate_count,
            "rotate_size": _pattern(_LOG_SIZE_RE, "a size like '200M', '1G', '500k' or '100'"),
            "location": ABS_PATH,
        }, nonempty=True, why=": prepare takes the log location from it and crashes without it"),
            ": prepare takes the log location from it and crashes without it"),
        "external_endpoint": Block({
            "protocol": Required(_choice(("tcp", "udp")), " when external_endpoint is set" + _CRASH),
            "host": Required(TEXT, " when external_endpoint is set"),
            "port": Required(PORT, " when external_endpoint is set"),
        }, empty_off=True),
    }), _CRASH),
    "_version": Required(_pattern(_VERSION_RE, "a release number like '2.15.0' (a quoted string)"),
                         ": prepare's migrate command reads it to upgrade harbor.yml"),
    "external_database": Block({
        "harbor": Required(Block(dict(
            _DB_POOL,
            host=Required(TEXT, _CRASH),
            port=Required(PORT, _CRASH),
            db_name=Required(TEXT, _CRASH),
            username=Required(TEXT, _CRASH),
            password=Required(SECRET, _CRASH),
            ssl_mode=Required(_choice(PG_SSL_MODES), _CRASH),
        )), " when external_database is set" + _CRASH),
    }, empty_off=True),
    "redis": Block(_REDIS_INDEXES),
    "external_redis": Block(dict(
        _REDIS_INDEXES,
        host=Required(_redis_hosts, ": without it prepare points Harbor at the bundled Redis it does not start"),
        password=OPTIONAL_SECRET,
        username=OPTIONAL_TEXT,
        sentinel_master_set=TEXT,
        idle_timeout_seconds=COUNT,
        tlsOptions=Block({
            "enable": BOOL,
            "rootCA": Required(ABS_PATH, " when tlsOptions.enable is true" + _CRASH),
        }, gate="enable"),
    ), empty_off=True),
    "uaa": Block({"ca_file": ABS_PATH}),
    "proxy": Block({
        "http_proxy": PROXY_URL,
        "https_proxy": PROXY_URL,
        "no_proxy": _text(nonempty=False),
        "components": _list_of(PROXY_COMPONENTS, why="; prepare ignores other names"),
    }),
    "metric": Block({
        "enabled": Required(BOOL, _CRASH),
        "port": Required(PORT, " when metric is set" + _CRASH, even_off=True),
        "path": Required(URL_PATH, " when metric is set" + _CRASH, even_off=True),
    }, gate="enabled", empty_off=True),
    # exporters are also checked by _trace_rules
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
        }, empty_off=True),
        "otel": Block({
            "endpoint": Required(TEXT, " when trace.otel is set"),
            "url_path": Required(URL_PATH, " when trace.otel is set"),
            "compression": GO_BOOL,
            "insecure": GO_BOOL,
            "timeout": POSITIVE,
        }, empty_off=True),
    }, gate="enabled"),
    "upload_purging": Block({
        "enabled": BOOL,
        "age": _hours(2),
        "interval": _hours(2),
        "dryrun": BOOL,
    }, gate="enabled"),
    "cache": Block({
        "enabled": BOOL,
        "expire_hours": Required(_int(1, text=False), " when cache.enabled is true"),
    }, gate="enabled"),
    "core": Block({"quota_update_provider": _choice(("redis", "db"))}),
})


# ---------------------------------------------------------------- the release at hand


class _Release:
    """What validate knows of the release: its template, its name, its (major, minor)."""

    def __init__(self, config, template, version):
        self.template = template if isinstance(template, dict) else None
        self.version = version
        self.too_new = []  # keys set that the release does not have (KEYS_SINCE)
        self.number = None
        if version is not None:
            match = _RELEASE_RE.match(str(version))
            if not match:
                raise ValueError("version must be a release tag like 'v2.15.2', got %r" % (version,))
            self.number = (int(match.group(1)), int(match.group(2)))
        else:
            match = _VERSION_RE.match(str(config.get("_version") or ""))
            if match:
                self.number = (int(match.group(1)), int(match.group(2)))

    def name(self):
        if self.version is not None:
            return "harbor.yml %s" % self.version
        if self.number is not None:
            return "harbor.yml %d.%d" % self.number
        return "the release's harbor.yml"

    def in_template(self, parts):
        value = self.template
        for key in parts:
            if not isinstance(value, dict) or key not in value:
                return False
            value = value[key]
        return True


def _schema_knows(parts):
    check = SCHEMA
    for index, key in enumerate(parts):
        check = _unwrap(check)
        if check in FREE_FORM:
            return index > 0
        if not isinstance(check, Block) or key not in check.fields:
            return False
        check = check.fields[key]
    return True


def _unknown_keys(config, release, errors):
    """Keys neither this collection nor (when given) the release's own template knows."""

    def walk(value, block, parts):
        for key in value:
            sub = parts + (key,)
            dotted = ".".join(map(str, sub))
            if key in block.fields:
                inner = _unwrap(block.fields[key])
                if isinstance(inner, Block) and isinstance(value[key], dict):
                    walk(value[key], inner, sub)
            elif release.template is None:
                errors.append("%s: unknown key; known keys here: %s" % (dotted, ", ".join(sorted(block.fields))))
            elif not release.in_template(sub):
                errors.append("%s: not a key of %s (its harbor.yml.tmpl) nor one this collection knows; "
                              "known keys here: %s" % (dotted, release.name(), ", ".join(sorted(block.fields))))

    walk(config, SCHEMA, ())


# ---------------------------------------------------------------- cross-field rules


def _get(config, dotted):
    """Value at a dotted path, or None when any level is missing or not a mapping."""
    value = config
    for key in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _hostname_rules(config, errors, release):
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


def _ports(config):
    """(http port, https port or None) as prepare reads them, None where not an integer."""
    http = config.get("http") if isinstance(config.get("http"), dict) else {}
    http_port = _as_int(http.get("port", 80))
    https = config.get("https")
    if not (isinstance(https, dict) and https):
        return http_port, None
    return http_port, _as_int(https.get("port", 443))


def _https_rules(config, errors, release):
    https = config.get("https")
    if not (isinstance(https, dict) and https):
        return
    for key, placeholder in (("certificate", PLACEHOLDER_CERTIFICATE), ("private_key", PLACEHOLDER_PRIVATE_KEY)):
        value = https.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        if value == placeholder:
            errors.append("https.%s: still the template placeholder %s; set the path on the Harbor host "
                          "(or remove https for plain HTTP)" % (key, placeholder))
        elif not _abs_path(value):
            errors.append("https.%s: must be an absolute path on the Harbor host, got %r" % (key, value))
    http_port, https_port = _ports(config)
    if http_port is not None and http_port == https_port:
        errors.append("https.port: must differ from http.port (both are %s)" % https_port)


def _ip_family_rules(config, errors, release):
    family = config.get("ip_family")
    https = config.get("https")
    tls = config.get("internal_tls")
    used_by = "https" if isinstance(https, dict) and https else \
        "internal_tls" if isinstance(tls, dict) and tls.get("enabled") is True else None
    if not (isinstance(family, dict) and family) or used_by is None:
        return  # prepare uses its default, or never reads ip_family (plain HTTP, no internal TLS)
    enabled = []
    for name in ("ipv4", "ipv6"):
        block = family.get(name)
        if block is None:
            errors.append("ip_family.%s: is required when ip_family is set and %s is on: prepare's nginx "
                          "template reads ip_family.%s.enabled and crashes without it" % (name, used_by, name))
        elif not isinstance(block, dict):
            errors.append("ip_family.%s: must be a mapping like {enabled: true}, got a value of type %s; "
                          "prepare would read it as disabled" % (name, _type_name(block)))
        else:
            _check_field(errors, "ip_family.%s.enabled" % name, block.get("enabled"), BOOL)
            enabled += [name] if block.get("enabled") is True else []
    if not enabled and not any(e.startswith("ip_family.") for e in errors):
        errors.append("ip_family: neither ipv4 nor ipv6 is enabled: nginx would listen on no address")


def _database_rules(config, errors, release):
    external = config.get("external_database")
    database = config.get("database")
    if not (isinstance(external, dict) and external) and not database:
        errors.append("database: is required unless external_database is set (prepare crashes without either)")


def _storage_rules(config, errors, release):
    storage = config.get("storage_service")
    if not isinstance(storage, dict):
        return
    backends = [name for name in STORAGE_BACKENDS if storage.get(name) is not None]
    if len(backends) > 1:
        used = next((name for name in STORAGE_BACKENDS if storage.get(name)), "filesystem")
        errors.append(
            "storage_service: one storage backend at most (one of %s), found %s; prepare would silently use %s "
            "(the first one set that is not empty). List the others in install_config_remove (e.g. 'storage_service.%s')"
            % (", ".join(STORAGE_BACKENDS), ", ".join(backends), used,
               next(name for name in backends if name != used)))
    for name in backends:
        _backend_rules(name, storage[name], errors)


def _backend_rules(name, params, errors):
    path = "storage_service." + name
    if not isinstance(params, dict):
        errors.append("%s: must be a mapping of the %s driver's parameters, got a value of type %s"
                      % (path, name, _type_name(params)))
        return
    for key in _BACKEND_REQUIRED.get(name, ()):
        _check_field(errors, "%s.%s" % (path, key), params.get(key),
                     Required(SECRET, " for the %s driver (the registry does not start without it)" % name))
    if name == "s3" and (params.get("accesskey") is None) != (params.get("secretkey") is None):
        errors.append("%s.secretkey: accesskey and secretkey go together: set both, or neither to use an "
                      "instance role" % path)
    if name == "filesystem" and params.get("maxthreads") is not None:
        _int(25, why="; the registry refuses fewer than 25")(errors, path + ".maxthreads", params["maxthreads"])


def _trace_rules(config, errors, release):
    trace = config.get("trace")
    if not isinstance(trace, dict):
        return
    if trace.get("enabled") is not True:
        for name in ("jaeger", "otel"):  # prepare reads them even when trace is off
            if trace.get(name) and not isinstance(trace.get(name), dict):
                errors.append("trace.%s: must be a mapping, got a value of type %s" % (name, _type_name(trace[name])))
        return
    exporters = [name for name in ("jaeger", "otel") if trace.get(name)]
    if len(exporters) == 2:
        errors.append("trace: only one trace exporter at a time: set jaeger or otel, not both")
    elif not exporters:
        errors.append("trace: enabled but no exporter: set trace.jaeger or trace.otel")
    jaeger = trace.get("jaeger")
    if isinstance(jaeger, dict) and jaeger:
        has = [key for key in ("endpoint", "agent_host") if jaeger.get(key)]
        if len(has) != 1:
            errors.append("trace.jaeger: set exactly one of endpoint (collector mode) or agent_host (agent mode), got %s"
                          % (" and ".join(has) or "neither"))


def _redis_rules(config, errors, release):
    internal = config.get("redis")
    external = config.get("external_redis")
    if isinstance(internal, dict) and internal and isinstance(external, dict) and external:
        errors.append("redis: set redis (the bundled Redis) or external_redis, not both: prepare then ignores "
                      "external_redis's host yet does not start the bundled Redis")
    for block_name, block in (("redis", internal), ("external_redis", external)):
        if not isinstance(block, dict):
            continue
        for name in ("registry_db_index", "jobservice_db_index", "trivy_db_index"):
            if _as_int(block.get(name)) == 0:
                errors.append("%s.%s: must not be 0: database 0 is core's (prepare ignores an unquoted 0 and "
                              "keeps its default)" % (block_name, name))
    host = _get(config, "external_redis.host")
    if isinstance(host, str) and "," in host and not _get(config, "external_redis.sentinel_master_set"):
        errors.append("external_redis.sentinel_master_set: is required when external_redis.host lists several "
                      "hosts (redis+sentinel)")


def _metric_rules(config, errors, release):
    metric = config.get("metric")
    if not (isinstance(metric, dict) and metric.get("enabled") is True):
        return
    port = _as_int(metric.get("port"))
    if port is not None and port in _ports(config):
        errors.append("metric.port: must differ from http.port and https.port (%s is taken)" % port)


def _version_rules(config, errors, release):
    if release.number is not None:
        for dotted, since in sorted(KEYS_SINCE.items()):
            parent, key = dotted.rsplit(".", 1)
            block = _get(config, parent)
            if release.number < since and isinstance(block, dict) and block.get(key) is not None \
                    and not release.in_template(tuple(dotted.split("."))):
                release.too_new.append(dotted)
                errors.append("%s: not a key of %s (first in %d.%d): prepare of this release ignores it; "
                              "remove it or use a newer release" % ((dotted, release.name()) + since))
    own = (release.template or {}).get("_version")
    mine = config.get("_version")
    if own is not None and mine is not None and str(mine) != str(own):
        errors.append("_version: must stay %s, the value of the release's harbor.yml.tmpl (prepare's migrate "
                      "reads it to upgrade harbor.yml), got %s" % (own, _show(mine)))


_RULES = (
    _hostname_rules,
    _https_rules,
    _ip_family_rules,
    _database_rules,
    _storage_rules,
    _trace_rules,
    _redis_rules,
    _metric_rules,
    _version_rules,
)


# ---------------------------------------------------------------- the user's own input


def _user_errors(user, errors):
    """install_config: a mapping without null (deletion is install_config_remove's job).

    Returns the dotted keys set to null: what the merge did with them is not reported again.
    """
    if not isinstance(user, dict):
        errors.append("%s: must be a mapping of harbor.yml keys, got a value of type %s" % (USER, _type_name(user)))
        return []
    nulls = []

    def walk(value, parts):
        for key, item in value.items():
            dotted = ".".join(map(str, parts + (key,)))
            if item is None:
                nulls.append(dotted)
                errors.append("%s.%s: null is not a value; to remove a key of the release's harbor.yml, list '%s' "
                              "in %s" % (USER, dotted, dotted, REMOVE))
            elif isinstance(item, dict):
                walk(item, parts + (key,))

    walk(user, ())
    return nulls


def _remove_entry_errors(remove, user, release, errors):
    problems = remove_errors(remove)
    errors.extend(problems)
    if problems:
        return
    for index, path in enumerate(remove):
        parts = tuple(path.split("."))
        if user is not None and _get(user, path) is not None:
            errors.append("%s[%d]: '%s' is also set in %s: the key would be removed after the merge; "
                          "drop one of the two" % (REMOVE, index, path, USER))
        elif not _schema_knows(parts) and not release.in_template(parts):
            errors.append("%s[%d]: '%s' is not a key of %s%s nor one this collection knows"
                          % (REMOVE, index, path, release.name(),
                             " (its harbor.yml.tmpl)" if release.template is not None else ""))


# ---------------------------------------------------------------- validate


def validate(config, template=None, user=None, version=None, remove=None):
    """Return a list of error strings for a full (merged) harbor.yml dict; [] when valid.

    template: the release's harbor.yml.tmpl as a dict. When given, a key it holds is
    accepted even if this collection does not know it (a newer release's key); without
    it every unknown key is an error.
    user: the user's install_config dict: a null in it is an error (deletion is
    ``remove``'s job). Not checked when None.
    version: the release tag (``v2.15.2``) for the version-dependent rules; without it
    the config's ``_version`` decides.
    remove: the user's install_config_remove list, already applied to config; its
    entries must be dotted keys the release (or this collection) knows.
    """
    errors = []
    if not isinstance(config, dict):
        return ["%s: must be a mapping, got %s" % (ROOT, _show(config))]
    release = _Release(config, template, version)
    nulls = _user_errors(user, errors) if user is not None else []
    if remove is not None:
        _remove_entry_errors(remove, user if isinstance(user, dict) else None, release, errors)
    found = []
    _unknown_keys(config, release, found)
    SCHEMA(found, ROOT, config)
    for rule in _RULES:
        rule(config, found, release)
    # a key the user set to null is reported once, as such, not again as missing; what is
    # below a key the release does not have does not matter
    skip = [path + sep for path in nulls for sep in ":."] + [path + "." for path in release.too_new]
    errors.extend(error for error in found if not error.startswith(tuple(skip)))
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
