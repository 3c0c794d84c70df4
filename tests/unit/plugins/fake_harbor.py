"""A small fake of Harbor's API v2.0 on a local threaded HTTP server: projects, quotas, registry endpoints (and
their ping, the replication adapters), robots, the GC schedule and GC runs, system configurations, systeminfo
and health.

It follows the shapes of Harbor v2.15's swagger.yaml and handlers: numeric ids, ``Location`` headers on
201, ``X-Total-Count`` and ``page``/``page_size`` on listings, ``X-Is-Resource-Name``, 409 on duplicates,
404 on missing resources, 401 without valid basic auth, and ``{"errors": [{"code", "message"}]}`` bodies.
Robot names are stored as Harbor stores them (``NAME`` or ``PROJECT+NAME``) and shown with ``robot$``.

Registry secrets and the write-only configuration items (``ldap_search_password``, ``oidc_client_secret``,
``uaa_client_secret``) are stored but never answered, as Harbor does. A manual GC goes through the statuses of
``gc_statuses``, one a ``GET /system/gc/{id}`` (the last one stays).

Tests script faults (``fail``: an HTTP status for the next matching requests; ``drop``: close the
connection without an answer; ``delay``: answer late) and read ``requests`` to see what was sent.
"""

import base64
import datetime
import http.server
import itertools
import json
import re
import secrets
import ssl
import threading
import time
import urllib.parse

PREFIX = "/api/v2.0"
ROBOT_PREFIX = "robot$"
ADMIN = ("admin", "Harbor12345")
NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
# A few of Harbor's robot permissions (rbac/const.go), enough for the tests.
PROJECT_ACCESS = {("repository", a) for a in ("pull", "push", "delete", "list", "read", "update")} | {
    ("artifact", a) for a in ("read", "list", "delete", "create")} | {("tag", a) for a in ("create", "delete", "list")}
SYSTEM_ACCESS = {("project", "create"), ("registry", "list"), ("registry", "read"), ("user", "list"),
                 ("audit-log", "list")}


ADAPTERS = ("ali-acr", "aws-ecr", "azure-acr", "docker-hub", "docker-registry", "dtr", "github-ghcr", "gitlab",
            "google-gcr", "harbor", "huawei-SWR", "jfrog-artifactory", "quay", "tencent-tcr", "volcengine-cr")
CREDENTIAL_TYPES = ("basic", "oauth", "secret")
# The configuration items of a fresh Harbor (a part of them), with their types; the last three are write-only.
CONFIG = {"auth_mode": "db_auth", "primary_auth_mode": False, "project_creation_restriction": "everyone",
          "self_registration": False, "read_only": False, "token_expiration": 30, "robot_token_duration": 30,
          "robot_name_prefix": "robot$", "notification_enable": True, "quota_per_project_enable": True,
          "storage_per_project": -1, "session_timeout": 60, "audit_log_forward_endpoint": "",
          "skip_audit_log_database": False, "banner_message": "", "ldap_url": "", "ldap_base_dn": "",
          "ldap_search_dn": "", "ldap_scope": 2, "ldap_timeout": 5, "ldap_uid": "cn", "ldap_verify_cert": True,
          "ldap_filter": "", "oidc_name": "", "oidc_endpoint": "", "oidc_client_id": "", "oidc_scope": "",
          "oidc_verify_cert": True, "oidc_auto_onboard": False, "oidc_user_claim": "",
          "ldap_search_password": "", "oidc_client_secret": "", "uaa_client_secret": ""}
WRITE_ONLY = ("ldap_search_password", "oidc_client_secret", "uaa_client_secret")
GC_DONE = ("Success", "Error", "Stopped")


class Fault:
    def __init__(self, kind, times, status=None, method=None, path=None, body=None, seconds=0.0):
        self.kind, self.times, self.status, self.method, self.path = kind, times, status, method, path
        self.body, self.seconds = body, seconds

    def matches(self, method, path):
        return (self.times > 0 and (self.method is None or self.method == method)
                and (self.path is None or path.startswith(self.path)))


class Answer(Exception):
    """Raised by a route to answer at once."""

    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def error(status, code, message):
    return Answer(status, {"errors": [{"code": code, "message": message}]})


def by_id(store, key, kind):
    """The item of `store` (id -> item) whose id is the path element `key`; 404 when there is none."""
    item = store.get(int(key)) if key.isdigit() else None
    if item is None:
        raise error(404, "NOT_FOUND", "%s %s not found" % (kind, key))
    return item


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeHarbor:
    def __init__(self, tls_context=None):
        self.users = {ADMIN[0]: ADMIN[1]}
        self.projects = {}  # name -> project
        self.quotas = {}  # id -> quota
        self.registries = {}  # id -> registry
        self.robots = {}  # id -> robot, as stored (name without prefix, secret)
        self.requests = []  # dicts: method, path, query, body, headers
        self.faults = []
        self.quota_per_project = True
        self.adapters = list(ADAPTERS)
        self.unhealthy = {}  # registry URL -> the message of a failed ping
        self.gc_schedule = None  # the stored schedule (GCHistory shape), None: no schedule
        self.gc_jobs = {}  # id -> GC run
        self.gc_statuses = ["Running", "Success"]
        self.config = dict(CONFIG)  # key -> value, secrets included
        self.config_locked = set()  # keys answered with editable=false (and refused by PUT)
        self._ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self):
                outer.serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's naming

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None  # a client that gave up (timeout tests)
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "%s://127.0.0.1:%d" % ("https" if tls_context else "http", self.httpd.server_port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---------------------------------------------------------------- scripting

    def fail(self, status, times=1, method=None, path=None, body=None):
        """Answer `status` to the next `times` requests matching method and path (a prefix under /api/v2.0)."""
        if body is None:
            body = {"errors": [{"code": "UNKNOWN", "message": "injected error %d" % status}]}
        self.faults.append(Fault("status", times, status, method, path, body))

    def drop(self, times=1, method=None, path=None):
        """Close the connection without answering the next `times` matching requests."""
        self.faults.append(Fault("drop", times, method=method, path=path))

    def delay(self, seconds, times=1, method=None, path=None):
        """Answer the next `times` matching requests after `seconds`."""
        self.faults.append(Fault("delay", times, method=method, path=path, seconds=seconds))

    def add_project(self, name, registry_id=None, storage=-1, repo_count=0, **metadata):
        project_id = next(self._ids)
        meta = {"public": "false"}
        meta.update({k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in metadata.items()})
        self.projects[name] = {"project_id": project_id, "name": name, "owner_id": 1, "owner_name": "admin",
                               "registry_id": registry_id or 0, "repo_count": repo_count, "metadata": meta,
                               "creation_time": now(), "update_time": now(), "deleted": False}
        if self.quota_per_project:
            quota_id = next(self._ids)
            self.quotas[quota_id] = {"id": quota_id, "ref": {"id": project_id, "name": name, "owner_name": "admin"},
                                     "hard": {"storage": storage}, "used": {"storage": 0},
                                     "creation_time": now(), "update_time": now()}
        return self.projects[name]

    def add_registry(self, name, kind="docker-hub", url="https://hub.docker.com", credential=None, **fields):
        """A registry endpoint as if created through the API (credential: type, access_key, access_secret)."""
        registry_id = next(self._ids)
        self.registries[registry_id] = dict({
            "id": registry_id, "name": name, "type": kind, "url": url, "description": "", "insecure": False,
            "ca_certificate": "", "status": "healthy", "creation_time": now(), "update_time": now(),
            "credential": dict({"type": "", "access_key": "", "access_secret": ""}, **(credential or {}))}, **fields)
        return registry_id

    def registry(self, name):
        """The stored registry endpoint named `name` (its secret in clear), or None."""
        return next((r for r in self.registries.values() if r["name"] == name), None)

    def gc_job(self, status="Success", **parameters):
        """A GC run already done (or `status`); returns its id."""
        gc_id = next(self._ids)
        self.gc_jobs[gc_id] = {"id": gc_id, "job_name": "GARBAGE_COLLECTION", "job_kind": "MANUAL",
                               "job_parameters": json.dumps(parameters), "schedule": {"type": "Manual"},
                               "job_status": status, "deleted": False, "creation_time": now(),
                               "update_time": now(), "statuses": [status]}
        return gc_id

    def add_robot(self, name, level="system", project=None, permissions=None, **fields):
        """A robot as if created through the API; returns (id, secret)."""
        pid = self.projects[project]["project_id"] if project else 0
        robot_id, secret = next(self._ids), secrets.token_urlsafe(24)
        robot = {"id": robot_id, "name": "%s+%s" % (project, name) if project else name, "level": level,
                 "project_id": pid, "description": "", "duration": -1, "expires_at": -1, "disable": False,
                 "editable": True, "secret": secret, "creation_time": now(), "update_time": now(),
                 "creator_type": "local", "creator_ref": 1,
                 "permissions": permissions or [{"kind": "project", "namespace": project or "*",
                                                 "access": [{"resource": "repository", "action": "pull"}]}]}
        robot.update(fields)
        self.robots[robot_id] = robot
        return robot_id, secret

    def robot(self, name):
        """The stored robot named `name` (stored form), or None."""
        return next((r for r in self.robots.values() if r["name"] == name), None)

    def project_quota(self, name):
        pid = self.projects[name]["project_id"]
        return next((q for q in self.quotas.values() if q["ref"]["id"] == pid), None)

    def writes(self):
        """The requests that could change something (method, path)."""
        return [(r["method"], r["path"]) for r in self.requests if r["method"] != "GET"]

    def sent(self, method, path):
        """The requests sent with this method to this path (relative to /api/v2.0)."""
        return [r for r in self.requests if r["method"] == method and r["path"] == path]

    # ---------------------------------------------------------------- serving

    def serve(self, handler):
        split = urllib.parse.urlsplit(handler.path)
        path = split.path
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        method = handler.command
        relative = path[len(PREFIX):] if path.startswith(PREFIX) else path
        with self._lock:
            self.requests.append({"method": method, "path": relative, "query": query, "body": body,
                                  "headers": dict(handler.headers)})
            fault = next((f for f in self.faults if f.matches(method, relative)), None)
            if fault:
                fault.times -= 1
        if fault and fault.kind == "drop":
            handler.close_connection = True
            return
        if fault and fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault and fault.kind == "status":
            answer = Answer(fault.status, fault.body)
        else:
            with self._lock:
                try:
                    if not path.startswith(PREFIX + "/"):
                        raise error(404, "NOT_FOUND", "no route for %s" % path)
                    self.authenticate(handler.headers.get("Authorization"))
                    answer = self.route(method, relative, query, body, handler.headers)
                except Answer as exc:
                    answer = exc
        self.send(handler, answer)

    def send(self, handler, answer):
        data = b"" if answer.body is None else (
            answer.body.encode() if isinstance(answer.body, str) else json.dumps(answer.body).encode())
        handler.send_response(answer.status)
        handler.send_header("X-Request-Id", "req-%d" % next(self._request_ids))
        if answer.body is not None:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in answer.headers.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def authenticate(self, header):
        if header and header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                user, password = None, None
            if user in self.users and self.users[user] == password:
                return
            for robot in self.robots.values():
                if (ROBOT_PREFIX + robot["name"] == user and robot["secret"] == password
                        and not robot["disable"]):
                    return
        raise error(401, "UNAUTHORIZED", "unauthorized")

    def route(self, method, path, query, body, headers):
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["system", "gc"]:
            return self.route_gc(method, parts[2:], query, body)
        # Replication policies/executions and tag retention live in their own files (fake_replication.py,
        # fake_retention.py): route(fake, method, parts, query, body) -> Answer, with state kept on the fake.
        if parts[0] == "replication" and len(parts) > 1 and parts[1] in ("policies", "executions"):
            from fake_replication import route as replication_route  # pylint: disable=import-outside-toplevel
            return replication_route(self, method, parts, query, body)
        if parts[0] == "retentions":
            from fake_retention import route as retention_route  # pylint: disable=import-outside-toplevel
            return retention_route(self, method, parts, query, body)
        by_name = str(headers.get("X-Is-Resource-Name", "")).lower() == "true"
        handlers = {
            ("GET", "projects", 1): lambda: self.list_of(list(self.projects.values()), query,
                                                         lambda p: "name" not in query or p["name"] == query["name"]),
            ("POST", "projects", 1): lambda: self.create_project(body),
            ("GET", "projects", 2): lambda: Answer(200, self.find_project(parts[1], by_name)),
            ("PUT", "projects", 2): lambda: self.update_project(self.find_project(parts[1], by_name), body),
            ("DELETE", "projects", 2): lambda: self.delete_project(self.find_project(parts[1], by_name)),
            ("GET", "quotas", 1): lambda: self.list_of(list(self.quotas.values()), query, lambda q: (
                query.get("reference", "project") == "project"
                and str(q["ref"]["id"]) == query.get("reference_id", str(q["ref"]["id"])))),
            ("PUT", "quotas", 2): lambda: self.update_quota(parts[1], body),
            ("GET", "registries", 1): lambda: self.list_registries(query),
            ("POST", "registries", 1): lambda: self.create_registry(body),
            ("POST", "registries", 2): lambda: self.ping_registry(parts[1], body),
            ("GET", "registries", 2): lambda: Answer(200, self.registry_out(self.find_registry(parts[1]))),
            ("PUT", "registries", 2): lambda: self.update_registry(self.find_registry(parts[1]), body),
            ("DELETE", "registries", 2): lambda: self.delete_registry(self.find_registry(parts[1])),
            ("GET", "replication", 2): lambda: Answer(200, list(self.adapters)) if parts[1] == "adapters" else None,
            ("GET", "configurations", 1): lambda: Answer(200, self.config_out()),
            ("PUT", "configurations", 1): lambda: self.update_config(body),
            ("GET", "systeminfo", 1): lambda: Answer(200, self.systeminfo()),
            ("GET", "health", 1): lambda: Answer(200, {"status": "healthy", "components": [
                {"name": n, "status": "healthy"} for n in ("core", "database", "jobservice", "portal", "redis",
                                                           "registry", "registryctl")]}),
            ("GET", "robots", 1): lambda: self.list_robots(query),
            ("POST", "robots", 1): lambda: self.create_robot(body),
            ("GET", "robots", 2): lambda: Answer(200, self.robot_out(self.find_robot(parts[1]))),
            ("PUT", "robots", 2): lambda: self.update_robot(self.find_robot(parts[1]), body),
            ("PATCH", "robots", 2): lambda: self.refresh_robot(self.find_robot(parts[1]), body),
            ("DELETE", "robots", 2): lambda: self.delete_robot(self.find_robot(parts[1])),
        }
        route = handlers.get((method, parts[0], len(parts)))
        answer = route() if route else None
        if answer is None:
            raise error(405 if parts[0] in ("projects", "quotas", "registries", "robots", "configurations") else 404,
                        "METHOD_NOT_ALLOWED", "%s %s is not part of the fake" % (method, path))
        return answer

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def q_filter(query, keys):
        """Harbor's q=k=v,k=v (exact values) for the given keys (query key -> item key)."""
        wanted = {}
        for pair in (query.get("q") or "").split(","):
            key, sep, value = pair.partition("=")
            if sep and key in keys:
                wanted[keys[key]] = value
        return lambda item: all(str(item.get(k)) == v for k, v in wanted.items())

    @staticmethod
    def list_of(items, query, keep):
        try:
            page, size = int(query.get("page", 1)), int(query.get("page_size", 10))
        except ValueError:
            raise error(400, "BAD_REQUEST", "page and page_size must be integers") from None
        if page < 1 or size < 1 or size > 100:
            raise error(400, "BAD_REQUEST", "page must be > 0 and page_size between 1 and 100")
        selected = [i for i in items if keep(i)]
        chunk = selected[(page - 1) * size: page * size]
        return Answer(200, chunk, {"X-Total-Count": str(len(selected))})

    def find_project(self, key, by_name):
        if by_name or not key.isdigit():
            project = self.projects.get(key)
        else:
            project = next((p for p in self.projects.values() if p["project_id"] == int(key)), None)
        if project is None:
            raise error(404, "NOT_FOUND", "project %s not found" % key)
        return project

    def create_project(self, body):
        name = (body or {}).get("project_name") or ""
        if not NAME_RE.match(name):
            raise error(400, "BAD_REQUEST", "project_name in body should match '%s'" % NAME_RE.pattern)
        if name in self.projects:
            raise error(409, "CONFLICT", "The project named %s already exists" % name)
        metadata = {k: v for k, v in (body.get("metadata") or {}).items() if v is not None}
        registry_id = body.get("registry_id")
        if registry_id is not None and registry_id not in self.registries:
            raise error(400, "BAD_REQUEST", "failed to get the registry %s: registry %s not found"
                        % (registry_id, registry_id))
        if registry_id is not None:
            metadata.pop("enable_content_trust", None)
        storage = body.get("storage_limit")
        if storage is not None and storage != -1 and storage <= 0:
            raise error(400, "BAD_REQUEST", "storage %d is invalid" % storage)
        if self.quota_per_project and not storage:
            storage = -1
        project = self.add_project(name, registry_id=registry_id, storage=storage)
        project["metadata"].update(metadata)
        return Answer(201, None, {"Location": "%s/projects/%d" % (PREFIX, project["project_id"])})

    def update_project(self, project, body):
        metadata = (body or {}).get("metadata") or {}
        for key, value in metadata.items():
            if value is None or (key == "enable_content_trust" and project["registry_id"]):
                continue
            project["metadata"][key] = value
        project["update_time"] = now()
        return Answer(200)

    def delete_project(self, project):
        if project["repo_count"]:
            raise error(412, "PRECONDITION", "the project contains repositories, can not be deleted")
        del self.projects[project["name"]]
        for quota_id in [q["id"] for q in self.quotas.values() if q["ref"]["id"] == project["project_id"]]:
            del self.quotas[quota_id]
        for robot_id in [r["id"] for r in self.robots.values() if r["project_id"] == project["project_id"]]:
            del self.robots[robot_id]
        return Answer(200)

    def update_quota(self, key, body):
        quota = by_id(self.quotas, key, "quota")
        storage = ((body or {}).get("hard") or {}).get("storage")
        if not isinstance(storage, int) or (storage != -1 and storage <= 0):
            raise error(400, "BAD_REQUEST", "invalid storage %r" % storage)
        quota["hard"]["storage"] = storage
        return Answer(200)

    # ---------------------------------------------------------------- robots

    def robot_out(self, robot):
        out = {k: v for k, v in robot.items() if k not in ("secret", "project_id")}
        out["name"] = ROBOT_PREFIX + robot["name"]
        out["permissions"] = [dict(p, access=[dict(a, effect="") for a in p["access"]]) for p in robot["permissions"]]
        return out

    def find_robot(self, key):
        return by_id(self.robots, key, "robot")

    def list_robots(self, query):
        keywords = {}
        for pair in (query.get("q") or "").split(","):
            key, sep, value = pair.partition("=")
            if sep:
                keywords[key] = value
        level = keywords.get("Level", "system")
        if level not in ("system", "project"):
            raise error(400, "BAD_REQUEST", "bad request error level input")
        if level == "project":
            if not keywords.get("ProjectID", "").isdigit() or int(keywords["ProjectID"]) <= 0:
                raise error(400, "BAD_REQUEST", "ProjectID must be a positive integer")
            pid = int(keywords["ProjectID"])
        else:
            pid = 0

        def keep(robot):
            return robot["project_id"] == pid and ("name" not in keywords or robot["name"] == keywords["name"])

        answer = self.list_of(list(self.robots.values()), query, keep)
        answer.body = [self.robot_out(r) for r in answer.body]
        return answer

    def validate_robot(self, body):
        duration = body.get("duration")
        if not isinstance(duration, int) or not (duration == -1 or duration > 0):
            raise error(400, "BAD_REQUEST", "bad request error duration input: %s, duration must be either -1(Never) "
                                            "or a positive integer" % duration)
        level = body.get("level")
        if level not in ("system", "project"):
            raise error(400, "BAD_REQUEST", "bad request error level input: %s" % level)
        permissions = body.get("permissions") or []
        if not permissions:
            raise error(400, "BAD_REQUEST", "bad request empty permission")
        if level == "project" and len(permissions) > 1:
            raise error(400, "BAD_REQUEST", "bad request permission")
        for perm in permissions:
            if not perm.get("access"):
                raise error(400, "BAD_REQUEST", "bad request empty access")
            allowed = SYSTEM_ACCESS if perm.get("kind") == "system" else PROJECT_ACCESS
            if perm.get("kind") not in ("system", "project"):
                raise error(400, "BAD_REQUEST", "bad request permission level: %s" % perm.get("kind"))
            for access in perm["access"]:
                if (access.get("resource"), access.get("action")) not in allowed:
                    raise error(400, "BAD_REQUEST", "bad request permission: %s:%s"
                                % (access.get("resource"), access.get("action")))
            namespace = perm.get("namespace")
            if perm["kind"] == "project" and namespace != "*" and namespace not in self.projects:
                raise error(404, "NOT_FOUND", "project %s not found" % namespace)
        return [{"kind": p["kind"], "namespace": p["namespace"],
                 "access": [{"resource": a["resource"], "action": a["action"]} for a in p["access"]]}
                for p in permissions]

    def create_robot(self, body):
        body = body or {}
        name = body.get("name") or ""
        if not NAME_RE.match(name):
            raise error(400, "BAD_REQUEST", "robot name is not in lower case or contains illegal characters")
        permissions = self.validate_robot(body)
        project = None
        if body["level"] == "project":
            project = self.projects[permissions[0]["namespace"]]
            name = "%s+%s" % (project["name"], name)
        if any(r["name"] == name for r in self.robots.values()):
            raise error(409, "CONFLICT", "robot account %s already exists" % name)
        robot_id, secret = next(self._ids), secrets.token_urlsafe(24)
        duration = body["duration"]
        expires = -1 if duration == -1 else int(time.time()) + duration * 86400
        # Like Harbor, `disable` is not applied at creation.
        self.robots[robot_id] = {"id": robot_id, "name": name, "level": body["level"],
                                 "project_id": project["project_id"] if project else 0,
                                 "description": body.get("description") or "", "duration": duration,
                                 "expires_at": expires, "disable": False, "editable": True, "secret": secret,
                                 "creation_time": now(), "update_time": now(), "creator_type": "local",
                                 "creator_ref": 1, "permissions": permissions}
        return Answer(201, {"id": robot_id, "name": ROBOT_PREFIX + name, "secret": secret,
                            "creation_time": now(), "expires_at": expires},
                      {"Location": "%s/robots/%d" % (PREFIX, robot_id)})

    def update_robot(self, robot, body):
        body = dict(body or {})
        if body.get("duration") is None:
            body["duration"] = robot["duration"]
        permissions = self.validate_robot(body)
        if body.get("level") != robot["level"] or body.get("name") != ROBOT_PREFIX + robot["name"]:
            raise error(400, "BAD_REQUEST", "cannot update the level or name of robot")
        robot["duration"] = body["duration"]
        robot["description"] = body.get("description") or ""
        robot["disable"] = bool(body.get("disable"))
        robot["permissions"] = permissions
        robot["update_time"] = now()
        return Answer(200)

    def refresh_robot(self, robot, body):
        given = (body or {}).get("secret") or ""
        if given:
            robot["secret"] = given
            return Answer(200, {"secret": ""})
        robot["secret"] = secrets.token_urlsafe(24)
        return Answer(200, {"secret": robot["secret"]})

    def delete_robot(self, robot):
        del self.robots[robot["id"]]
        return Answer(200)

    # ---------------------------------------------------------------- registries

    def registry_out(self, registry):
        out = json.loads(json.dumps(registry))
        if out["credential"].get("access_secret"):
            out["credential"]["access_secret"] = "*****"  # as Harbor's handler answers it
        return out

    def find_registry(self, key):
        return by_id(self.registries, key, "registry")

    def list_registries(self, query):
        answer = self.list_of(list(self.registries.values()), query, self.q_filter(query, {"name": "name"}))
        answer.body = [self.registry_out(r) for r in answer.body]
        return answer

    @staticmethod
    def checked_url(url):
        url = (url or "").strip()
        if not url.startswith(("http://", "https://")):
            url = "http://" + url if url else url
        if not re.match(r"^https?://[^/\s]+", url):
            raise error(400, "BAD_REQUEST", "invalid URL: %r" % url)
        return url.rstrip("/")

    def unique_registry_name(self, name, registry_id=None):
        if not name:
            raise error(400, "BAD_REQUEST", "name is required")
        if any(r["name"] == name and r["id"] != registry_id for r in self.registries.values()):
            raise error(409, "CONFLICT", "registry %s already exists" % name)

    def create_registry(self, body):
        body = body or {}
        self.unique_registry_name(body.get("name"))
        if body.get("type") not in self.adapters:
            raise error(400, "BAD_REQUEST", "invalid registry type %s" % body.get("type"))
        credential = body.get("credential") or {}
        if credential.get("type") and credential["type"] not in CREDENTIAL_TYPES:
            raise error(400, "BAD_REQUEST", "invalid credential type %s" % credential["type"])
        registry_id = self.add_registry(body["name"], body["type"], self.checked_url(body.get("url")),
                                        {k: credential.get(k) or "" for k in ("type", "access_key", "access_secret")},
                                        description=body.get("description") or "",
                                        insecure=bool(body.get("insecure")),
                                        ca_certificate=body.get("ca_certificate") or "")
        return Answer(201, None, {"Location": "%s/registries/%d" % (PREFIX, registry_id)})

    def update_registry(self, registry, body):
        body = {k: v for k, v in (body or {}).items() if v is not None}
        if "name" in body:
            self.unique_registry_name(body["name"], registry["id"])
        if "url" in body:
            body["url"] = self.checked_url(body["url"])
        if body.get("credential_type") and body["credential_type"] not in CREDENTIAL_TYPES:
            raise error(400, "BAD_REQUEST", "invalid credential type %s" % body["credential_type"])
        for key in ("name", "url", "description", "insecure", "ca_certificate"):
            if key in body:
                registry[key] = body[key]
        for key, stored in (("credential_type", "type"), ("access_key", "access_key"),
                            ("access_secret", "access_secret")):
            if key in body:
                registry["credential"][stored] = body[key]
        registry["update_time"] = now()
        return Answer(200)

    def delete_registry(self, registry):
        users = [p["name"] for p in self.projects.values() if p["registry_id"] == registry["id"]]
        if users:
            raise error(412, "PRECONDITION", "Can't delete the registry %s, it's used by the project(s) %s"
                        % (registry["name"], ", ".join(users)))
        from fake_replication import registry_users  # pylint: disable=import-outside-toplevel
        if registry_users(self, registry["id"]):
            raise error(412, "PRECONDITION", "the registry %s is referenced by replication policies, cannot delete it"
                        % registry["id"])
        del self.registries[registry["id"]]
        return Answer(200)

    def ping_registry(self, what, body):
        if what != "ping":
            return None
        body = body or {}
        url = body.get("url")
        if body.get("id") is not None:
            url = url or self.find_registry(str(body["id"]))["url"]
        elif not body.get("type") or not url:
            raise error(400, "BAD_REQUEST", "type and url are required to ping a registry without an id")
        url = self.checked_url(url)
        if url in self.unhealthy:
            raise error(400, "BAD_REQUEST", self.unhealthy[url])
        return Answer(200)

    # ---------------------------------------------------------------- garbage collection

    def route_gc(self, method, rest, query, body):
        if rest == ["schedule"] and method == "GET":
            return Answer(200, self.gc_schedule)  # no body when there is no schedule, as Harbor
        if rest == ["schedule"] and method in ("POST", "PUT"):
            return self.kick_gc(method, body)
        if not rest and method == "GET":
            answer = self.list_of(list(self.gc_jobs.values()), query, lambda j: True)
            answer.body = [self.gc_out(j, advance=False) for j in answer.body]
            return answer
        if len(rest) == 1 and method == "GET":
            return Answer(200, self.gc_out(by_id(self.gc_jobs, rest[0], "garbage collection"), advance=True))
        raise error(405, "METHOD_NOT_ALLOWED", "%s /system/gc/%s is not part of the fake" % (method, "/".join(rest)))

    @staticmethod
    def gc_out(job, advance):
        job["job_status"] = job["statuses"][0]
        if advance and len(job["statuses"]) > 1:
            job["statuses"].pop(0)  # the next GET shows the next status
        return {k: v for k, v in job.items() if k != "statuses"}

    def kick_gc(self, method, body):
        schedule = (body or {}).get("schedule") or {}
        kind, cron = schedule.get("type"), schedule.get("cron") or ""
        parameters = (body or {}).get("parameters") or {}
        workers = parameters.get("workers", 1)
        if not isinstance(workers, int) or not 1 <= workers <= 5:
            raise error(400, "BAD_REQUEST", "Error: Invalid number of workers:%s. Workers must be greater than 0 "
                                            "and less than or equal to 5." % workers)
        if kind == "Manual":
            if any(j["statuses"][0] in ("Pending", "Running") for j in self.gc_jobs.values()):
                raise error(409, "CONFLICT", "a previous GC job is still running")
            gc_id = self.gc_job(**parameters)
            job = self.gc_jobs[gc_id]
            job["statuses"] = list(self.gc_statuses)
            job["job_status"] = job["statuses"][0]
            answer = Answer(201 if method == "POST" else 200)
            if method == "POST":
                answer.headers["Location"] = "%s/system/gc/%d" % (PREFIX, gc_id)
            return answer
        if kind == "None":
            self.gc_schedule = None
        elif kind in ("Hourly", "Daily", "Weekly", "Custom"):
            if len(cron.split()) != 6:
                raise error(400, "BAD_REQUEST", "invalid cron string for scheduled gc: %s" % cron)
            if method == "POST" and self.gc_schedule is not None:
                raise error(409, "CONFLICT", "fail to set schedule for garbage collection, it's already exist")
            self.gc_schedule = {"id": next(self._ids), "job_name": "GARBAGE_COLLECTION", "job_kind": "SCHEDULE",
                                "job_parameters": json.dumps(parameters),
                                "schedule": {"type": kind, "cron": cron, "next_scheduled_time": now()},
                                "deleted": False, "creation_time": now(), "update_time": now()}
        else:
            raise error(400, "BAD_REQUEST", "unsupported schedule type: %s" % kind)
        return Answer(201 if method == "POST" else 200)

    # ---------------------------------------------------------------- configurations, systeminfo

    def config_out(self):
        return {k: {"value": v, "editable": k not in self.config_locked} for k, v in self.config.items()
                if k not in WRITE_ONLY}

    def update_config(self, body):
        if not isinstance(body, dict):
            raise error(400, "BAD_REQUEST", "the body must be a map")
        for key, value in body.items():
            if key not in self.config:
                raise error(400, "BAD_REQUEST", "invalid configuration item %s" % key)
            if type(value) is not type(self.config[key]):  # noqa: E721 - bool is not int here
                raise error(400, "BAD_REQUEST", "invalid value of %s: %r" % (key, value))
            if key in self.config_locked and value != self.config[key]:
                raise error(400, "BAD_REQUEST", "the configure item can not be modified: %s" % key)
        self.config.update(body)
        return Answer(200)

    def systeminfo(self):
        return {"auth_mode": self.config["auth_mode"], "primary_auth_mode": False, "harbor_version": "v2.15.2-fake",
                "project_creation_restriction": self.config["project_creation_restriction"],
                "self_registration": self.config["self_registration"], "has_ca_root": False,
                "read_only": self.config["read_only"], "external_url": self.url, "registry_url": "127.0.0.1",
                "registry_storage_provider_name": "filesystem", "current_time": now(),
                "notification_enable": True, "banner_message": ""}


def self_signed(directory):
    """A self-signed certificate for 127.0.0.1 in `directory`: (cert path, key path) as strings."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-harbor")])
    start = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - datetime.timedelta(minutes=5))
            .not_valid_after(start + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "fake-harbor.crt", directory / "fake-harbor.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def tls_context(cert_path, key_path):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
