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
    "uaa_endpoint": "", "uaa_verify_cert": True}
SECRET_CONFIGS = {"email_password", "ldap_search_password", "oidc_client_secret", "uaa_client_secret"}


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
    row = DB.q("SELECT p.project_id, p.name, p.owner_id, p.creation_time, p.update_time, "
               "coalesce((SELECT value FROM project_metadata m WHERE m.project_id=p.project_id AND m.name='public'),"
               " 'false') FROM project p WHERE p.name=%s AND NOT p.deleted", (name,), "one")
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
            if method in ("GET", "HEAD") and "project_name" in query and method == "HEAD":
                return self.send_json(200 if project_row(query["project_name"][0]) else 404, None)
            if method == "GET":
                return self.list_projects(user, query)
            if method == "POST":
                return self.create_project(user, body)
        m = re.match(r"^/projects/([^/]+)$", path)
        if m:
            return self.one_project(user, urllib.parse.unquote(m.group(1)), method, body)
        if path == "/configurations":
            return self.configurations(user, method, body)
        if path == "/robots" or path.startswith("/robots/"):
            return self.robots(user, method, path, body, query)
        m = re.match(r"^/projects/([^/]+)/repositories$", path)
        if m and method == "GET":
            return self.list_repositories(user, urllib.parse.unquote(m.group(1)))
        return self.error(404, "NOT_FOUND", f"{path} not found")

    def configurations(self, user, method, body):
        if not user:
            return self.error(401, "UNAUTHORIZED", "unauthorized")
        if not user["sysadmin"]:
            return self.error(403, "FORBIDDEN", "forbidden")
        if method == "GET":
            return self.send_json(200, {k: {"value": v, "editable": True} for k, v in configs().items()})
        if method != "PUT":
            return self.error(405, "METHOD_NOT_ALLOWED", "method not allowed")
        try:
            req = json.loads(body or b"{}")
            assert isinstance(req, dict)
        except (ValueError, AssertionError):
            return self.error(400, "BAD_REQUEST", "invalid JSON")
        unknown = [k for k in req if k not in CONFIG_DEFAULTS and k not in SECRET_CONFIGS]
        if unknown:
            return self.error(400, "BAD_REQUEST", f"unknown configuration items: {', '.join(unknown)}")
        if req.get("auth_mode", "db_auth") not in ("db_auth", "ldap_auth", "uaa_auth", "http_auth", "oidc_auth"):
            return self.error(400, "BAD_REQUEST", f"invalid auth_mode {req['auth_mode']}")
        if req.get("project_creation_restriction", "everyone") not in ("everyone", "adminonly"):
            return self.error(400, "BAD_REQUEST", "project_creation_restriction must be everyone or adminonly")
        for k, v in req.items():
            DB.q("INSERT INTO properties (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v=EXCLUDED.v",
                 ("cfg:" + k, json.dumps(v)), None)
        READ_ONLY["at"] = 0.0  # the next write sees a read_only change at once
        audit(user, "update", "configuration", ",".join(sorted(req)))
        return self.send_json(200, None)

    @staticmethod
    def robot_json(row):
        return {"id": row[0], "name": row[1], "description": row[2], "level": row[3],
                "duration": row[4], "expires_at": row[5], "disable": row[6], "editable": True,
                "permissions": json.loads(row[7] or "[]"),
                "creation_time": row[8].isoformat() + "Z", "update_time": row[9].isoformat() + "Z"}

    def robots(self, user, method, path, body, query):
        if not user:
            return self.error(401, "UNAUTHORIZED", "unauthorized")
        if not user["sysadmin"]:
            return self.error(403, "FORBIDDEN", "forbidden")
        cols = "id, name, description, level, duration, expires_at, disabled, permissions, creation_time, update_time"
        if path == "/robots" and method == "GET":
            rows = DB.q(f"SELECT {cols} FROM robot ORDER BY id")
            return self.send_json(200, [self.robot_json(r) for r in rows], {"X-Total-Count": str(len(rows))})
        if path == "/robots" and method == "POST":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                return self.error(400, "BAD_REQUEST", "invalid JSON")
            name, level = req.get("name") or "", req.get("level") or "system"
            perms = req.get("permissions") or []
            if not re.match(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$", name) or level not in ("system", "project"):
                return self.error(400, "BAD_REQUEST", "invalid robot name or level")
            if level == "project":
                if len(perms) != 1 or perms[0].get("kind") != "project":
                    return self.error(400, "BAD_REQUEST", "a project robot needs exactly one project permission")
                full = f"{robot_prefix()}{perms[0].get('namespace')}+{name}"
            else:
                full = f"{robot_prefix()}{name}"
            duration = int(req.get("duration", -1) or -1)
            if duration == 0 or duration < -1:
                return self.error(400, "BAD_REQUEST", "duration must be either -1(Never) or a positive integer")
            expires = -1 if duration == -1 else int(time.time()) + duration * 86400
            secret = req.get("secret") or secrets.token_urlsafe(24)
            salt = secrets.token_hex(16)
            if DB.q("SELECT 1 FROM robot WHERE name=%s", (full,), "one"):
                return self.error(409, "CONFLICT", f"robot account {full} already exists")
            row = DB.q("INSERT INTO robot (name, description, secret, salt, level, duration, expires_at, disabled, "
                       "permissions) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, creation_time",
                       (full, req.get("description") or "", hash_password(secret, salt), salt, level, duration,
                        expires, bool(req.get("disable")), json.dumps(perms)), "one")
            audit(user, "create", "robot", full)
            return self.send_json(201, {"id": row[0], "name": full, "secret": secret,
                                        "creation_time": row[1].isoformat() + "Z", "expires_at": expires},
                                  {"Location": f"/api/v2.0/robots/{row[0]}"})
        m = re.match(r"^/robots/(\d+)$", path)
        if not m:
            return self.error(404, "NOT_FOUND", f"{path} not found")
        rid = int(m.group(1))
        row = DB.q(f"SELECT {cols} FROM robot WHERE id=%s", (rid,), "one")
        if not row:
            return self.error(404, "NOT_FOUND", f"robot {rid} not found")
        if method == "GET":
            return self.send_json(200, self.robot_json(row))
        if method == "DELETE":
            DB.q("DELETE FROM robot WHERE id=%s", (rid,), None)
            audit(user, "delete", "robot", row[1])
            return self.send_json(200, None)
        if method == "PATCH":  # refresh the secret
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                return self.error(400, "BAD_REQUEST", "invalid JSON")
            secret = req.get("secret") or secrets.token_urlsafe(24)
            salt = secrets.token_hex(16)
            DB.q("UPDATE robot SET secret=%s, salt=%s, update_time=now() WHERE id=%s",
                 (hash_password(secret, salt), salt, rid), None)
            return self.send_json(200, {"secret": secret})
        if method == "PUT":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                return self.error(400, "BAD_REQUEST", "invalid JSON")
            DB.q("UPDATE robot SET description=%s, disabled=%s, permissions=%s, update_time=now() WHERE id=%s",
                 (req.get("description", row[2]) or "", bool(req.get("disable", row[6])),
                  json.dumps(req.get("permissions", json.loads(row[7] or "[]"))), rid), None)
            return self.send_json(200, None)
        return self.error(405, "METHOD_NOT_ALLOWED", "method not allowed")

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

    @staticmethod
    def project_json(row, user):
        return {"project_id": row[0], "name": row[1], "owner_id": row[2], "owner_name": "admin",
                "registry_id": 0, "deleted": False, "togglable": bool(user and user["sysadmin"]),
                "creation_time": row[3].isoformat() + "Z", "update_time": row[4].isoformat() + "Z",
                "current_user_role_id": 1 if user and user["sysadmin"] else 0,
                "current_user_role_ids": [1] if user and user["sysadmin"] else None,
                "repo_count": 0, "metadata": {"public": row[5]},
                "cve_allowlist": {"id": 0, "project_id": row[0], "items": [], "creation_time": "0001-01-01T00:00:00.000Z",
                                  "update_time": "0001-01-01T00:00:00.000Z"}}

    def list_projects(self, user, query):
        rows = DB.q("SELECT p.project_id, p.name, p.owner_id, p.creation_time, p.update_time, "
                    "coalesce((SELECT value FROM project_metadata m WHERE m.project_id=p.project_id AND "
                    "m.name='public'), 'false') FROM project p WHERE NOT p.deleted ORDER BY p.name")
        if not (user and user["sysadmin"]):
            rows = [r for r in rows if r[5] == "true"]
        if "name" in query:
            rows = [r for r in rows if query["name"][0] in r[1]]
        for cond in ",".join(query.get("q", [])).split(","):  # Harbor's q=name=x / name=~x / public=true
            key, _, val = cond.partition("=")
            if key == "name" and val.startswith("~"):
                rows = [r for r in rows if val[1:] in r[1]]
            elif key == "name" and val:
                rows = [r for r in rows if r[1] == val]
            elif key == "public" and val:
                rows = [r for r in rows if (r[5] == "true") == (val.lower() == "true")]
        if "public" in query:
            want = query["public"][0].lower() == "true"
            rows = [r for r in rows if (r[5] == "true") == want]
        total = len(rows)
        page = max(1, int((query.get("page") or ["1"])[0] or 1))
        size = max(1, min(100, int((query.get("page_size") or ["10"])[0] or 10)))
        rows = rows[(page - 1) * size: page * size]
        self.send_json(200, [self.project_json(r, user) for r in rows], {"X-Total-Count": str(total)})

    def create_project(self, user, body):
        if not user:
            return self.error(401, "UNAUTHORIZED", "unauthorized")
        if "robot_id" in user:
            return self.error(403, "FORBIDDEN", "forbidden")
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.error(400, "BAD_REQUEST", "invalid JSON")
        name = req.get("project_name") or ""
        if not (1 <= len(name) <= 255 and PROJECT_NAME_RE.match(name)):
            return self.error(400, "BAD_REQUEST", f"project name {name!r} is invalid")
        public = str((req.get("metadata") or {}).get("public", req.get("public", False))).lower() == "true"
        conn = db_connect()
        try:
            with conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1 FROM project WHERE name=%s", (name,))
                    if cur.fetchone():
                        return self.error(409, "CONFLICT", f"The project named {name} already exists")
                    cur.execute("INSERT INTO project (owner_id, name) VALUES (%s, %s) RETURNING project_id",
                                (user["user_id"], name))
                    pid = cur.fetchone()[0]
                    cur.execute("INSERT INTO project_metadata (project_id, name, value) VALUES (%s, 'public', %s)",
                                (pid, "true" if public else "false"))
        finally:
            conn.close()
        audit(user, "create", "project", name)
        self.send_json(201, None, {"Location": f"/api/v2.0/projects/{pid}"})

    def one_project(self, user, ref, method, body):
        if ref.isdigit() and self.headers.get("X-Is-Resource-Name", "").lower() != "true":
            row = DB.q("SELECT name FROM project WHERE project_id=%s AND NOT deleted", (int(ref),), "one")
            name = row[0] if row else None
        else:
            name = ref
        row = project_row(name) if name else None
        if not row or (row[5] != "true" and not (user and user["sysadmin"])):
            if not user and method != "GET":
                return self.error(401, "UNAUTHORIZED", "unauthorized")
            return self.error(404, "NOT_FOUND", f"project {ref} not found")
        if method in ("GET", "HEAD"):
            return self.send_json(200, self.project_json(row, user))
        if not (user and user["sysadmin"]):
            return self.error(401 if not user else 403, "UNAUTHORIZED" if not user else "FORBIDDEN", "forbidden")
        if method == "DELETE":
            DB.q("DELETE FROM project WHERE project_id=%s", (row[0],), None)
            audit(user, "delete", "project", row[1])
            return self.send_json(200, None)
        if method == "PUT":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                return self.error(400, "BAD_REQUEST", "invalid JSON")
            public = (req.get("metadata") or {}).get("public")
            if public is not None:
                DB.q("INSERT INTO project_metadata (project_id, name, value) VALUES (%s, 'public', %s) "
                     "ON CONFLICT (project_id, name) DO UPDATE SET value=EXCLUDED.value",
                     (row[0], "true" if str(public).lower() == "true" else "false"), None)
            return self.send_json(200, None)
        return self.error(405, "METHOD_NOT_ALLOWED", "method not allowed")

    def list_repositories(self, user, project):
        row = project_row(project)
        if not row or (row[5] != "true" and not (user and user["sysadmin"])):
            return self.error(404, "NOT_FOUND", f"project {project} not found")
        tok = SIGNER.token("admin", [{"type": "registry", "name": "catalog", "actions": ["*"]}])
        u = urllib.parse.urlparse(REGISTRY_URL)
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
        try:
            conn.request("GET", "/v2/_catalog?n=10000", headers={"Authorization": "Bearer " + tok})
            resp = conn.getresponse()
            repos = json.loads(resp.read() or b"{}").get("repositories") or []
        finally:
            conn.close()
        repos = [r for r in repos if r.startswith(project + "/")]
        self.send_json(200, [{"id": i + 1, "project_id": row[0], "name": r, "artifact_count": 0,
                              "pull_count": 0} for i, r in enumerate(repos)],
                       {"X-Total-Count": str(len(repos))})


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
