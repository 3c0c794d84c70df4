# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A small client of Harbor's REST API (v2.0), shared by the harbor.deploy modules.

Private to the harbor.deploy collection: the interface may change without notice.
Standard library and ansible.module_utils only: this runs on the managed node.

- ``HarborClient(base_url, username, password, ...)``: basic auth (a user such as admin, or a
  robot account), a CA bundle or ``validate_certs``, a timeout per request, and retries with
  exponential backoff on 5xx answers and connection errors (never on 4xx, nor on a TLS
  certificate that does not verify).
- JSON in and out; ``list_all`` reads every page of a listing (``page``/``page_size``,
  stopping at ``X-Total-Count``).
- ``HarborApiError``: names the method, the path, the resource the module was working on,
  the HTTP status and Harbor's own message (its body is ``{"errors": [{"code", "message"}]}``).
- ``api_argument_spec()`` and ``client_from_module(module)``: the options every API module
  takes (documented by the ``harbor.deploy.api`` doc fragment).
- For the modules: ``ApiModule`` (a worker's base: module, params, client, fail), ``find_by_name``, ``changed_keys``
  (compare only the keys given), ``finish`` (exit with the diff), ``ensure_absent`` (state=absent with check mode and
  diff), ``wait_until`` (poll with a timeout), and ``SECRET_KEPT``/``SECRET_NEW`` (write-only secrets in a diff).
- ``get_project`` (a project by its name, or None), with ``project_path`` and ``BY_NAME`` (the header that makes
  ``/projects/{x}`` take a name rather than an id).
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import Request, SSLValidationError, make_context

API_PREFIX = "/api/v2.0"

# Attempts after the first one, and the first wait (doubled after each retry), in seconds.
RETRIES = 3
BACKOFF = 1.0
RETRIED_STATUSES = frozenset((500, 502, 503, 504))
PAGE_SIZE = 100  # Harbor's largest page
MAX_PAGES = 1000  # a guard against a server that never says it is done


def api_argument_spec():
    """The connection options every harbor.deploy API module takes (a fresh dict each call)."""
    return dict(
        api_url=dict(type="str", required=True, fallback=(env_fallback, ["HARBOR_URL"])),
        api_username=dict(type="str", default="admin", fallback=(env_fallback, ["HARBOR_USERNAME"])),
        api_password=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["HARBOR_PASSWORD"])),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="float", default=30),
    )


def wait_argument_spec():
    """wait and wait_timeout, for the modules that start a job and may wait for it (doc fragment api_wait)."""
    return dict(wait=dict(type="bool", default=True), wait_timeout=dict(type="int", default=600))


class HarborApiError(Exception):
    """A request that failed: an HTTP error answer, or no usable answer at all (status None)."""

    def __init__(self, method, path, status=None, message="", resource=None, code=None, request_id=None):
        self.method = method
        self.path = path
        self.status = status
        self.message = message
        self.resource = resource
        self.code = code
        self.request_id = request_id
        super().__init__(self._text())

    def _text(self):
        where = "%s %s%s" % (self.method, self.path, " (%s)" % self.resource if self.resource else "")
        status = "HTTP %s" % self.status if self.status is not None else "no answer"
        if self.code:
            status += " %s" % self.code
        request_id = " [X-Request-Id %s]" % self.request_id if self.request_id else ""
        return "%s: %s: %s%s" % (where, status, self.message, request_id)


class Response:
    """A 2xx answer: status, headers (case-insensitive mapping), JSON data (None when empty)."""

    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    @property
    def location_id(self):
        """The last path element of the Location header (the new resource's id), as an int if it is one."""
        location = self.headers.get("Location") if self.headers else None
        if not location:
            return None
        last = urllib.parse.urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
        return int(last) if last.isdigit() else urllib.parse.unquote(last)

    @property
    def total_count(self):
        value = self.headers.get("X-Total-Count") if self.headers else None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None


def normalize_url(url):
    """``https://harbor.example.com[:port][/prefix]`` without a trailing slash nor /api/v2.0."""
    text = (url or "").strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("api_url must be http://HOST or https://HOST (with an optional :PORT), not %r" % url)
    path = parts.path.rstrip("/")
    if path.endswith(API_PREFIX):
        path = path[: -len(API_PREFIX)]
    return "%s://%s%s" % (parts.scheme, parts.netloc, path)


def harbor_message(body):
    """Harbor's own message from an error body, or the start of whatever the body is; and its first code."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        errors = [e for e in data["errors"] if isinstance(e, dict)]
        messages = [str(e.get("message") or e.get("code") or "") for e in errors]
        code = next((str(e["code"]) for e in errors if e.get("code")), None)
        return "; ".join(m for m in messages if m) or "(no message)", code
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"]), data.get("code")
    return _clip(body or "(empty body)"), None


def _clip(text, limit=200):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_cert_error(exc):
    reason = getattr(exc, "reason", exc)
    return isinstance(exc, SSLValidationError) or isinstance(reason, ssl.SSLCertVerificationError)


class HarborClient:
    """Requests to one Harbor; paths are relative to /api/v2.0 (``/projects``)."""

    def __init__(self, base_url, username=None, password=None, validate_certs=True, ca_path=None, timeout=30,
                 retries=None, backoff=None, sleep=time.sleep):
        self.base_url = normalize_url(base_url)
        self.username = username
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.retries = RETRIES if retries is None else retries
        self.backoff = BACKOFF if backoff is None else backoff
        self.sleep = sleep
        self.attempts = 0  # requests sent, retries included (for tests and diagnostics)
        self._context = self._make_context()
        self._auth = None
        if username:
            token = base64.b64encode(("%s:%s" % (username, password or "")).encode("utf-8")).decode("ascii")
            self._auth = "Basic " + token

    def url(self, path, query=None):
        url = self.base_url + API_PREFIX + "/" + path.lstrip("/")
        if query:
            items = [(k, v) for k, v in query.items() if v is not None]
            items = [(k, str(v).lower() if isinstance(v, bool) else v) for k, v in items]
            url += "?" + urllib.parse.urlencode(items)
        return url

    def request(self, method, path, body=None, query=None, headers=None, resource=None):
        """Send one request (retried as described above) and return its Response, or raise HarborApiError."""
        method = method.upper()
        url = self.url(path, query)
        shown = API_PREFIX + "/" + path.lstrip("/")
        all_headers = {"Accept": "application/json"}
        if self._auth:
            all_headers["Authorization"] = self._auth
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})

        attempt = 0
        while True:
            attempt += 1
            self.attempts += 1
            try:
                answer = Request().open(method, url, data=data, headers=all_headers, timeout=self.timeout,
                                        validate_certs=self.validate_certs, ca_path=self.ca_path,
                                        follow_redirects="none", use_netrc=False, use_proxy=True,
                                        context=self._context)
                payload = self._json(answer.read(), answer.status, method, shown, resource)
                return Response(answer.status, answer.headers, payload)
            except urllib.error.HTTPError as exc:
                error = self._http_error(exc, method, shown, resource, attempt)
                if exc.code not in RETRIED_STATUSES or attempt > self.retries:
                    raise error from None
            except (urllib.error.URLError, http.client.HTTPException, OSError, socket.timeout,
                    UrlsConnectionError) as exc:
                if _is_cert_error(exc):
                    raise HarborApiError(method, shown, None, "the TLS certificate of %s does not verify (%s): set "
                                         "ca_path to the CA that signed it, or validate_certs=false"
                                         % (self.base_url, getattr(exc, "reason", exc)), resource) from None
                if attempt > self.retries:
                    raise HarborApiError(method, shown, None, "cannot reach %s: %s%s" % (
                        self.base_url, getattr(exc, "reason", None) or exc or type(exc).__name__,
                        self._tries(attempt)), resource) from None
            self.sleep(self.backoff * 2 ** (attempt - 1))

    def _make_context(self):
        """One SSL context for every request (building one reads the system's CA bundle)."""
        if not self.base_url.startswith("https://"):
            return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # unused: plain HTTP, and redirects are not followed
        try:
            return make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
        except (OSError, ValueError) as exc:
            raise ValueError("ca_path %s: cannot load it as PEM CA certificates: %s" % (self.ca_path, exc)) from None

    def _tries(self, attempt):
        return " (after %d attempts)" % attempt if attempt > 1 else ""

    def _json(self, raw, status, method, shown, resource):
        if not raw or not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            raise HarborApiError(method, shown, status, "the answer is not JSON: %s" % _clip(
                raw.decode("utf-8", "replace")), resource) from None

    def _http_error(self, exc, method, shown, resource, attempt):
        try:
            raw = exc.read()
        except Exception:  # pylint: disable=broad-except
            raw = b""  # the body is only for the message
        headers = exc.headers or {}
        message, code = harbor_message(raw)
        if 300 <= exc.code < 400:
            target = headers.get("Location") or exc.url
            message = "Harbor redirects to %s: set api_url to the address it redirects to" % target
        elif exc.code == 401:
            message = "authentication failed for user %r: %s (check api_username and api_password)" % (
                self.username or "", message)
        elif exc.code == 403:
            message = "user %r may not do this: %s" % (self.username or "", message)
        if exc.code == 409 and attempt > 1 and method == "POST":
            message += " (an earlier attempt of this request may have succeeded before the error)"
        if exc.code in RETRIED_STATUSES:
            message += self._tries(attempt)
        return HarborApiError(method, shown, exc.code, message, resource, code, headers.get("X-Request-Id"))

    # ---------------------------------------------------------------- shorthands

    def get(self, path, query=None, headers=None, resource=None):
        return self.request("GET", path, query=query, headers=headers, resource=resource).data

    def get_or_none(self, path, query=None, headers=None, resource=None):
        """GET, but None when Harbor answers 404."""
        try:
            return self.get(path, query=query, headers=headers, resource=resource)
        except HarborApiError as exc:
            if exc.status == 404:
                return None
            raise

    def post(self, path, body, headers=None, resource=None):
        return self.request("POST", path, body=body, headers=headers, resource=resource)

    def put(self, path, body, headers=None, resource=None):
        return self.request("PUT", path, body=body, headers=headers, resource=resource)

    def patch(self, path, body, headers=None, resource=None):
        return self.request("PATCH", path, body=body, headers=headers, resource=resource)

    def delete(self, path, headers=None, resource=None):
        return self.request("DELETE", path, headers=headers, resource=resource)

    def list_all(self, path, query=None, page_size=PAGE_SIZE, headers=None, resource=None):
        """Every item of a paginated listing, page after page until X-Total-Count (or a short page)."""
        items = []
        for page in range(1, MAX_PAGES + 1):
            answer = self.request("GET", path, query=dict(query or {}, page=page, page_size=page_size),
                                  headers=headers, resource=resource)
            batch = answer.data or []
            if not isinstance(batch, list):
                raise HarborApiError("GET", API_PREFIX + "/" + path.lstrip("/"), answer.status,
                                     "expected a list, got: %s" % _clip(json.dumps(batch)), resource)
            items.extend(batch)
            total = answer.total_count
            if not batch or len(batch) < page_size or (total is not None and len(items) >= total):
                break
        return items


def client_from_module(module, **kwargs):
    """A HarborClient from the module's api_* options; fails the module on a malformed api_url."""
    params = module.params
    try:
        return HarborClient(params["api_url"], params["api_username"], params["api_password"],
                            validate_certs=params["validate_certs"], ca_path=params["ca_path"],
                            timeout=params["timeout"], **kwargs)
    except ValueError as exc:
        module.fail_json(msg=str(exc))


def run_module(module, worker_cls):
    """Run worker_cls(module).run(); an API error fails the module with its method, path and status."""
    try:
        worker_cls(module).run()
    except HarborApiError as exc:
        module.fail_json(msg=str(exc), status=exc.status, method=exc.method, path=exc.path)


# ---------------------------------------------------------------- helpers shared by the modules

SECRET_KEPT = "(not shown)"  # a write-only secret Harbor holds (never readable), in a diff
SECRET_NEW = "(new, not shown)"  # the same, replaced by this run


class ApiModule:
    """The base of a module's worker for run_module(): the module, its params and a client; run() does the work."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = client_from_module(module)

    def fail(self, msg, **extra):
        self.module.fail_json(msg=msg, **extra)

    def run(self):
        raise NotImplementedError


def find_by_name(client, path, name, resource=None, key="name"):
    """The one item of a listing whose `key` is exactly `name` (asked with Harbor's ``q=key=name``), or None."""
    found = [i for i in client.list_all(path, query={"q": "%s=%s" % (key, name)}, resource=resource)
             if i.get(key) == name]
    return found[0] if found else None


BY_NAME = {"X-Is-Resource-Name": "true"}  # with it, /projects/{x} takes the project's name rather than its id


def project_path(name):
    """The API path of the project named `name` (send it with the BY_NAME headers)."""
    return "/projects/%s" % urllib.parse.quote(name, safe="")


def get_project(client, name, resource=None):
    """The project named `name`, as ``GET /projects/{name}`` answers it, or None when Harbor has no such project."""
    return client.get_or_none(project_path(name), headers=BY_NAME, resource=resource or "project %s" % name)


def changed_keys(before, wanted):
    """The items of `wanted` whose value differs from `before`'s (only the keys given are compared)."""
    return {key: value for key, value in wanted.items() if before.get(key) != value}


def finish(module, result, before, after):
    """Exit the module with `result`, and with ``diff`` {before, after} when the run asked for a diff."""
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


def ensure_absent(module, client, current, path, result, key, before, resource=None, headers=None):
    """state=absent: DELETE `path` when `current` exists (not in check mode), then finish with the diff to {}."""
    if current is not None:
        result["changed"] = True
        if not module.check_mode:
            client.delete(path, headers=headers, resource=resource)
            result[key] = None
    finish(module, result, before, {})


def wait_until(poll, done, timeout, interval=2.0, sleep=time.sleep, clock=time.monotonic):
    """Call poll() until done(its answer) or `timeout` seconds passed; (answer, finished in time)."""
    deadline = clock() + timeout
    while True:
        answer = poll()
        if done(answer):
            return answer, True
        left = deadline - clock()
        if left <= 0:
            return answer, False
        sleep(min(interval, left))
