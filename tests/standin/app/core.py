#!/usr/bin/env python3
"""Stand-in harbor-core.

What the roles can see of Harbor's core, written small: the health, ping and
systeminfo API, projects, the admin user (password set from
HARBOR_ADMIN_PASSWORD at first start only, kept in PostgreSQL), the registry
token service (RS256 JWTs the distribution registry checks), and the /v2/
proxy in front of the registry (basic auth is turned into a token, as Harbor
does). Reads its settings from the env file prepare renders
(common/config/core/env) and its signing key from /etc/core/private_key.pem.

At start it migrates the database schema up to its release's version
(HARBOR_STANDIN_SCHEMA) and refuses to start on a newer schema. While
configurations.read_only is true, writes (registry pushes and deletes through
/v2/, API POST/PUT/PATCH/DELETE but PUT /configurations) answer 403 DENIED.
HARBOR_STANDIN_FAULT=unhealthy-after-migrate (the test release v2.15.3):
migrate, then report core unhealthy for ever.

The configuration-as-code API (projects with metadata, quotas and proxy cache
registries, robots, registries and their ping, a simulated GC, configurations)
follows v2.15.2's swagger: request bodies are checked against it (apischema.py).
Registries, quotas, GC runs and the GC schedule live in the properties table.
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone

import psycopg2
import redis

import apischema
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

VERSION = os.environ.get("HARBOR_STANDIN_VERSION", "dev")
BUILD = f"{VERSION}-standin"
ENV = os.environ.get
EXT_ENDPOINT = ENV("EXT_ENDPOINT", "http://localhost").rstrip("/")
REGISTRY_URL = ENV("REGISTRY_URL", "http://registry:5000")
PORTAL_URL = ENV("PORTAL_URL", "http://portal:8080")
JOBSERVICE_URL = ENV("JOBSERVICE_URL", "http://jobservice:8080")
REGISTRYCTL_URL = ENV("REGISTRY_CONTROLLER_URL", "http://registryctl:8080")
TRIVY_URL = ENV("TRIVY_ADAPTER_URL", "http://trivy-adapter:8080")
WITH_TRIVY = ENV("WITH_TRIVY", "false").lower() == "true"
TOKEN_ISSUER = ENV("TOKEN_ISSUER", "harbor-token-issuer")
TOKEN_SERVICE = ENV("TOKEN_SERVICE_NAME", "harbor-registry")
TOKEN_EXPIRATION = int(ENV("TOKEN_EXPIRATION", "30")) * 60
KEY_PATH = ENV("TOKEN_PRIVATE_KEY_PATH", "/etc/core/private_key.pem")
PORT = int(ENV("PORT", "8080"))
PROJECT_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
       "trailer", "trailers", "transfer-encoding", "upgrade"}


def log(msg):
    sys.stderr.write(f"{datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')} [core] {msg}\n")
    sys.stderr.flush()


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- database
def db_connect(timeout=5):
    return psycopg2.connect(
        host=ENV("POSTGRESQL_HOST", "postgresql"), port=int(ENV("POSTGRESQL_PORT", "5432")),
        user=ENV("POSTGRESQL_USERNAME", "postgres"), password=ENV("POSTGRESQL_PASSWORD", ""),
        dbname=ENV("POSTGRESQL_DATABASE", "registry"), sslmode=ENV("POSTGRESQL_SSLMODE", "disable"),
        connect_timeout=timeout)


class DB:
    """One short connection per call: simple, and survives a database restart."""

    @staticmethod
    def q(sql, args=(), fetch="all"):
        conn = db_connect()
        try:
            with conn:
                with conn.cursor() as cur:
                    cur.execute(sql, args or None)  # no args: no %-formatting (LIKE 'x%')
                    if fetch == "all":
                        return cur.fetchall()
                    if fetch == "one":
                        return cur.fetchone()
                    return cur.rowcount
        finally:
            conn.close()


# The schema, as numbered migrations (Harbor's golang-migrate files, small). Each
# release carries its own version (HARBOR_STANDIN_SCHEMA) and applies the steps up
# to it at start; a database that is already newer makes core refuse to start.
SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, " \
               "dirty boolean NOT NULL DEFAULT false)"
MIGRATIONS = [
    (140, "the base tables (users, projects, metadata, properties, robots)", """
CREATE TABLE IF NOT EXISTS harbor_user (
  user_id serial PRIMARY KEY, username varchar(255) UNIQUE NOT NULL, email varchar(255),
  password varchar(40) NOT NULL DEFAULT '', salt varchar(40) NOT NULL DEFAULT '',
  password_version varchar(16) DEFAULT 'sha256', realname varchar(255), comment varchar(30),
  sysadmin_flag boolean NOT NULL DEFAULT false,
  creation_time timestamp DEFAULT now(), update_time timestamp DEFAULT now());
CREATE TABLE IF NOT EXISTS project (
  project_id serial PRIMARY KEY, owner_id int NOT NULL, name varchar(255) UNIQUE NOT NULL,
  registry_id int NOT NULL DEFAULT 0, deleted boolean NOT NULL DEFAULT false,
  creation_time timestamp DEFAULT now(), update_time timestamp DEFAULT now());
CREATE TABLE IF NOT EXISTS project_metadata (
  id serial PRIMARY KEY, project_id int NOT NULL REFERENCES project(project_id) ON DELETE CASCADE,
  name varchar(255) NOT NULL, value varchar(255), UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS properties (k varchar(64) PRIMARY KEY, v text);
CREATE TABLE IF NOT EXISTS robot (
  id serial PRIMARY KEY, name varchar(255) UNIQUE NOT NULL, description varchar(1024) DEFAULT '',
  secret varchar(64) NOT NULL, salt varchar(40) NOT NULL, level varchar(16) NOT NULL DEFAULT 'system',
  project_id int NOT NULL DEFAULT 0, duration int NOT NULL DEFAULT -1, expires_at bigint NOT NULL DEFAULT -1,
  disabled boolean NOT NULL DEFAULT false, permissions text NOT NULL DEFAULT '[]',
  creation_time timestamp DEFAULT now(), update_time timestamp DEFAULT now());
"""),
    (150, "audit_log_ext (written by 150 and later)", """
CREATE TABLE audit_log_ext (
  id bigserial PRIMARY KEY, operation varchar(50) NOT NULL, resource_type varchar(255) NOT NULL,
  resource varchar(1024) NOT NULL, username varchar(255) NOT NULL, op_time timestamp DEFAULT now());
"""),
    (153, "robot.creator_type", """
ALTER TABLE robot ADD COLUMN creator_type varchar(255) NOT NULL DEFAULT 'local';
"""),
]
SCHEMA_VERSION = int(ENV("HARBOR_STANDIN_SCHEMA") or MIGRATIONS[-1][0])
# Test data: "unhealthy-after-migrate" = migrate, then report core unhealthy for ever
FAULT = ENV("HARBOR_STANDIN_FAULT", "")


def hash_password(password, salt):
    # Harbor's scheme: PBKDF2-SHA256, 4096 rounds, 16 bytes, hex
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 4096, 16).hex()


READY = threading.Event()


def migrate(conn, cur):
    """Bring the schema to SCHEMA_VERSION, one committed step at a time; refuse a newer one."""
    cur.execute(SCHEMA_TABLE)
    cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
    current = cur.fetchone()[0]
    conn.commit()
    if current > SCHEMA_VERSION:
        log(f"the database schema version {current} is newer than this release supports ({SCHEMA_VERSION}): "
            "refusing to start")
        os._exit(1)
    if current == SCHEMA_VERSION:
        log(f"database schema version {current}, nothing to migrate")
        return
    log(f"database schema version {current or 'none (empty database)'}, migrating to {SCHEMA_VERSION}")
    for version, what, sql in MIGRATIONS:
        if current < version <= SCHEMA_VERSION:
            cur.execute(sql)
            cur.execute("INSERT INTO schema_migrations (version, dirty) VALUES (%s, false)", (version,))
            conn.commit()
            log(f"migrated the database schema to {version}: {what}")
            current = version


def init_db():
    """Wait for PostgreSQL, migrate, seed admin and library: Harbor's first start."""
    deadline = time.time() + 600
    while True:
        try:
            conn = db_connect(3)
            break
        except Exception as exc:  # noqa: BLE001
            if time.time() > deadline:
                log(f"database never came up: {exc}")
                os._exit(1)
            log(f"waiting for the database: {exc}".strip())
            time.sleep(2)
    try:
        cur = conn.cursor()
        cur.execute("SELECT pg_advisory_lock(4242)")  # session lock: held across the commits below
        conn.commit()
        migrate(conn, cur)
        cur.execute("SELECT password FROM harbor_user WHERE username='admin'")
        row = cur.fetchone()
        if row is None or not row[0]:
            salt = secrets.token_hex(16)
            pw = hash_password(ENV("HARBOR_ADMIN_PASSWORD", "Harbor12345"), salt)
            if row is None:
                cur.execute("INSERT INTO harbor_user (user_id, username, email, password, salt, realname, "
                            "comment, sysadmin_flag) VALUES (1, 'admin', 'admin@example.com', %s, %s, "
                            "'system admin', 'admin user', true)", (pw, salt))
                cur.execute("INSERT INTO harbor_user (user_id, username, email, realname, comment) VALUES "
                            "(2, 'anonymous', 'anonymous@example.com', 'anonymous user', 'anonymous user')")
                cur.execute("SELECT setval('harbor_user_user_id_seq', 2)")
            else:
                cur.execute("UPDATE harbor_user SET password=%s, salt=%s WHERE username='admin'", (pw, salt))
            log("admin password set from HARBOR_ADMIN_PASSWORD (first start)")
        cur.execute("SELECT 1 FROM project WHERE project_id=1")
        if cur.fetchone() is None:
            cur.execute("INSERT INTO project (project_id, owner_id, name) VALUES (1, 1, 'library') "
                        "ON CONFLICT DO NOTHING")
            cur.execute("INSERT INTO project_metadata (project_id, name, value) VALUES (1, 'public', 'true') "
                        "ON CONFLICT DO NOTHING")
            cur.execute("SELECT setval('project_project_id_seq', GREATEST(1, (SELECT max(project_id) FROM project)))")
        cur.execute("INSERT INTO properties (k, v) VALUES ('harbor_version', %s) "
                    "ON CONFLICT (k) DO UPDATE SET v=EXCLUDED.v", (VERSION,))
        conn.commit()
        cur.execute("SELECT pg_advisory_unlock(4242)")
        conn.commit()
    except Exception as exc:  # noqa: BLE001
        log(f"failed to initialize the database: {exc!r}")  # Harbor's core exits too; docker restarts it
        os._exit(1)
    finally:
        conn.close()
    READY.set()
    log(f"database ready (schema version {SCHEMA_VERSION})")
    if FAULT == "unhealthy-after-migrate":
        log(f"stand-in test release {VERSION}: the schema is migrated to {SCHEMA_VERSION}, "
            "core now reports itself unhealthy for ever")


def audit(user, operation, resource_type, resource):
    """audit_log_ext rows, from schema 150 on (best effort: a log line when it fails)."""
    if SCHEMA_VERSION < 150:
        return
    try:
        DB.q("INSERT INTO audit_log_ext (operation, resource_type, resource, username) VALUES (%s, %s, %s, %s)",
             (operation, resource_type, resource, (user or {}).get("username") or "anonymous"), None)
    except Exception as exc:  # noqa: BLE001
        log(f"audit log: {exc!r}")


def check_user(username, password):
    """Return a user dict (user_id, username, sysadmin[, robot permissions]) when the credentials are right."""
    if not username:
        return None
    if username.startswith(robot_prefix()):
        return check_robot(username, password)
    row = DB.q("SELECT user_id, username, password, salt, sysadmin_flag FROM harbor_user WHERE username=%s",
               (username,), "one")
    if not row or not row[2]:
        return None
    if not secrets.compare_digest(row[2], hash_password(password, row[3])):
        return None
    return {"user_id": row[0], "username": row[1], "sysadmin": row[4]}


def check_robot(name, secret):
    row = DB.q("SELECT id, name, secret, salt, disabled, expires_at, permissions FROM robot WHERE name=%s",
               (name,), "one")
    if not row or row[4] or (row[5] != -1 and row[5] < time.time()):
        return None
    if not secrets.compare_digest(row[2], hash_password(secret, row[3])):
        return None
    return {"user_id": 0, "robot_id": row[0], "username": row[1], "sysadmin": False,
            "permissions": json.loads(row[6] or "[]")}


CONFIG_DEFAULTS = {
    "auth_mode": "db_auth", "primary_auth_mode": False, "project_creation_restriction": "everyone",
    "self_registration": False, "token_expiration": 30, "robot_token_duration": 30, "robot_name_prefix": "robot$",
    "read_only": False, "notification_enable": True, "quota_per_project_enable": True, "storage_per_project": -1,
    "count_per_project": -1, "session_timeout": 60, "banner_message": "", "audit_log_forward_endpoint": "",
    "skip_audit_log_database": False, "scanner_skip_update_pulltime": False, "pull_audit_log_disable": False,
    "email_host": "", "email_port": 25, "email_from": "admin <sample_admin@mydomain.com>", "email_ssl": False,
    "email_insecure": False, "email_identity": "", "email_username": "", "ldap_url": "", "ldap_base_dn": "",
    "ldap_search_dn": "", "ldap_filter": "", "ldap_uid": "cn", "ldap_scope": 2, "ldap_timeout": 5,
    "ldap_verify_cert": True, "ldap_group_base_dn": "", "ldap_group_search_filter": "",
    "ldap_group_attribute_name": "", "ldap_group_search_scope": 2, "ldap_group_admin_dn": "",
    "ldap_group_membership_attribute": "memberof", "oidc_name": "", "oidc_endpoint": "", "oidc_client_id": "",
    "oidc_groups_claim": "", "oidc_admin_group": "", "oidc_scope": "", "oidc_user_claim": "",
    "oidc_verify_cert": True, "oidc_auto_onboard": False, "http_authproxy_endpoint": "",
    "http_authproxy_tokenreview_endpoint": "", "http_authproxy_verify_cert": True,
    "http_authproxy_skip_search": False, "http_authproxy_server_certificate": "",
    "http_authproxy_admin_groups": "", "http_authproxy_admin_usernames": "", "uaa_client_id": "",
    "uaa_endpoint": "", "uaa_verify_cert": True, "ldap_group_attach_parallel": False, "oidc_group_filter": "",
    "oidc_extra_redirect_parms": "", "oidc_logout": False, "disabled_audit_log_event_types": ""}
# accepted by PUT /configurations, never shown by GET (the first two are not in the swagger's
# ConfigurationsResponse; Harbor does not show uaa_client_secret either, the swagger lists it)
WRITE_ONLY_CONFIGS = {"ldap_search_password", "oidc_client_secret", "uaa_client_secret"}


def configs():
    out = dict(CONFIG_DEFAULTS)
    for k, v in DB.q("SELECT k, v FROM properties WHERE k LIKE 'cfg:%'"):
        out[k[4:]] = json.loads(v)
    return out


READ_ONLY = {"at": 0.0, "value": False}
READ_ONLY_TTL = 0.3  # seconds; PUT /configurations resets it, so this core sees a change at once
READ_ONLY_MESSAGE = "The system is in read only mode. Any modification is prohibited."
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def read_only():
    """configurations.read_only, read from the database (cached READ_ONLY_TTL)."""
    now = time.monotonic()
    if now - READ_ONLY["at"] > READ_ONLY_TTL:
        row = DB.q("SELECT v FROM properties WHERE k='cfg:read_only'", (), "one")
        READ_ONLY.update(at=now, value=bool(json.loads(row[0])) if row else False)
    return READ_ONLY["value"]


def robot_prefix():
    try:
        return configs().get("robot_name_prefix") or "robot$"
    except Exception:  # noqa: BLE001
        return "robot$"


def valid_secret(secret):
    """Harbor's robot secret rule: 8-128 characters, an uppercase letter, a lowercase letter and a digit."""
    return (8 <= len(secret) <= 128 and bool(re.search(r"[A-Z]", secret)) and bool(re.search(r"[a-z]", secret))
            and bool(re.search(r"[0-9]", secret)))


def new_secret():
    while True:
        secret = secrets.token_urlsafe(24)
        if valid_secret(secret):
            return secret
# ---------------------------------------------------------------- API helpers
class ApiError(Exception):
    """An answer in Harbor's error shape: {"errors":[{"code": code, "message": message}]}."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message):
    return ApiError(400, "BAD_REQUEST", message)


def not_found(message):
    return ApiError(404, "NOT_FOUND", message)


def prop_get(key):
    row = DB.q("SELECT v FROM properties WHERE k=%s", (key,), "one")
    return json.loads(row[0]) if row else None


def prop_put(key, value):
    DB.q("INSERT INTO properties (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v=EXCLUDED.v",
         (key, json.dumps(value)), None)


def prop_del(key):
    DB.q("DELETE FROM properties WHERE k=%s", (key,), None)


def prop_list(prefix):
    """{key: value} of the properties whose key starts with prefix (ids after it, numeric order)."""
    rows = DB.q("SELECT k, v FROM properties WHERE k LIKE %s", (prefix + "%",))
    return dict(sorted(((k, json.loads(v)) for k, v in rows), key=lambda kv: int(kv[0][len(prefix):] or 0)))


def next_id(name):
    """A sequence kept in properties (seq:<name>): the new resources' ids (registries, GC runs)."""
    row = DB.q("INSERT INTO properties (k, v) VALUES (%s, '1') ON CONFLICT (k) DO UPDATE "
               "SET v=(properties.v::bigint + 1)::text RETURNING v", ("seq:" + name,), "one")
    return int(row[0])


def parse_q(query):
    """Harbor's q=k1=v1,k2=~v2 (exact and fuzzy match; ranges and lists are not read): {k: (op, v)}."""
    out = {}
    for cond in ",".join(query.get("q", [])).split(","):
        key, sep, val = cond.partition("=")
        if not sep or not key.strip():
            continue
        op = "="
        if val.startswith("~"):
            op, val = "~", val[1:]
        out[key.strip()] = (op, val.strip().strip("\"'"))
    return out


def q_match(cond, value):
    op, want = cond
    return want in str(value) if op == "~" else str(value) == want


def page_args(query):
    """(page, page_size) from the query, as the swagger's page/pageSize parameters (page_size at most 100)."""
    vals = {}
    for name, default in (("page", 1), ("page_size", 10)):
        raw = (query.get(name) or [""])[0]
        try:
            vals[name] = int(raw) if raw != "" else default
        except ValueError:
            raise bad_request(f"{name} in query must be of type int64: \"{raw}\"") from None
    if vals["page_size"] > 100:
        raise bad_request("page_size in query should be less than or equal to 100")
    return max(1, vals["page"]), (vals["page_size"] if vals["page_size"] > 0 else 10)


def iso(ts):
    """A datetime (naive UTC, from PostgreSQL) or epoch seconds as Harbor prints times."""
    if isinstance(ts, (int, float)):
        ts = datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


GO_BOOL = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
           "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
BOOL_META = ("public", "enable_content_trust", "enable_content_trust_cosign", "prevent_vul", "auto_scan",
             "reuse_sys_cve_allowlist", "auto_sbom_generation")
SEVERITIES = ("none", "low", "medium", "high", "critical")
# GET /replication/adapters (Harbor v2.15's registry types); PROXY_TYPES may back a proxy cache project
ADAPTERS = ["ali-acr", "aws-ecr", "azure-acr", "docker-hub", "docker-registry", "dtr", "github-ghcr", "gitlab",
            "google-gcr", "harbor", "huawei-SWR", "jfrog-artifactory", "quay", "tencent-tcr", "volcengine-cr"]
PROXY_TYPES = {"aws-ecr", "azure-acr", "docker-hub", "docker-registry", "github-ghcr", "google-gcr", "harbor",
               "jfrog-artifactory", "quay"}


def project_metadata(meta):
    """ProjectMetadata -> the stored strings, checked as Harbor's project handler does."""
    out = {}
    for key, value in (meta or {}).items():
        if value is None:
            continue
        if key in BOOL_META:
            if value not in GO_BOOL:
                raise bad_request(f'failed to parse {value} to bool: strconv.ParseBool: parsing "{value}": '
                                  "invalid syntax")
            out[key] = "true" if GO_BOOL[value] else "false"
        elif key == "severity":
            if str(value).lower() not in SEVERITIES:
                raise bad_request(f"invalid severity {value}")
            out[key] = str(value).lower()
        elif key in ("retention_id", "proxy_speed_kb"):
            out[key] = str(value)
    return out


def reachable(url, timeout=2.0):
    """registries/ping: the URL's host resolves and its port accepts a TCP connection within `timeout`."""
    u = urllib.parse.urlparse(url or "")
    if u.scheme not in ("http", "https") or not u.hostname:
        return False
    try:
        port = u.port or (443 if u.scheme == "https" else 80)
    except ValueError:
        return False
    result = []

    def probe():
        try:
            socket.create_connection((u.hostname, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            pass
    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout)  # DNS has no timeout of its own: the thread may go on, the answer does not wait
    return bool(result)


# GET /permissions: what a robot account may be given, as Harbor v2.15 lists it (resource, actions).
_CRUDL = ("read", "create", "delete", "list", "update")
PERMISSIONS = {
    "system": (("audit-log", ("list",)), ("preheat-instance", _CRUDL), ("project", ("list", "create")),
               ("replication-policy", _CRUDL), ("replication", ("read", "create", "list")),
               ("replication-adapter", ("list",)), ("registry", _CRUDL),
               ("scan-all", ("read", "update", "stop", "create")), ("system-volumes", ("read",)),
               ("garbage-collection", ("read", "create", "list", "update", "stop")),
               ("purge-audit", ("read", "create", "list", "update", "stop")),
               ("jobservice-monitor", ("list", "stop")), ("scanner", _CRUDL),
               ("label", ("read", "create", "delete", "update")), ("security-hub", ("read", "list")),
               ("catalog", ("read",)), ("quota", ("read", "list"))),
    "project": (("log", ("list",)), ("project", ("read", "delete", "update")), ("metadata", _CRUDL),
                ("repository", ("read", "update", "delete", "list", "pull", "push")),
                ("artifact", ("read", "create", "list", "delete")), ("scan", ("create", "read", "stop")),
                ("sbom", ("create", "stop", "read")), ("tag", ("create", "list", "delete")),
                ("accessory", ("list",)), ("artifact-addition", ("read",)),
                ("artifact-label", ("create", "delete")), ("scanner", ("create", "read")),
                ("preheat-policy", _CRUDL), ("immutable-tag", ("create", "delete", "list", "update")),
                ("notification-policy", _CRUDL), ("tag-retention", _CRUDL), ("label", _CRUDL)),
}

# GC runs are simulated: Pending for GC_PENDING s, Running until GC_DONE s, then Success (nothing is deleted)
GC_PENDING, GC_DONE = 1.0, 3.0
GC_CRON = {"Hourly": "0 0 * * * *", "Daily": "0 0 0 * * *", "Weekly": "0 0 0 * * 0"}


def gc_status(run):
    if run.get("stopped"):
        return "Stopped"
    age = time.time() - run["created"]
    return "Pending" if age < GC_PENDING else "Running" if age < GC_DONE else "Success"


def check_cron(cron):
    """Harbor's crons have 6 fields (seconds first)."""
    fields = (cron or "").split()
    if len(fields) != 6 or not all(re.match(r"^[0-9*/,?LW#A-Za-z-]+$", f) for f in fields):
        raise bad_request(f"invalid cron expression {cron!r}: a 6 field cron (second minute hour day month "
                          "weekday) is needed")


# ---------------------------------------------------------------- tokens
class Signer:
    def __init__(self, path):
        with open(path, "rb") as fh:
            self.key = serialization.load_pem_private_key(fh.read(), password=None)
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
        self.kid = ":".join(b32[i:i + 4] for i in range(0, len(b32), 4))

    @staticmethod
    def _b64(data):
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def token(self, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        claims = {"iss": TOKEN_ISSUER, "sub": subject, "aud": TOKEN_SERVICE, "exp": now + token_ttl(),
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(16), "access": access}
        signing_input = f"{self._b64(json.dumps(header, separators=(',', ':')).encode())}." \
                        f"{self._b64(json.dumps(claims, separators=(',', ':')).encode())}"
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{self._b64(sig)}"


SIGNER = None


def token_ttl():
    try:
        return int(configs().get("token_expiration") or 30) * 60
    except Exception:  # noqa: BLE001
        return TOKEN_EXPIRATION


def project_row(name):
    """(project_id, name, owner_id, creation_time, update_time, public 'true'/'false', registry_id) or None."""
    row = DB.q("SELECT p.project_id, p.name, p.owner_id, p.creation_time, p.update_time, "
               "coalesce((SELECT value FROM project_metadata m WHERE m.project_id=p.project_id AND m.name='public'),"
               " 'false'), p.registry_id FROM project p WHERE p.name=%s AND NOT p.deleted", (name,), "one")
    return row


def grant(user, scopes):
    """Harbor's rules, small: admin gets what it asks on existing projects;
    anyone may pull from a public project."""
    access = []
    for scope in scopes:
        parts = scope.split(":")
        if len(parts) < 3:
            continue
        rtype, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
        allowed = []
        if rtype == "registry" and name == "catalog":
            if user and user["sysadmin"]:
                allowed = [a for a in actions if a == "*"]
        elif rtype.startswith("repository"):
            project = name.split("/", 1)[0] if "/" in name else None
            row = project_row(project) if project else None
            if row:
                if user and user["sysadmin"]:
                    allowed = [a for a in actions if a in ("pull", "push", "delete", "*")]
                else:
                    granted = robot_actions(user, project) if user and "permissions" in user else set()
                    if row[5] == "true":
                        granted.add("pull")
                    allowed = [a for a in actions if a in granted]
        access.append({"type": rtype, "name": name, "actions": allowed})
    return access


def robot_actions(robot, project):
    """Registry actions a robot's permissions give on a project."""
    acts = set()
    for perm in robot.get("permissions") or []:
        if perm.get("kind") != "project" or perm.get("namespace") not in (project, "*"):
            continue
        for acc in perm.get("access") or []:
            if acc.get("resource") in ("repository", "artifact") and acc.get("action") in ("pull", "push", "delete"):
                acts.add(acc["action"])
    if "push" in acts:
        acts.add("pull")  # Harbor: push implies pull
    return acts


# ---------------------------------------------------------------- health
HEALTH = {}
HEALTH_LOCK = threading.Lock()
COMPONENTS = ["core", "database", "jobservice", "portal", "redis", "registry", "registryctl"] + (
    ["trivy"] if WITH_TRIVY else [])


def http_probe(url, path):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=3)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"unexpected status code: {resp.status}")
    finally:
        conn.close()


def check(name):
    if name == "core":
        if FAULT == "unhealthy-after-migrate" and READY.is_set():
            raise RuntimeError(f"stand-in test release {VERSION} breaks after migrating the database schema "
                               f"to {SCHEMA_VERSION}")
        return
    if name == "database":
        conn = db_connect(3)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            conn.close()
        return
    if name == "redis":
        redis.Redis.from_url(ENV("_REDIS_URL_CORE", "redis://redis:6379").split("?")[0],
                             socket_timeout=3, socket_connect_timeout=3).ping()
        return
    url, path = {"portal": (PORTAL_URL, "/"), "jobservice": (JOBSERVICE_URL, "/api/v1/stats"),
                 "registry": (REGISTRY_URL, "/"), "registryctl": (REGISTRYCTL_URL, "/api/health"),
                 "trivy": (TRIVY_URL, "/probe/healthy")}[name]
    http_probe(url, path)


def health_loop():
    time.sleep(3)
    while True:
        results = {}
        threads = []

        def run(n):
            try:
                check(n)
                results[n] = None
            except Exception as exc:  # noqa: BLE001
                results[n] = f"failed to check the health status of {n}: {exc}"
        for n in COMPONENTS:
            t = threading.Thread(target=run, args=(n,), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(5)
        with HEALTH_LOCK:
            for n in COMPONENTS:
                HEALTH[n] = results.get(n, f"failed to check the health status of {n}: timeout")
        time.sleep(5)


def health_body():
    comps = []
    with HEALTH_LOCK:
        for n in COMPONENTS:
            if n not in HEALTH:
                comps.append({"name": n, "status": "unhealthy", "error": "unknown status"})
            elif HEALTH[n]:
                comps.append({"name": n, "status": "unhealthy", "error": HEALTH[n]})
            else:
                comps.append({"name": n, "status": "healthy"})
    overall = "healthy" if all(c["status"] == "healthy" for c in comps) else "unhealthy"
    return {"status": overall, "components": comps}


# ---------------------------------------------------------------- HTTP
class ChunkedReader:
    """Iterate a request body: Content-Length or chunked."""

    def __init__(self, rfile, headers):
        self.rfile, self.headers = rfile, headers

    def __iter__(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    data = self.rfile.read(min(left, 65536))
                    if not data:
                        return
                    left -= len(data)
                    yield data
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                data = self.rfile.read(min(left, 65536))
                if not data:
                    return
                left -= len(data)
                yield data


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "harbor-core-standin"
    sys_version = ""

    def log_message(self, fmt, *args):  # access log on stderr
        log(f"{self.address_string()} {fmt % args}")

    # -------------------------------------------------- helpers
    def send_json(self, status, body, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_text(self, status, text, ctype="text/plain; charset=utf-8"):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def error(self, status, code, message, headers=None):
        self.send_json(status, {"errors": [{"code": code, "message": message}]}, headers)

    def read_body(self):
        return b"".join(ChunkedReader(self.rfile, self.headers))

    def basic_auth(self):
        """(username, password) from a Basic Authorization header, or None."""
        auth = self.headers.get("Authorization") or ""
        if not auth.lower().startswith("basic "):
            return None
        try:
            user, _, pw = base64.b64decode(auth[6:].strip()).decode().partition(":")
            return user, pw
        except Exception:  # noqa: BLE001
            return ("", "")

    def wait_ready(self):
        if not READY.wait(30):
            self.error(503, "SERVICE_UNAVAILABLE", "core is starting")
            return False
        return True

    def current_user(self):
        """None (anonymous), a user dict, or False (bad credentials)."""
        creds = self.basic_auth()
        if creds is None:
            return None
        user = check_user(*creds)
        return user if user else False

    # -------------------------------------------------- dispatch
    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_PATCH(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def route(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == "/v2" or path.startswith("/v2/"):
                return self.proxy_registry()
            if path == "/service/token":
                return self.token()
            if path.startswith("/service/notifications"):
                self.read_body()
                return self.send_json(200, None)
            if path.startswith("/api/v2.0/"):
                return self.api(path[len("/api/v2.0"):])
            if path == "/api/version":
                return self.send_json(200, {"version": "v2.0"})
            self.read_body()
            self.error(404, "NOT_FOUND", f"{path} not found")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001
            log(f"error on {self.command} {self.path}: {exc!r}")
            try:
                self.error(500, "UNKNOWN", "internal server error")
            except Exception:  # noqa: BLE001
                self.close_connection = True

    # -------------------------------------------------- token service
    def token(self):
        if self.command not in ("GET", "POST"):
            return self.error(405, "METHOD_NOT_ALLOWED", "method not allowed")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        if not self.wait_ready():
            return
        creds = self.basic_auth()
        if self.command == "POST":
            # OAuth2 as containerd asks: grant_type=password|refresh_token
            form = urllib.parse.parse_qs(self.read_body().decode(), keep_blank_values=True)
            grant_type = (form.get("grant_type") or [""])[0]
            if grant_type == "password":
                creds = ((form.get("username") or [""])[0], (form.get("password") or [""])[0])
            elif grant_type:
                return self.error(400, "UNSUPPORTED_GRANT_TYPE", f"grant_type {grant_type} is not supported")
            scopes = []
            for s in form.get("scope", []) + query.get("scope", []):
                scopes.extend(s.split())
        else:
            scopes = []
            for s in query.get("scope", []):
                scopes.extend(s.split())
        user = None
        if creds is not None:
            user = check_user(*creds)
            if not user:
                return self.error(401, "UNAUTHORIZED", "invalid credentials",
                                  {"Www-Authenticate": f'Basic realm="{EXT_ENDPOINT}/service/token"'})
        tok = SIGNER.token(user["username"] if user else "", grant(user, scopes))
        self.send_json(200, {"token": tok, "access_token": tok, "expires_in": token_ttl(),
                             "issued_at": now_iso()})

    # -------------------------------------------------- /v2/ proxy
    def proxy_registry(self):
        # a list, not a dict: clients send some headers (Accept) several times
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP]
        creds = self.basic_auth()
        if creds is not None:
            if not self.wait_ready():
                return
            user = check_user(*creds)
            if not user:
                for _ in ChunkedReader(self.rfile, self.headers):
                    pass
                return self.error(401, "UNAUTHORIZED", "authentication required", {
                    "Www-Authenticate": f'Bearer realm="{EXT_ENDPOINT}/service/token",service="{TOKEN_SERVICE}"',
                    "Docker-Distribution-Api-Version": "registry/2.0"})
            path = urllib.parse.urlsplit(self.path).path
            scopes = []
            if path.rstrip("/") == "/v2/_catalog":
                scopes = ["registry:catalog:*"]
            else:
                m = re.match(r"^/v2/(.+?)/(manifests|blobs|tags|referrers)(/|$)", path)
                if m:
                    actions = "pull" if self.command in ("GET", "HEAD") else (
                        "delete" if self.command == "DELETE" else "pull,push")
                    scopes = [f"repository:{m.group(1)}:{actions}"]
            headers = [(k, v) for k, v in headers if k.lower() != "authorization"]
            headers.append(("Authorization", "Bearer " + SIGNER.token(user["username"], grant(user, scopes))))
        if self.command not in SAFE_METHODS:
            # Harbor's read-only middleware: after the credentials check, before the registry
            if not self.wait_ready():
                return
            m = re.match(r"^/v2/([^/]+)/.+/(blobs/uploads|manifests)/", urllib.parse.urlsplit(self.path).path)
            if self.command in ("POST", "PUT", "PATCH") and m:
                prow = project_row(m.group(1))
                if prow and prow[6]:
                    for _ in ChunkedReader(self.rfile, self.headers):
                        pass
                    return self.error(403, "DENIED", f"can not push artifact to a proxy project: {m.group(1)}",
                                      {"Docker-Distribution-Api-Version": "registry/2.0"})
            if read_only():
                for _ in ChunkedReader(self.rfile, self.headers):
                    pass
                log(f"refused in read-only mode: {self.command} {urllib.parse.urlsplit(self.path).path}")
                return self.error(403, "DENIED", READ_ONLY_MESSAGE,
                                  {"Docker-Distribution-Api-Version": "registry/2.0"})
        u = urllib.parse.urlparse(REGISTRY_URL)
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        if chunked:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers:
                conn.putheader(k, v)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for data in ChunkedReader(self.rfile, self.headers):
                conn.send(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            if chunked:
                conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
        except Exception as exc:  # noqa: BLE001
            conn.close()
            self.close_connection = True
            return self.error(502, "BAD_GATEWAY", f"registry unreachable: {exc}")
        try:
            self.send_response(resp.status, resp.reason)
            length = resp.getheader("Content-Length")
            chunked_out = False
            for k, v in resp.getheaders():
                if k.lower() in HOP:
                    continue
                self.send_header(k, v)
            no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
            if not no_body and length is None:
                self.send_header("Transfer-Encoding", "chunked")
                chunked_out = True
            self.end_headers()
            if no_body:
                return
            while True:
                data = resp.read(65536)
                if not data:
                    break
                if chunked_out:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    self.wfile.write(data)
            if chunked_out:
                self.wfile.write(b"0\r\n\r\n")
        finally:
            conn.close()

    # -------------------------------------------------- API
    # -------------------------------------------------- API
    def api(self, path):
        method = self.command
        if path == "/ping" and method in ("GET", "HEAD"):
            return self.send_text(200, "Pong")
        if path == "/health" and method == "GET":
            return self.send_json(200, health_body())
        if not self.wait_ready():
            return
        body = self.read_body() if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        user = self.current_user()
        if user is False:
            return self.error(401, "UNAUTHORIZED", "unauthorized")
        if method not in SAFE_METHODS and not (method == "PUT" and path == "/configurations") and read_only():
            log(f"refused in read-only mode: {method} /api/v2.0{path}")
            return self.error(403, "DENIED", READ_ONLY_MESSAGE)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        try:
            return self.api_route(path, method, user, body, query)
        except ApiError as exc:
            return self.error(exc.status, exc.code, exc.message)
        except apischema.Invalid as exc:
            return self.error(400, "BAD_REQUEST", str(exc))

    def api_route(self, path, method, user, body, query):
        if path == "/systeminfo" and method == "GET":
            cfg = configs()
            info = {"auth_mode": cfg["auth_mode"], "primary_auth_mode": cfg["primary_auth_mode"],
                    "banner_message": cfg["banner_message"], "current_time": now_iso(),
                    "self_registration": cfg["self_registration"], "oidc_provider_name": cfg["oidc_name"]}
            if user:
                host = urllib.parse.urlparse(EXT_ENDPOINT).netloc
                info.update({"registry_url": host, "external_url": EXT_ENDPOINT, "harbor_version": BUILD,
                             "has_ca_root": False,
                             "project_creation_restriction": cfg["project_creation_restriction"],
                             "read_only": cfg["read_only"], "notification_enable": cfg["notification_enable"],
                             "registry_storage_provider_name": ENV("REGISTRY_STORAGE_PROVIDER_NAME", "filesystem")})
            return self.send_json(200, info)
        if path == "/users/current" and method == "GET":
            if not user:
                return self.error(401, "UNAUTHORIZED", "unauthorized")
            if "robot_id" in user:
                return self.error(403, "FORBIDDEN", "robot accounts have no user profile")
            return self.send_json(200, self.user_json(user["username"]))
        m = re.match(r"^/users/(\d+)/password$", path)
        if m and method == "PUT":
            return self.change_password(user, int(m.group(1)), body)
        if path == "/projects":
            if method == "HEAD" and "project_name" in query:
                return self.send_json(200 if project_row(query["project_name"][0]) else 404, None)
            if method == "GET":
                return self.list_projects(user, query)
            if method == "POST":
                return self.create_project(user, body)
            raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")
        m = re.match(r"^/projects/([^/]+)$", path)
        if m:
            return self.one_project(user, urllib.parse.unquote(m.group(1)), method, body)
        m = re.match(r"^/projects/([^/]+)/(repositories|_deletable|summary)$", path)
        if m and method == "GET":
            return self.project_sub(user, urllib.parse.unquote(m.group(1)), m.group(2), query)
        if path == "/configurations":
            return self.configurations(user, method, body)
        if path == "/robots" or path.startswith("/robots/"):
            return self.robots(user, method, path, body, query)
        if path == "/quotas" or path.startswith("/quotas/"):
            return self.quotas(user, method, path, body, query)
        if path == "/registries" or path.startswith("/registries/"):
            return self.registries(user, method, path, body, query)
        if path == "/permissions" and method == "GET":
            self.need_admin(user)
            return self.send_json(200, {scope: [{"resource": r, "action": a} for r, acts in table for a in acts]
                                        for scope, table in PERMISSIONS.items()})
        if path == "/replication/adapters" and method == "GET":
            self.need_admin(user)
            return self.send_json(200, ADAPTERS)
        if path == "/system/gc" or path.startswith("/system/gc/"):
            return self.gc(user, method, path, body, query)
        # Replication policies and executions, tag retention: in their own files (import here, once the
        # stand-in's directory is on sys.path); each gets this handler and this module for its helpers.
        if path.startswith(("/replication/policies", "/replication/executions")):
            import standin_replication
            return standin_replication.route(self, sys.modules[__name__], user, method, path, body, query)
        if path == "/retentions" or path.startswith("/retentions/"):
            import standin_retention
            return standin_retention.route(self, sys.modules[__name__], user, method, path, body, query)
        return self.error(404, "NOT_FOUND", f"{path} not found")

    # -------------------------------------------------- API helpers
    @staticmethod
    def need_admin(user):
        if not user:
            raise ApiError(401, "UNAUTHORIZED", "unauthorized")
        if not user["sysadmin"]:
            raise ApiError(403, "FORBIDDEN", "forbidden")

    @staticmethod
    def checked(body, path, method):
        """The request body, checked against the swagger operation's body schema (400 when it does not fit)."""
        return apischema.check_body(body, path, method)

    def send_page(self, items, query, path):
        """One page of items with X-Total-Count and Link (rel prev/next), as Harbor's list endpoints."""
        page, size = page_args(query)
        total = len(items)
        links = []
        others = [(k, v) for k, vs in query.items() if k not in ("page", "page_size") for v in vs]
        for rel, p in (("prev", page - 1), ("next", page + 1)):
            if (rel == "prev" and p >= 1 and total > 0) or (rel == "next" and (p - 1) * size < total):
                qs = urllib.parse.urlencode(others + [("page", p), ("page_size", size)])
                links.append(f'</api/v2.0{path}?{qs}>; rel="{rel}"')
        headers = {"X-Total-Count": str(total)}
        if links:
            headers["Link"] = " , ".join(links)
        return self.send_json(200, items[(page - 1) * size: page * size], headers)

    def resolve_project(self, ref):
        """project_row of a name or id (ids unless X-Is-Resource-Name: true), or None."""
        if ref.isdigit() and self.headers.get("X-Is-Resource-Name", "").lower() != "true":
            row = DB.q("SELECT name FROM project WHERE project_id=%s AND NOT deleted", (int(ref),), "one")
            return project_row(row[0]) if row else None
        return project_row(ref)

    # -------------------------------------------------- configurations
    def configurations(self, user, method, body):
        self.need_admin(user)
        put_types, resp_types = apischema.config_types()
        if method == "GET":
            cfg = configs()
            out = {}
            for key, kind in resp_types.items():
                if key in WRITE_ONLY_CONFIGS:
                    continue
                if kind == "object":  # scan_all_policy: not a {value, editable} item
                    out[key] = cfg.get(key) or {"type": "none", "parameter": {"daily_time": 0}}
                    continue
                value = cfg.get(key, {"boolean": False, "integer": 0}.get(kind, ""))
                out[key] = {"value": value, "editable": True}
            return self.send_json(200, out)
        if method != "PUT":
            raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")
        req = self.checked(body, "/configurations", "PUT")
        if not isinstance(req, dict):
            raise bad_request('parsing configurations body from "" failed, because json: cannot unmarshal '
                              f"{apischema.json_kind(req)} into Go value of type models.Configurations")
        unknown = sorted(k for k in req if k not in put_types)
        if unknown:
            raise bad_request(f"unknown configuration item(s): {', '.join(unknown)} (not in Harbor's Configurations)")
        if req.get("auth_mode") not in (None, "db_auth", "ldap_auth", "uaa_auth", "http_auth", "oidc_auth"):
            raise bad_request(f"invalid auth_mode {req['auth_mode']}")
        if req.get("project_creation_restriction") not in (None, "everyone", "adminonly"):
            raise bad_request("project_creation_restriction must be everyone or adminonly")
        for key in ("token_expiration", "robot_token_duration", "session_timeout"):
            if req.get(key) is not None and req[key] <= 0:
                raise bad_request(f"{key} must be a positive integer")
        for k, v in req.items():
            if v is None:
                continue
            DB.q("INSERT INTO properties (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v=EXCLUDED.v",
                 ("cfg:" + k, json.dumps(v)), None)
        READ_ONLY["at"] = 0.0  # the next write sees a read_only change at once
        audit(user, "update", "configuration", ",".join(sorted(req)))
        return self.send_json(200, None)

    # -------------------------------------------------- robots
    ROBOT_COLS = "id, name, description, level, duration, expires_at, disabled, permissions, creation_time, " \
                 "update_time, project_id"

    @staticmethod
    def robot_json(row):
        return {"id": row[0], "name": row[1], "description": row[2], "level": row[3],
                "duration": row[4], "expires_at": row[5], "disable": row[6], "editable": True,
                "permissions": json.loads(row[7] or "[]"), "creator_type": "local", "creator_ref": 1,
                "creation_time": iso(row[8]), "update_time": iso(row[9])}

    @staticmethod
    def robot_checks(level, duration, perms, secret=None):
        """Harbor's robot handler checks (after the swagger's)."""
        if level not in ("system", "project"):
            raise bad_request(f"bad request error level input: {level}")
        if duration is None or duration == 0 or duration < -1:
            raise bad_request(f"bad request error duration input: {duration or 0}, duration must be either "
                              "-1(Never) or a positive integer")
        if not perms:
            raise bad_request("bad request empty permission")
        for perm in perms:
            if not perm.get("access"):
                raise bad_request("bad request empty access")
            if perm.get("kind") not in ("system", "project"):
                raise bad_request(f"bad request permission kind {perm.get('kind')}")
        if level == "project" and (len(perms) != 1 or perms[0].get("kind") != "project"):
            raise bad_request("bad request permission: a project robot has exactly one project permission")
        if secret is not None and not valid_secret(secret):
            raise bad_request("the secret must be 8-128 characters long with at least 1 uppercase letter, "
                              "1 lowercase letter and 1 number")

    def robots(self, user, method, path, body, query):
        self.need_admin(user)
        cols = self.ROBOT_COLS
        if path == "/robots" and method == "GET":
            rows = DB.q(f"SELECT {cols} FROM robot ORDER BY id")
            prefix = robot_prefix()
            for key, cond in parse_q(query).items():
                k = key.lower()
                if k == "level":
                    rows = [r for r in rows if q_match(cond, r[3])]
                elif k in ("projectid", "project_id"):
                    rows = [r for r in rows if q_match(cond, r[10])]
                elif k == "name":
                    rows = [r for r in rows if q_match(cond, r[1][len(prefix):] if r[1].startswith(prefix) else r[1])]
                elif k == "id":
                    rows = [r for r in rows if q_match(cond, r[0])]
            return self.send_page([self.robot_json(r) for r in rows], query, "/robots")
        if path == "/robots" and method == "POST":
            req = self.checked(body, "/robots", "POST") or {}
            name, level, perms = req.get("name") or "", req.get("level") or "", req.get("permissions") or []
            if not PROJECT_NAME_RE.match(name):
                raise bad_request("robot name is not in lower case or contains illegal characters")
            self.robot_checks(level, req.get("duration"), perms, req.get("secret") or None)
            project_id = 0
            if level == "project":
                prow = project_row(perms[0].get("namespace") or "")
                if not prow:
                    raise not_found(f"project {perms[0].get('namespace')} not found")
                project_id = prow[0]
                full = f"{robot_prefix()}{prow[1]}+{name}"
            else:
                for perm in perms:
                    ns = perm.get("namespace")
                    if perm["kind"] == "project" and ns != "*" and not project_row(ns or ""):
                        raise not_found(f"project {ns} not found")
                full = f"{robot_prefix()}{name}"
            duration = req["duration"]
            expires = -1 if duration == -1 else int(time.time()) + duration * 86400
            secret = req.get("secret") or new_secret()
            salt = secrets.token_hex(16)
            if DB.q("SELECT 1 FROM robot WHERE name=%s", (full,), "one"):
                raise ApiError(409, "CONFLICT", f"robot account {full} already exists")
            # as Harbor: a new robot is always enabled (disable applies with PUT)
            row = DB.q("INSERT INTO robot (name, description, secret, salt, level, project_id, duration, expires_at, "
                       "disabled, permissions) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, false, %s) "
                       "RETURNING id, creation_time",
                       (full, req.get("description") or "", hash_password(secret, salt), salt, level, project_id,
                        duration, expires, json.dumps(perms)), "one")
            audit(user, "create", "robot", full)
            return self.send_json(201, {"id": row[0], "name": full, "secret": secret,
                                        "creation_time": iso(row[1]), "expires_at": expires},
                                  {"Location": f"/api/v2.0/robots/{row[0]}"})
        m = re.match(r"^/robots/(\d+)$", path)
        if not m:
            raise not_found(f"{path} not found")
        rid = int(m.group(1))
        row = DB.q(f"SELECT {cols} FROM robot WHERE id=%s", (rid,), "one")
        if not row:
            raise not_found(f"robot {rid} not found")
        if method == "GET":
            return self.send_json(200, self.robot_json(row))
        if method == "DELETE":
            DB.q("DELETE FROM robot WHERE id=%s", (rid,), None)
            audit(user, "delete", "robot", row[1])
            return self.send_json(200, None)
        if method == "PATCH":  # refresh the secret: the given one, else a new one
            req = self.checked(body, "/robots/{robot_id}", "PATCH") or {}
            secret = req.get("secret") or None
            if secret is not None and not valid_secret(secret):
                raise bad_request("the secret must be 8-128 characters long with at least 1 uppercase letter, "
                                  "1 lowercase letter and 1 number")
            secret = secret or new_secret()
            salt = secrets.token_hex(16)
            DB.q("UPDATE robot SET secret=%s, salt=%s, update_time=now() WHERE id=%s",
                 (hash_password(secret, salt), salt, rid), None)
            return self.send_json(200, {"secret": secret})
        if method == "PUT":
            req = self.checked(body, "/robots/{robot_id}", "PUT") or {}
            if req.get("name") != row[1] or req.get("level") != row[3]:
                raise bad_request("cannot update the level or name of robot")
            perms = req.get("permissions")
            if perms is None:
                perms = json.loads(row[7] or "[]")
            duration = req.get("duration") if req.get("duration") is not None else row[4]
            self.robot_checks(row[3], duration, perms)
            if row[3] == "project":
                prow = DB.q("SELECT name FROM project WHERE project_id=%s", (row[10],), "one")
                if not prow or perms[0].get("namespace") != prow[0]:
                    raise bad_request("bad request permission: a project robot has permissions on its own "
                                      "project only")
            expires = row[5]
            if duration != row[4]:
                created = row[8].replace(tzinfo=timezone.utc).timestamp()
                expires = -1 if duration == -1 else int(created) + duration * 86400
            DB.q("UPDATE robot SET description=%s, disabled=%s, permissions=%s, duration=%s, expires_at=%s, "
                 "update_time=now() WHERE id=%s",
                 (req.get("description") if req.get("description") is not None else row[2],
                  bool(req.get("disable")), json.dumps(perms), duration, expires, rid), None)
            audit(user, "update", "robot", row[1])
            return self.send_json(200, None)
        raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")

    def user_json(self, username):
        row = DB.q("SELECT user_id, username, email, realname, comment, sysadmin_flag, creation_time, update_time "
                   "FROM harbor_user WHERE username=%s", (username,), "one")
        return {"user_id": row[0], "username": row[1], "email": row[2], "realname": row[3], "comment": row[4],
                "sysadmin_flag": row[5], "admin_role_in_auth": False, "oidc_user_meta": None,
                "creation_time": row[6].isoformat() + "Z", "update_time": row[7].isoformat() + "Z"}

    def change_password(self, user, user_id, body):
        if not user:
            return self.error(401, "UNAUTHORIZED", "unauthorized")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.error(400, "BAD_REQUEST", "invalid JSON")
        new = req.get("new_password") or ""
        if not (len(new) >= 8 and len(new) <= 128 and re.search(r"[A-Z]", new) and re.search(r"[a-z]", new)
                and re.search(r"[0-9]", new)):
            return self.error(400, "BAD_REQUEST", "the password must be at least 8 characters long with at "
                              "least 1 uppercase letter, 1 lowercase letter and 1 number")
        row = DB.q("SELECT username FROM harbor_user WHERE user_id=%s", (user_id,), "one")
        if not row:
            return self.error(404, "NOT_FOUND", f"user {user_id} not found")
        if user["user_id"] == user_id or not user["sysadmin"]:
            if user["user_id"] != user_id:
                return self.error(403, "FORBIDDEN", "forbidden")
            if not check_user(row[0], req.get("old_password") or ""):
                return self.error(403, "FORBIDDEN", "the old password is not correct")
        salt = secrets.token_hex(16)
        DB.q("UPDATE harbor_user SET password=%s, salt=%s, update_time=now() WHERE user_id=%s",
             (hash_password(new, salt), salt, user_id), None)
        audit(user, "update", "user", row[0])
        return self.send_json(200, None)


    # -------------------------------------------------- projects
    @staticmethod
    def project_json(row, user, meta, quota=None):
        out = {"project_id": row[0], "name": row[1], "owner_id": row[2], "owner_name": "admin",
               "registry_id": row[6] or 0, "deleted": False, "togglable": bool(user and user["sysadmin"]),
               "creation_time": iso(row[3]), "update_time": iso(row[4]),
               "current_user_role_id": 1 if user and user["sysadmin"] else 0,
               "current_user_role_ids": [1] if user and user["sysadmin"] else None,
               "repo_count": 0, "metadata": dict(meta, public=row[5]),
               "cve_allowlist": {"id": 0, "project_id": row[0], "items": [],
                                 "creation_time": "0001-01-01T00:00:00.000Z", "update_time": "0001-01-01T00:00:00.000Z"}}
        return out

    @staticmethod
    def all_metadata():
        meta = {}
        for pid, name, value in DB.q("SELECT project_id, name, value FROM project_metadata"):
            meta.setdefault(pid, {})[name] = value
        return meta

    def list_projects(self, user, query):
        rows = DB.q("SELECT p.project_id, p.name, p.owner_id, p.creation_time, p.update_time, "
                    "coalesce((SELECT value FROM project_metadata m WHERE m.project_id=p.project_id AND "
                    "m.name='public'), 'false'), p.registry_id FROM project p WHERE NOT p.deleted ORDER BY p.name")
        if not (user and user["sysadmin"]):
            rows = [r for r in rows if r[5] == "true"]
        if "name" in query:
            rows = [r for r in rows if query["name"][0] in r[1]]
        for key, cond in parse_q(query).items():  # Harbor's q=name=x / name=~x / public=true / registry_id=1
            if key == "name":
                rows = [r for r in rows if q_match(cond, r[1])]
            elif key == "public":
                rows = [r for r in rows if (r[5] == "true") == (cond[1].lower() == "true")]
            elif key in ("project_id", "registry_id"):
                rows = [r for r in rows if q_match(cond, r[0] if key == "project_id" else r[6])]
        if "public" in query:
            want = query["public"][0].lower() == "true"
            rows = [r for r in rows if (r[5] == "true") == want]
        meta = self.all_metadata()
        self.send_page([self.project_json(r, user, meta.get(r[0], {})) for r in rows], query, "/projects")

    def create_project(self, user, body):
        if not user:
            raise ApiError(401, "UNAUTHORIZED", "unauthorized")
        if "robot_id" in user:
            raise ApiError(403, "FORBIDDEN", "forbidden")
        req = self.checked(body, "/projects", "POST") or {}
        name = req.get("project_name") or ""
        if not (1 <= len(name) <= 255 and PROJECT_NAME_RE.match(name)):
            raise bad_request(f"project name {name!r} is invalid: lowercase letters, digits and ._- "
                              "(not first or last), 1-255 characters")
        meta = project_metadata(req.get("metadata"))
        if meta.get("retention_id"):
            raise bad_request("the retention_id in the request's payload when creating a project should be omitted")
        if "public" not in meta:
            meta["public"] = "true" if req.get("public") else "false"
        limit = req.get("storage_limit")
        if limit is not None and (limit == 0 or limit < -1):
            raise bad_request(f"invalid storage_limit {limit}: -1 (unlimited) or a positive number of bytes")
        registry_id = req.get("registry_id") or 0
        if registry_id:
            reg = prop_get(f"registry:{registry_id}")
            if not reg:
                raise bad_request(f"registry {registry_id} not found")
            if reg["type"] not in PROXY_TYPES:
                raise bad_request(f"unsupported registry type {reg['type']}: it cannot back a proxy cache project")
            meta.pop("enable_content_trust", None)
            meta.pop("enable_content_trust_cosign", None)
        conn = db_connect()
        try:
            with conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1 FROM project WHERE name=%s", (name,))
                    if cur.fetchone():
                        raise ApiError(409, "CONFLICT", f"The project named {name} already exists")
                    cur.execute("INSERT INTO project (owner_id, name, registry_id) VALUES (%s, %s, %s) "
                                "RETURNING project_id", (user["user_id"], name, registry_id))
                    pid = cur.fetchone()[0]
                    for k, v in meta.items():
                        cur.execute("INSERT INTO project_metadata (project_id, name, value) VALUES (%s, %s, %s)",
                                    (pid, k, v))
        finally:
            conn.close()
        cfg = configs()
        if cfg.get("quota_per_project_enable", True):
            hard = limit if limit is not None else cfg.get("storage_per_project", -1)
            stamp = now_iso()
            prop_put(f"quota:{pid}", {"hard": hard, "creation_time": stamp, "update_time": stamp})
        if registry_id:  # Harbor gives a proxy cache project a retention policy of its own
            import standin_retention
            standin_retention.proxy_cache_default(sys.modules[__name__], pid)
        audit(user, "create", "project", name)
        by_name = self.headers.get("X-Resource-Name-In-Location", "").lower() == "true"
        self.send_json(201, None, {"Location": f"/api/v2.0/projects/{name if by_name else pid}"})

    @staticmethod
    def project_repositories(project):
        """The project's repositories in the registry's catalog (pages of 1000: distribution's maximum)."""
        tok = SIGNER.token("admin", [{"type": "registry", "name": "catalog", "actions": ["*"]}])
        u = urllib.parse.urlparse(REGISTRY_URL)
        repos, path = [], "/v2/_catalog?n=1000"
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        try:
            while path:
                conn.request("GET", path, headers={"Authorization": "Bearer " + tok})
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"registry catalog: HTTP {resp.status} {data[:200]!r}")
                repos += json.loads(data or b"{}").get("repositories") or []
                m = re.match(r"^<([^>]+)>", resp.getheader("Link") or "")
                path = urllib.parse.urlsplit(m.group(1))._replace(scheme="", netloc="").geturl() if m else None
        finally:
            conn.close()
        return [r for r in repos if r.startswith(project + "/")]

    def one_project(self, user, ref, method, body):
        row = self.resolve_project(ref)
        if not row or (row[5] != "true" and not (user and user["sysadmin"])):
            if not user and method != "GET":
                raise ApiError(401, "UNAUTHORIZED", "unauthorized")
            raise not_found(f"project {ref} not found")
        if method in ("GET", "HEAD"):
            meta = dict(DB.q("SELECT name, value FROM project_metadata WHERE project_id=%s", (row[0],)))
            return self.send_json(200, self.project_json(row, user, meta))
        if not (user and user["sysadmin"]):
            raise ApiError(401 if not user else 403, "UNAUTHORIZED" if not user else "FORBIDDEN", "forbidden")
        if method == "DELETE":
            if self.project_repositories(row[1]):
                raise ApiError(412, "PRECONDITION", "the project contains repositories, can not be deleted")
            import standin_retention
            standin_retention.delete_for_project(sys.modules[__name__], row[0])
            DB.q("DELETE FROM project WHERE project_id=%s", (row[0],), None)
            prop_del(f"quota:{row[0]}")
            audit(user, "delete", "project", row[1])
            return self.send_json(200, None)
        if method == "PUT":
            req = self.checked(body, "/projects/{project_name_or_id}", "PUT") or {}
            meta = project_metadata(req.get("metadata"))
            if "retention_id" in meta:
                kept = DB.q("SELECT value FROM project_metadata WHERE project_id=%s AND name='retention_id'",
                            (row[0],), "one")
                if meta["retention_id"] != (kept[0] if kept else None):
                    raise bad_request("the retention_id in the request's payload when updating a project should be "
                                      "omitted, or the same as the one the project has")
            if row[6]:
                meta.pop("enable_content_trust", None)
                meta.pop("enable_content_trust_cosign", None)
            for k, v in meta.items():
                DB.q("INSERT INTO project_metadata (project_id, name, value) VALUES (%s, %s, %s) "
                     "ON CONFLICT (project_id, name) DO UPDATE SET value=EXCLUDED.value", (row[0], k, v), None)
            DB.q("UPDATE project SET update_time=now() WHERE project_id=%s", (row[0],), None)
            audit(user, "update", "project", row[1])
            return self.send_json(200, None)
        raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")

    def project_sub(self, user, ref, what, query):
        row = self.resolve_project(ref)
        if not row or (row[5] != "true" and not (user and user["sysadmin"])):
            raise not_found(f"project {ref} not found")
        repos = self.project_repositories(row[1])
        if what == "repositories":
            return self.send_page([{"id": i + 1, "project_id": row[0], "name": r, "artifact_count": 0,
                                    "pull_count": 0} for i, r in enumerate(repos)], query, f"/projects/{ref}/repositories")
        if what == "_deletable":
            return self.send_json(200, {"deletable": not repos, "message": "the project contains repositories, "
                                        "can not be deleted" if repos else ""})
        quota = prop_get(f"quota:{row[0]}")
        out = {"repo_count": len(repos), "project_admin_count": 1}
        if quota:
            out["quota"] = {"hard": {"storage": quota["hard"]}, "used": {"storage": 0}}
        if row[6]:
            reg = prop_get(f"registry:{row[6]}")
            if reg:
                out["registry"] = self.registry_json(reg)
        return self.send_json(200, out)

    # -------------------------------------------------- quotas (one per project: id = project id)
    @staticmethod
    def quota_json(pid, name, quota):
        return {"id": pid, "ref": {"id": pid, "name": name, "owner_name": "admin"},
                "hard": {"storage": quota["hard"]}, "used": {"storage": 0},
                "creation_time": quota["creation_time"], "update_time": quota["update_time"]}

    def quotas(self, user, method, path, body, query):
        self.need_admin(user)
        projects = DB.q("SELECT project_id, name, creation_time FROM project WHERE NOT deleted ORDER BY project_id")
        names = {r[0]: r[1] for r in projects}
        stored = {int(k[6:]): q for k, q in prop_list("quota:").items()}
        if configs().get("quota_per_project_enable", True):
            for pid, _, created in projects:  # projects made before quotas were kept (library): unlimited
                stored.setdefault(pid, {"hard": -1, "creation_time": iso(created), "update_time": iso(created)})
        items = [(pid, q) for pid, q in sorted(stored.items()) if pid in names]
        if path == "/quotas" and method == "GET":
            ref = (query.get("reference") or [""])[0]
            ref_id = (query.get("reference_id") or [""])[0]
            if ref and ref != "project":
                items = []
            if ref_id:
                items = [(pid, q) for pid, q in items if str(pid) == ref_id]
            return self.send_page([self.quota_json(pid, names[pid], q) for pid, q in items], query, "/quotas")
        m = re.match(r"^/quotas/(\d+)$", path)
        if not m:
            raise not_found(f"{path} not found")
        qid = int(m.group(1))
        quota = dict(items).get(qid)
        if quota is None:
            raise not_found(f"quota {qid} not found")
        if method == "GET":
            return self.send_json(200, self.quota_json(qid, names[qid], quota))
        if method == "PUT":
            req = self.checked(body, "/quotas/{id}", "PUT") or {}
            hard = req.get("hard") or {}
            if not hard:
                raise bad_request("hard in body is required")
            for res, value in hard.items():
                if res != "storage":
                    raise bad_request(f"resource {res} is not supported (Harbor's project quotas know storage)")
                if value == 0 or value < -1:
                    raise bad_request(f"invalid hard limit {value} for storage: -1 (unlimited) or a positive number")
            quota.update(hard=hard["storage"], update_time=now_iso())
            prop_put(f"quota:{qid}", quota)
            audit(user, "update", "quota", names[qid])
            return self.send_json(200, None)
        raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")

    # -------------------------------------------------- registries (endpoints of replication and proxy cache)
    @staticmethod
    def registry_json(reg):
        cred = dict(reg.get("credential") or {})
        if cred.get("access_secret"):
            cred["access_secret"] = "*****"
        out = {k: reg.get(k) for k in ("id", "name", "url", "type", "insecure", "description", "creation_time",
                                       "update_time")}
        out.update(credential=cred, status="unknown")
        if reg.get("ca_certificate"):
            out["ca_certificate"] = reg["ca_certificate"]
        return out

    @staticmethod
    def registry_checks(reg, rid=None):
        name = reg.get("name") or ""
        if not name:
            raise bad_request("name cannot be empty")
        if len(name) > 64:
            raise bad_request("name max length is 64")
        u = urllib.parse.urlparse(reg.get("url") or "")
        if u.scheme not in ("http", "https") or not u.netloc:
            raise bad_request(f"invalid URL {reg.get('url') or ''!r}: an http(s) URL is needed")
        if reg.get("type") not in ADAPTERS:
            raise bad_request(f"adapter factory for {reg.get('type')} not found")
        for key, other in prop_list("registry:").items():
            if other["name"] == name and other["id"] != rid:
                raise ApiError(409, "CONFLICT", f"registry {name} already exists")

    def registries(self, user, method, path, body, query):
        self.need_admin(user)
        if path == "/registries" and method == "GET":
            regs = list(prop_list("registry:").values())
            if "name" in query:
                regs = [r for r in regs if query["name"][0] in r["name"]]
            for key, cond in parse_q(query).items():
                if key in ("name", "type", "url", "id"):
                    regs = [r for r in regs if q_match(cond, r.get(key))]
            return self.send_page([self.registry_json(r) for r in regs], query, "/registries")
        if path == "/registries" and method == "POST":
            req = self.checked(body, "/registries", "POST") or {}
            cred = req.get("credential") or {}
            reg = {"name": req.get("name") or "", "url": (req.get("url") or "").rstrip("/"), "type": req.get("type"),
                   "insecure": bool(req.get("insecure")), "description": req.get("description") or "",
                   "ca_certificate": req.get("ca_certificate") or None,
                   "credential": {"type": cred.get("type") or ("basic" if cred.get("access_key") else ""),
                                  "access_key": cred.get("access_key") or "",
                                  "access_secret": cred.get("access_secret") or ""}}
            self.registry_checks(reg)
            reg["id"] = next_id("registry")
            reg["creation_time"] = reg["update_time"] = now_iso()
            prop_put(f"registry:{reg['id']}", reg)
            audit(user, "create", "registry", reg["name"])
            return self.send_json(201, None, {"Location": f"/api/v2.0/registries/{reg['id']}"})
        if path == "/registries/ping" and method == "POST":
            req = self.checked(body, "/registries/ping", "POST") or {}
            reg = {}
            if req.get("id"):
                reg = prop_get(f"registry:{req['id']}")
                if not reg:
                    raise not_found(f"registry {req['id']} not found")
            url = req.get("url") or reg.get("url")
            rtype = req.get("type") or reg.get("type")
            if not url or not rtype:
                raise bad_request("type and url are required (or the id of a registry)")
            if rtype not in ADAPTERS:
                raise bad_request(f"adapter factory for {rtype} not found")
            if not reachable(url):
                log(f"registries/ping: {url} unreachable (the stand-in checks the host and port, 2 s)")
                raise bad_request("the registry is unhealthy")
            return self.send_json(200, None)
        m = re.match(r"^/registries/(\d+)$", path)
        if not m:
            raise not_found(f"{path} not found")
        rid = int(m.group(1))
        reg = prop_get(f"registry:{rid}")
        if not reg:
            raise not_found(f"registry {rid} not found")
        if method == "GET":
            return self.send_json(200, self.registry_json(reg))
        if method == "PUT":
            req = self.checked(body, "/registries/{id}", "PUT") or {}
            for key in ("name", "description", "insecure", "ca_certificate"):
                if req.get(key) is not None:
                    reg[key] = req[key]
            if req.get("url") is not None:
                reg["url"] = req["url"].rstrip("/")
            cred = reg.setdefault("credential", {})
            for key, ckey in (("credential_type", "type"), ("access_key", "access_key"),
                              ("access_secret", "access_secret")):
                if req.get(key) is not None:
                    cred[ckey] = req[key]
            self.registry_checks(reg, rid)
            reg["update_time"] = now_iso()
            prop_put(f"registry:{rid}", reg)
            audit(user, "update", "registry", reg["name"])
            return self.send_json(200, None)
        if method == "DELETE":
            used = [r[0] for r in DB.q("SELECT name FROM project WHERE registry_id=%s AND NOT deleted", (rid,))]
            if used:
                raise ApiError(412, "PRECONDITION", f"Can't delete the registry {rid}: it is the proxy cache "
                               f"registry of project(s) {', '.join(sorted(used))}")
            import standin_replication
            if standin_replication.registry_users(sys.modules[__name__], rid):
                raise ApiError(412, "PRECONDITION", f"the registry {rid} is referenced by replication policies, "
                               "cannot delete it")
            prop_del(f"registry:{rid}")
            audit(user, "delete", "registry", reg["name"])
            return self.send_json(200, None)
        raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")

    # -------------------------------------------------- garbage collection (simulated)
    @staticmethod
    def gc_json(gid, run):
        status = gc_status(run)
        done = run.get("stopped") or run["created"] + (GC_DONE if status == "Success" else
                                                       GC_PENDING if status == "Running" else 0)
        return {"id": gid, "job_name": "GARBAGE_COLLECTION", "job_kind": run.get("kind", "MANUAL"),
                "job_parameters": json.dumps(run.get("parameters") or {}),
                "schedule": {"type": run.get("type", "Manual"), "cron": run.get("cron", "")},
                "job_status": status, "deleted": False,
                "creation_time": iso(run["created"]), "update_time": iso(done)}

    def gc(self, user, method, path, body, query):
        self.need_admin(user)
        if path == "/system/gc/schedule":
            sched = prop_get("gc:schedule")
            if method == "GET":
                if not sched:
                    return self.send_json(200, {})
                return self.send_json(200, {"id": 1, "job_name": "GARBAGE_COLLECTION", "job_kind": "SCHEDULE",
                                            "job_parameters": json.dumps(sched.get("parameters") or {}),
                                            "schedule": {"type": sched["type"], "cron": sched["cron"]},
                                            "job_status": "Scheduled", "deleted": False,
                                            "creation_time": sched["creation_time"],
                                            "update_time": sched["update_time"]})
            if method not in ("POST", "PUT"):
                raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")
            req = self.checked(body, "/system/gc/schedule", method) or {}
            obj = req.get("schedule") or {}
            stype = obj.get("type")
            if not stype:
                raise bad_request("schedule.type in body is required")
            params = req.get("parameters") or {}
            if stype == "Manual":
                if method == "PUT":
                    raise bad_request("fail to update GC schedule as wrong schedule type: Manual")
                runs = prop_list("gc:run:")
                if any(gc_status(r) in ("Pending", "Running") for r in runs.values()):
                    raise ApiError(409, "CONFLICT", "a previous GC job is still running, try again later")
                gid = next_id("gc")
                prop_put(f"gc:run:{gid}", {"created": time.time(), "type": "Manual", "kind": "MANUAL",
                                           "parameters": params})
                log(f"GC run {gid} (simulated: Pending, Running, Success in {GC_DONE:.0f} s, nothing deleted)")
                return self.send_json(201, None, {"Location": f"/api/v2.0/system/gc/{gid}"})
            if stype == "None":
                prop_del("gc:schedule")
                return self.send_json(201 if method == "POST" else 200, None)
            if method == "POST" and sched:
                raise ApiError(409, "CONFLICT", "fail to set schedule for GC: it has a schedule already, "
                               "update it with PUT")
            cron = GC_CRON.get(stype) or obj.get("cron") or ""
            check_cron(cron)
            stamp = now_iso()
            prop_put("gc:schedule", {"type": stype, "cron": cron, "parameters": params,
                                     "creation_time": (sched or {}).get("creation_time", stamp), "update_time": stamp})
            return self.send_json(201 if method == "POST" else 200, None)
        if path == "/system/gc" and method == "GET":
            runs = sorted(prop_list("gc:run:").items(), key=lambda kv: -int(kv[0][7:]))
            items = [self.gc_json(int(k[7:]), r) for k, r in runs]
            for key, cond in parse_q(query).items():
                if key in ("job_status", "job_kind", "id"):
                    items = [i for i in items if q_match(cond, i[key])]
            return self.send_page(items, query, "/system/gc")
        m = re.match(r"^/system/gc/(\d+)(/log)?$", path)
        if not m:
            raise not_found(f"{path} not found")
        gid = int(m.group(1))
        run = prop_get(f"gc:run:{gid}")
        if not run:
            raise not_found(f"GC job {gid} not found")
        if m.group(2) and method == "GET":
            lines = [f"{iso(run['created'])} [INFO] stand-in garbage collection (simulated), parameters "
                     f"{json.dumps(run.get('parameters') or {})}"]
            if gc_status(run) == "Success":
                lines.append(f"{iso(run['created'] + GC_DONE)} [INFO] 0 blobs and 0 manifests eligible for deletion, "
                             "0 bytes freed (nothing is deleted by the stand-in)")
            return self.send_text(200, "\n".join(lines) + "\n")
        if m.group(2):
            raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")
        if method == "GET":
            return self.send_json(200, self.gc_json(gid, run))
        if method == "PUT":  # stop
            if gc_status(run) in ("Pending", "Running"):
                run["stopped"] = time.time()
                prop_put(f"gc:run:{gid}", run)
            return self.send_json(200, None)
        raise ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    address_family = socket.AF_INET


def main():
    global SIGNER
    # PID 1 ignores SIGTERM unless it has a handler: docker stop would wait 10 s
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    SIGNER = Signer(KEY_PATH)
    threading.Thread(target=init_db, daemon=True).start()
    threading.Thread(target=health_loop, daemon=True).start()
    srv = Server(("0.0.0.0", PORT), Handler)
    log(f"harbor-core stand-in {BUILD} listening on :{PORT}, external endpoint {EXT_ENDPOINT}")
    srv.serve_forever()


if __name__ == "__main__":
    main()
