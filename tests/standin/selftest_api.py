#!/usr/bin/env python3
"""HTTP checks for tests/standin/selftest.sh (stdlib only).

usage: selftest_api.py BASE_URL CAFILE COMMAND [ARGS]
  wait-healthy TIMEOUT         poll /api/v2.0/health until every component is healthy
  contract PASSWORD            the API contract the roles rely on (prints one line per check)
  registry-flow PASSWORD REPO  a full push through the registry API (token, blob, manifest), then pull
  password-is PASSWORD         exit 0 when admin:PASSWORD is accepted
  seed PASSWORD                data that must survive an upgrade: project kept, robot keeper, a banner
  seeded PASSWORD              that data is still there (the robot's secret still works)
  read-only PASSWORD on|off    set configurations.read_only; on: writes refused (403 DENIED), reads
                               served; off: a registry write is accepted again at once
  config-as-code PASSWORD      registries (ping), projects (metadata, quotas, proxy cache, 412 when not
                               empty), robots (pull-only refused a push), GC (a run reaching Success),
                               configurations; 400 on bad bodies, pagination headers
Each check prints "ok: ..." or "FAIL: ..."; the exit code is the number of failures.
"""
import base64
import hashlib
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE, CAFILE, CMD = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
ARGS = sys.argv[4:]
CTX = ssl.create_default_context(cafile=CAFILE) if CAFILE and CAFILE != "-" else None
FAILS = 0


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=CTX))


def req(method, path, body=None, headers=None, auth=None, url=None):
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    r = urllib.request.Request(url or BASE + path, data=body, method=method, headers=h)
    try:
        resp = OPENER.open(r, timeout=30)
        return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def check(cond, what):
    global FAILS
    if cond:
        print(f"ok: {what}")
    else:
        FAILS += 1
        print(f"FAIL: {what}")
    return cond


def wait_healthy(timeout):
    deadline = time.time() + float(timeout)
    last = None
    seen_unknown = False
    while time.time() < deadline:
        try:
            status, _, body = req("GET", "/api/v2.0/health")
            if status == 200:
                last = json.loads(body)
                seen_unknown |= any(c.get("error") == "unknown status" for c in last["components"])
                if last["status"] == "healthy" and all(c["status"] == "healthy" for c in last["components"]):
                    names = sorted(c["name"] for c in last["components"])
                    check(True, f"health: every component healthy ({', '.join(names)})")
                    return
            else:
                last = f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001
            last = repr(exc)
        time.sleep(2)
    check(False, f"health: not healthy after {timeout}s: {last}")


def token(password, scopes, post=False):
    realm = BASE + "/service/token"
    if post:
        form = {"grant_type": "password", "username": "admin", "password": password, "service": "harbor-registry",
                "client_id": "selftest", "scope": " ".join(scopes)}
        return req("POST", "", urllib.parse.urlencode(form).encode(),
                   {"Content-Type": "application/x-www-form-urlencoded"}, url=realm)
    q = urllib.parse.urlencode([("service", "harbor-registry")] + [("scope", s) for s in scopes])
    return req("GET", "", auth=("admin", password) if password else None, url=f"{realm}?{q}")


def claims(tok):
    part = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def contract(password):
    host = urllib.parse.urlparse(BASE).netloc
    s, h, b = req("GET", "/v2/")
    check(s == 401, f"GET /v2/ anonymous -> 401 (got {s})")
    check(h.get("Www-Authenticate") == f'Bearer realm="{BASE}/service/token",service="harbor-registry"',
          f"/v2/ challenge names {BASE}/service/token (got {h.get('Www-Authenticate')})")
    s, _, _ = req("GET", "/v2/", auth=("admin", password))
    check(s == 200, f"GET /v2/ with admin basic auth -> 200 (got {s})")
    s, _, _ = req("GET", "/v2/", auth=("admin", password + "x"))
    check(s == 401, f"GET /v2/ with a wrong password -> 401 (got {s})")
    s, _, b = req("GET", "/api/v2.0/ping")
    check(s == 200 and b == b"Pong", f"/api/v2.0/ping -> Pong (got {s} {b[:20]!r})")
    s, _, b = req("GET", "/api/v2.0/systeminfo")
    info = json.loads(b) if s == 200 else {}
    check(s == 200 and info.get("auth_mode") == "db_auth" and "harbor_version" not in info,
          f"systeminfo anonymous: auth_mode, no harbor_version (got {s} {sorted(info)})")
    s, _, b = req("GET", "/api/v2.0/systeminfo", auth=("admin", password))
    info = json.loads(b) if s == 200 else {}
    check(str(info.get("harbor_version", "")).startswith("v2."), f"systeminfo as admin: harbor_version "
          f"{info.get('harbor_version')}, registry_url {info.get('registry_url')}")
    check(info.get("registry_url") == host, f"systeminfo registry_url is {host}")
    s, _, b = req("GET", "/api/v2.0/users/current", auth=("admin", password + "x"))
    check(s == 401, f"API with a wrong password -> 401 (got {s})")
    s, h, b = req("GET", "/api/v2.0/projects")
    names = [p["name"] for p in json.loads(b)] if s == 200 else []
    check("library" in names, f"projects (anonymous) lists library (got {s} {names})")
    body = json.dumps({"project_name": "selftest-private", "metadata": {"public": "false"}}).encode()
    s, h, _ = req("POST", "/api/v2.0/projects", body, {"Content-Type": "application/json"}, ("admin", password))
    check(s == 201 and h.get("Location", "").startswith("/api/v2.0/projects/"),
          f"POST /projects creates selftest-private (got {s} {h.get('Location')})")
    s, _, _ = req("POST", "/api/v2.0/projects", body, {"Content-Type": "application/json"}, ("admin", password))
    check(s == 409, f"POST /projects again -> 409 (got {s})")
    s, _, _ = req("POST", "/api/v2.0/projects", body, {"Content-Type": "application/json"})
    check(s == 401, f"POST /projects anonymous -> 401 (got {s})")
    s, _, _ = req("HEAD", "/api/v2.0/projects?project_name=selftest-private", auth=("admin", password))
    check(s == 200, f"HEAD /projects?project_name=selftest-private -> 200 (got {s})")
    s, _, b = req("GET", "/api/v2.0/projects", auth=("admin", password))
    names = [p["name"] for p in json.loads(b)] if s == 200 else []
    check("selftest-private" in names, f"projects as admin lists the private project (got {names})")
    s, _, b = req("GET", "/api/v2.0/projects")
    names = [p["name"] for p in json.loads(b)] if s == 200 else []
    check("selftest-private" not in names, "projects (anonymous) hides the private project")
    # token service, as docker (GET, basic auth, scope twice) and containerd (POST) ask
    s, _, b = token(password, ["repository:library/x:pull,push", "repository:library/y:pull"])
    t = json.loads(b) if s == 200 else {}
    acc = claims(t["token"])["access"] if t.get("token") else []
    check(s == 200 and t.get("token") == t.get("access_token") and
          {"type": "repository", "name": "library/x", "actions": ["pull", "push"]} in acc and len(acc) == 2,
          f"GET /service/token (two scopes) -> token and access_token, access {acc}")
    s, _, b = token(password, ["repository:library/x:pull,push"], post=True)
    t = json.loads(b) if s == 200 else {}
    check(s == 200 and t.get("access_token") and claims(t["access_token"])["access"][0]["actions"] == ["pull", "push"],
          f"POST /service/token (OAuth2 password grant) -> access_token (got {s})")
    s, _, _ = token(password + "x", ["repository:library/x:pull"])
    check(s == 401, f"token with a wrong password -> 401 (got {s})")
    s, _, b = token(None, ["repository:library/x:pull,push", "repository:selftest-private/x:pull"])
    acc = claims(json.loads(b)["token"])["access"] if s == 200 else []
    check(s == 200 and acc and acc[0]["actions"] == ["pull"] and acc[1]["actions"] == [],
          f"anonymous token: pull on public library only (got {acc})")
    c = claims(json.loads(b)["token"]) if s == 200 else {}
    check(c.get("aud") == "harbor-registry" and c.get("iss") == "harbor-token-issuer",
          f"JWT aud/iss (got {c.get('aud')}/{c.get('iss')})")
    # robot accounts: what pulling nodes are usually given
    body = json.dumps({"name": "puller", "level": "system", "duration": -1, "permissions": [
        {"kind": "project", "namespace": "selftest-private",
         "access": [{"resource": "repository", "action": "pull"}]}]}).encode()
    s, _, b = req("POST", "/api/v2.0/robots", body, {"Content-Type": "application/json"}, ("admin", password))
    robot = json.loads(b) if s == 201 else {}
    check(s == 201 and robot.get("name") == "robot$puller" and robot.get("secret"),
          f"POST /robots creates robot$puller with a secret (got {s})")
    if robot.get("secret"):
        q = urllib.parse.urlencode([("service", "harbor-registry"), ("scope", "repository:selftest-private/x:pull,push"),
                                    ("scope", "repository:library/x:pull,push")])
        s, _, b = req("GET", f"/service/token?{q}", auth=(robot["name"], robot["secret"]))
        acc = claims(json.loads(b)["token"])["access"] if s == 200 else []
        check(s == 200 and acc[0]["actions"] == ["pull"] and acc[1]["actions"] == ["pull"],
              f"robot token: pull on its project, pull on public library, no push (got {acc})")
        s, _, _ = req("GET", f"/service/token?{q}", auth=(robot["name"], robot["secret"] + "x"))
        check(s == 401, f"robot with a wrong secret -> 401 (got {s})")
    s, _, _ = req("PUT", "/api/v2.0/configurations", json.dumps({"project_creation_restriction": "adminonly"}).encode(),
                  {"Content-Type": "application/json"}, ("admin", password))
    s2, _, b = req("GET", "/api/v2.0/configurations", auth=("admin", password))
    val = json.loads(b).get("project_creation_restriction", {}).get("value") if s2 == 200 else None
    check(s == 200 and val == "adminonly", f"PUT/GET /configurations round trip (got {s}/{s2} {val})")


READ_ONLY_BODY = {"errors": [{"code": "DENIED",
                              "message": "The system is in read only mode. Any modification is prohibited."}]}
JSON = {"Content-Type": "application/json"}
KEEPER = ("robot$keeper", "Keeper-Secret1")


def seed(password):
    admin = ("admin", password)
    body = json.dumps({"project_name": "kept", "metadata": {"public": "false"}}).encode()
    s, _, _ = req("POST", "/api/v2.0/projects", body, JSON, admin)
    check(s == 201, f"seed: project kept (got {s})")
    body = json.dumps({"name": "keeper", "level": "system", "duration": -1, "secret": KEEPER[1], "permissions": [
        {"kind": "project", "namespace": "kept", "access": [{"resource": "repository", "action": "pull"}]}]}).encode()
    s, _, b = req("POST", "/api/v2.0/robots", body, JSON, admin)
    check(s == 201 and json.loads(b).get("name") == KEEPER[0], f"seed: robot {KEEPER[0]} (got {s})")
    s, _, _ = req("PUT", "/api/v2.0/configurations", json.dumps({"banner_message": "kept"}).encode(), JSON, admin)
    check(s == 200, f"seed: configurations banner_message (got {s})")


def seeded(password):
    admin = ("admin", password)
    s, _, b = req("GET", "/api/v2.0/projects/kept", auth=admin)
    pub = json.loads(b).get("metadata", {}).get("public") if s == 200 else None
    check(s == 200 and pub == "false", f"kept: project kept, still private (got {s} public={pub})")
    q = urllib.parse.urlencode([("service", "harbor-registry"), ("scope", "repository:kept/x:pull,push")])
    s, _, b = req("GET", f"/service/token?{q}", auth=KEEPER)
    acc = claims(json.loads(b)["token"])["access"] if s == 200 else []
    check(s == 200 and acc and acc[0]["actions"] == ["pull"], f"kept: {KEEPER[0]} and its secret (got {s} {acc})")
    s, _, b = req("GET", "/api/v2.0/configurations", auth=admin)
    val = json.loads(b).get("banner_message", {}).get("value") if s == 200 else None
    check(val == "kept", f"kept: configurations banner_message (got {val!r})")


def read_only(password, state):
    admin = ("admin", password)
    on = state == "on"
    s, _, _ = req("PUT", "/api/v2.0/configurations", json.dumps({"read_only": on}).encode(), JSON, admin)
    check(s == 200, f"PUT /configurations read_only={on} -> 200 (got {s})")
    s, _, b = req("GET", "/api/v2.0/systeminfo", auth=admin)
    check(s == 200 and json.loads(b).get("read_only") is on, f"systeminfo read_only is {on}")
    if not on:  # no cache to wait for: the very next write goes through
        s, _, _ = req("POST", "/v2/library/ro/blobs/uploads/", auth=admin)
        check(s == 202, f"read_only off: blob upload start -> 202 at once (got {s})")
        return
    s, _, b = token(password, ["repository:library/ro:pull,push"])
    bearer = {"Authorization": "Bearer " + json.loads(b)["token"]} if s == 200 else {}
    check(s == 200, f"read-only: GET /service/token still answers (got {s})")
    s, _, _ = token(password, ["repository:library/ro:pull,push"], post=True)
    check(s == 200, f"read-only: POST /service/token (OAuth2) still answers (got {s})")

    def refused(method, path, body=None, headers=None, auth=None, what=""):
        s, h, b = req(method, path, body, headers, auth)
        try:
            got = json.loads(b)
        except ValueError:
            got = b[:80]
        good = s == 403 and got == READ_ONLY_BODY
        check(good, f"read-only: {what or method + ' ' + path} -> 403 DENIED" + ("" if good else f" (got {s} {got})"))
    refused("POST", "/v2/library/ro/blobs/uploads/", auth=admin, what="blob upload start (basic auth)")
    refused("POST", "/v2/library/ro/blobs/uploads/", headers=bearer, what="blob upload start (bearer token)")
    refused("POST", "/v2/library/ro/blobs/uploads/", what="blob upload start (anonymous)")
    refused("PUT", "/v2/library/ro/manifests/1", b"{}", dict(bearer, **{
        "Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}), what="manifest PUT")
    refused("DELETE", "/v2/library/selftest/manifests/1", auth=admin, what="manifest DELETE")
    s, _, _ = req("POST", "/v2/library/ro/blobs/uploads/", auth=("admin", password + "x"))
    check(s == 401, f"read-only: a wrong password is still 401 first (got {s})")
    accept = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
    s, _, _ = req("GET", "/v2/library/selftest/manifests/1", headers=accept, auth=admin)
    check(s == 200, f"read-only: manifest GET (pull) -> 200 (got {s})")
    s, _, _ = req("HEAD", "/v2/library/selftest/manifests/1", headers=accept, auth=admin)
    check(s == 200, f"read-only: manifest HEAD -> 200 (got {s})")
    refused("POST", "/api/v2.0/projects", json.dumps({"project_name": "ro-project"}).encode(), JSON, admin)
    refused("PUT", "/api/v2.0/projects/library", json.dumps({"metadata": {"public": "true"}}).encode(), JSON, admin)
    refused("DELETE", "/api/v2.0/projects/selftest-private", auth=admin)
    refused("POST", "/api/v2.0/robots", json.dumps({"name": "ro", "level": "system"}).encode(), JSON, admin)
    refused("PUT", "/api/v2.0/users/1/password", json.dumps({"old_password": password,
                                                            "new_password": "Never-Set1"}).encode(), JSON, admin)
    s, _, b = req("GET", "/api/v2.0/projects", auth=admin)
    check(s == 200, f"read-only: GET /projects -> 200 (got {s})")


def registry_flow(password, repo):
    """Push a tiny image through the registry API as a client would, then pull it back."""
    layer = os.urandom(256)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [
        "sha256:" + hashlib.sha256(layer).hexdigest()]}, "config": {}}).encode()
    s, _, b = token(password, [f"repository:{repo}:pull,push"])
    bearer = {"Authorization": "Bearer " + json.loads(b)["token"]}
    digests = {}
    for blob in (layer, config):
        d = "sha256:" + hashlib.sha256(blob).hexdigest()
        digests[blob] = d
        s, h, _ = req("POST", f"/v2/{repo}/blobs/uploads/", headers=bearer)
        if not check(s == 202, f"start blob upload -> 202 (got {s})"):
            return
        loc = h["Location"]
        sep = "&" if "?" in loc else "?"
        url = (loc if loc.startswith("http") else BASE + loc) + f"{sep}digest={urllib.parse.quote(d)}"
        s, _, _ = req("PUT", "", blob, dict(bearer, **{"Content-Type": "application/octet-stream"}), url=url)
        check(s == 201, f"monolithic blob PUT {d[:19]} -> 201 (got {s})")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                      "size": len(config), "digest": digests[config]},
                           "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                       "size": len(layer), "digest": digests[layer]}]}).encode()
    mdigest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    s, h, _ = req("PUT", f"/v2/{repo}/manifests/v1", manifest,
                  dict(bearer, **{"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"}))
    check(s == 201 and h.get("Docker-Content-Digest") == mdigest, f"manifest PUT -> 201, digest {mdigest[:19]}")
    s, _, b = token(None, [f"repository:{repo}:pull"])
    anon = {"Authorization": "Bearer " + json.loads(b)["token"],
            "Accept": "application/vnd.docker.distribution.manifest.v2+json"}
    s, h, b = req("GET", f"/v2/{repo}/manifests/v1", headers=anon)
    public = repo.startswith("library/")
    if public:
        check(s == 200 and hashlib.sha256(b).hexdigest() == mdigest[7:], f"anonymous manifest GET -> same digest")
        s, _, b = req("GET", f"/v2/{repo}/blobs/{digests[layer]}", headers=anon)
        check(s == 200 and b == layer, "anonymous blob GET -> same bytes")
    else:
        check(s == 401, f"anonymous pull from a private project -> 401 (got {s})")
        s, _, b = req("GET", f"/v2/{repo}/manifests/v1", headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json"}, auth=("admin", password))
        check(s == 200 and hashlib.sha256(b).hexdigest() == mdigest[7:], "admin (basic auth on /v2/) pulls it")


def config_as_code(password):
    """The endpoints of Harbor's configuration as code: registries, projects (metadata, quotas, proxy cache),
    robots, GC, configurations; bodies checked against the swagger (400 BAD_REQUEST), pagination headers."""
    admin = ("admin", password)

    def j(method, path, body=None, headers=None, auth=admin):
        data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
        s, h, b = req(method, "/api/v2.0" + path, data, dict(JSON, **(headers or {})), auth)
        try:
            out = json.loads(b) if b else None
        except ValueError:
            out = b.decode(errors="replace")
        return s, h, out

    def refused400(answer, what, words):
        s, _, data = answer
        err = (data or {}).get("errors", [{}])[0] if isinstance(data, dict) else {}
        msg = err.get("message", "")
        check(s == 400 and err.get("code") == "BAD_REQUEST" and words in msg,
              f"{what} -> 400 BAD_REQUEST: {msg!r}" + ("" if s == 400 else f" (got {s} {data})"))

    def loc_id(h, prefix):
        loc = h.get("Location") or ""
        return int(loc[len(prefix):]) if loc.startswith(prefix) and loc[len(prefix):].isdigit() else None

    # registries
    s, _, adapters = j("GET", "/replication/adapters")
    check(s == 200 and {"harbor", "docker-hub", "docker-registry"} <= set(adapters or []),
          f"GET /replication/adapters lists the registry types (got {s} {adapters})")
    s, _, _ = j("GET", "/registries", auth=None)
    check(s == 401, f"GET /registries anonymous -> 401 (got {s})")
    upstream = {"name": "st-upstream", "type": "docker-registry", "url": "http://registry:5000/", "insecure": True,
                "description": "the stand-in's own registry", "credential": {"type": "basic", "access_key": "puller",
                                                                           "access_secret": "Upstream-Pw1"}}
    s, h, _ = j("POST", "/registries", upstream)
    rid = loc_id(h, "/api/v2.0/registries/")
    check(s == 201 and rid, f"POST /registries -> 201, Location {h.get('Location')}")
    s, _, reg = j("GET", f"/registries/{rid}")
    check(s == 200 and reg.get("url") == "http://registry:5000" and reg.get("credential", {}).get("access_secret")
          == "*****" and reg.get("credential", {}).get("access_key") == "puller",
          f"GET /registries/{rid}: url without the slash, access_secret masked (got {s} {reg})")
    s, _, _ = j("POST", "/registries", upstream)
    check(s == 409, f"POST /registries with a taken name -> 409 (got {s})")
    refused400(j("POST", "/registries", dict(upstream, name="st-bad", insecure="yes")), "POST /registries insecure "
               "as a string", "cannot unmarshal string into Go struct field Registry.insecure of type bool")
    refused400(j("POST", "/registries", dict(upstream, name="st-bad", type="nope")), "POST /registries type nope",
               "nope")
    s, h, regs = j("GET", "/registries?q=name%3Dst-upstream")
    check(s == 200 and [r["id"] for r in regs] == [rid] and h.get("X-Total-Count") == "1",
          f"GET /registries?q=name=st-upstream -> it, X-Total-Count 1 (got {s} {h.get('X-Total-Count')})")
    s, _, _ = j("PUT", f"/registries/{rid}", {"description": "changed", "access_secret": "Upstream-Pw2"})
    s2, _, reg = j("GET", f"/registries/{rid}")
    check(s == 200 and reg.get("description") == "changed", f"PUT /registries/{rid} -> 200, description changed")
    refused400(j("PUT", f"/registries/{rid}", {"url": 5}), "PUT /registries url as a number", "RegistryUpdate.url")
    s, _, _ = j("POST", "/registries/ping", {"id": rid})
    check(s == 200, f"POST /registries/ping of a reachable endpoint (registry:5000) -> 200 (got {s})")
    refused400(j("POST", "/registries/ping", {"type": "docker-registry", "url": "https://nowhere.invalid"}),
               "POST /registries/ping of an unreachable URL", "the registry is unhealthy")

    # projects: metadata, storage quota, proxy cache, X-Is-Resource-Name
    meta = {"public": "false", "auto_scan": "true", "prevent_vul": "true", "severity": "high",
            "enable_content_trust": "false", "enable_content_trust_cosign": "false", "auto_sbom_generation": "true"}
    s, h, _ = j("POST", "/projects", {"project_name": "st-cac", "metadata": meta, "storage_limit": 1073741824})
    pid = loc_id(h, "/api/v2.0/projects/")
    check(s == 201 and pid, f"POST /projects st-cac with metadata and storage_limit -> 201 (got {s} {h.get('Location')})")
    s, _, p = j("GET", "/projects/st-cac", headers={"X-Is-Resource-Name": "true"})
    check(s == 200 and p.get("project_id") == pid and p.get("metadata") == meta,
          f"GET /projects/st-cac (X-Is-Resource-Name) -> its metadata (got {s} {p.get('metadata') if p else p})")
    s, _, p = j("GET", f"/projects/{pid}")
    check(s == 200 and p.get("name") == "st-cac", f"GET /projects/{pid} (by id) -> st-cac")
    s, h, quotas = j("GET", f"/quotas?reference=project&reference_id={pid}")
    qid = quotas[0]["id"] if s == 200 and quotas else None
    check(s == 200 and len(quotas) == 1 and quotas[0]["hard"] == {"storage": 1073741824}
          and quotas[0]["ref"]["name"] == "st-cac" and h.get("X-Total-Count") == "1",
          f"GET /quotas?reference_id={pid} -> hard storage 1073741824 (got {s} {quotas})")
    s, _, _ = j("PUT", f"/quotas/{qid}", {"hard": {"storage": 2147483648}})
    s2, _, q = j("GET", f"/quotas/{qid}")
    check(s == 200 and q.get("hard") == {"storage": 2147483648}, f"PUT /quotas/{qid} -> 200, hard storage 2 GiB")
    refused400(j("PUT", f"/quotas/{qid}", {"hard": {"storage": "2G"}}), "PUT /quotas storage as a string",
               "cannot unmarshal string")
    refused400(j("PUT", f"/quotas/{qid}", {"hard": {"storage": 0}}), "PUT /quotas storage 0", "storage")
    s, _, _ = j("PUT", "/projects/st-cac", {"metadata": {"auto_scan": "false", "severity": "critical"}},
                {"X-Is-Resource-Name": "true"})
    s2, _, p = j("GET", f"/projects/{pid}")
    got = (p or {}).get("metadata", {})
    check(s == 200 and got.get("auto_scan") == "false" and got.get("severity") == "critical"
          and got.get("prevent_vul") == "true", f"PUT /projects metadata -> 200, changed keys only (got {got})")
    refused400(j("POST", "/projects", {"project_name": "st-bad", "metadata": {"public": True}}),
               "POST /projects metadata.public as a boolean",
               "cannot unmarshal bool into Go struct field ProjectReq.metadata.public of type string")
    refused400(j("POST", "/projects", {"project_name": "st-bad", "metadata": {"severity": "extreme"}}),
               "POST /projects severity extreme", "invalid severity extreme")
    refused400(j("POST", "/projects", b"{not json"), "POST /projects a broken JSON", "parsing project body")
    s, h, _ = j("POST", "/projects", {"project_name": "st-proxy", "registry_id": rid, "metadata": {"public": "true"}})
    proxy_id = loc_id(h, "/api/v2.0/projects/")
    s2, _, p = j("GET", f"/projects/{proxy_id}")
    check(s == 201 and (p or {}).get("registry_id") == rid, f"proxy cache project st-proxy -> registry_id {rid}")
    s, _, b = req("POST", "/v2/st-proxy/x/blobs/uploads/", auth=admin)
    check(s == 403 and b"can not push artifact to a proxy project" in b, f"push into the proxy cache project -> 403 "
          f"(got {s} {b[:100]!r})")
    s, _, err = j("DELETE", f"/registries/{rid}")
    check(s == 412, f"DELETE /registries/{rid} used by st-proxy -> 412 (got {s} {err})")
    s, h, page = j("GET", "/projects?page=1&page_size=2")
    total = int(h.get("X-Total-Count") or 0)
    check(s == 200 and len(page) == 2 and total >= 4 and 'rel="next"' in (h.get("Link") or ""),
          f"GET /projects?page=1&page_size=2 -> 2 of X-Total-Count {total}, Link {h.get('Link')}")
    s, h, page = j("GET", f"/projects?page=2&page_size={total - 1}")
    check(s == 200 and len(page) == 1 and 'rel="prev"' in (h.get("Link") or "") and 'rel="next"' not in h.get("Link"),
          f"GET /projects last page -> 1 project, Link prev only (got {len(page or [])} {h.get('Link')})")
    refused400(j("GET", "/projects?page_size=101"), "GET /projects?page_size=101", "page_size")
    s, _, err = j("DELETE", "/projects/selftest-private")
    code = (err or {}).get("errors", [{}])[0].get("code") if isinstance(err, dict) else None
    check(s == 412 and code == "PRECONDITION", f"DELETE a project with repositories -> 412 PRECONDITION (got {s} {err})")
    s, _, d = j("GET", "/projects/selftest-private/_deletable")
    check(s == 200 and d.get("deletable") is False, f"GET /projects/selftest-private/_deletable -> false ({d})")

    # robots
    robot = {"name": "st-pull", "level": "project", "duration": 30, "description": "pulls",
             "permissions": [{"kind": "project", "namespace": "st-cac",
                              "access": [{"resource": "repository", "action": "pull"}]}]}
    refused400(j("POST", "/robots", dict(robot, duration=None)), "POST /robots without duration", "duration")
    refused400(j("POST", "/robots", dict(robot, permissions="all")), "POST /robots permissions as a string",
               "cannot unmarshal string into Go struct field RobotCreate.permissions")
    s, h, made = j("POST", "/robots", robot)
    made = made or {}
    check(s == 201 and set(made) == {"id", "name", "secret", "creation_time", "expires_at"}
          and made["name"] == "robot$st-cac+st-pull" and made["expires_at"] > time.time() + 29 * 86400
          and h.get("Location") == f"/api/v2.0/robots/{made.get('id')}",
          f"POST /robots (project level) -> 201 {{id, name, secret, creation_time, expires_at}}, Location (got {s} "
          f"{sorted(made)} {h.get('Location')})")
    q = urllib.parse.quote(f"Level=project,ProjectID={pid},name=st-cac+st-pull")
    s, h, found = j("GET", f"/robots?q={q}")
    check(s == 200 and [r["id"] for r in found] == [made.get("id")] and h.get("X-Total-Count") == "1",
          f"GET /robots?q=Level=project,ProjectID={pid},name=... -> it (got {s} {[r.get('name') for r in found or []]})")
    rob = (made["name"], made.get("secret", ""))
    tq = urllib.parse.urlencode([("service", "harbor-registry"), ("scope", "repository:st-cac/x:pull,push")])
    s, _, b = req("GET", f"/service/token?{tq}", auth=rob)
    acc = claims(json.loads(b)["token"])["access"] if s == 200 else []
    check(s == 200 and acc and acc[0]["actions"] == ["pull"], f"pull-only robot: token grants pull only ({acc})")
    s, _, b = req("POST", "/v2/st-cac/x/blobs/uploads/", auth=rob)
    check(s in (401, 403), f"pull-only robot: push (blob upload) refused -> {s} {b[:80]!r}")
    s, _, sec = j("PATCH", f"/robots/{made.get('id')}", {})
    new = (sec or {}).get("secret", "")
    s2, _, _ = req("GET", f"/service/token?{tq}", auth=(rob[0], new))
    s3, _, _ = req("GET", f"/service/token?{tq}", auth=rob)
    check(s == 200 and new and s2 == 200 and s3 == 401, f"PATCH /robots/id {{}} -> a new secret, the old refused "
          f"(got {s}/{s2}/{s3})")
    refused400(j("PATCH", f"/robots/{made.get('id')}", {"secret": "weak"}), "PATCH /robots a weak secret", "secret")
    s, _, cur = j("GET", f"/robots/{made.get('id')}")
    s, _, _ = j("PUT", f"/robots/{made.get('id')}", dict(cur, description="pulls st-cac", disable=True, duration=-1))
    s2, _, cur = j("GET", f"/robots/{made.get('id')}")
    check(s == 200 and cur.get("disable") is True and cur.get("description") == "pulls st-cac"
          and cur.get("expires_at") == -1, f"PUT /robots/id -> 200, disabled, never expires (got {s})")
    s, _, _ = req("GET", f"/service/token?{tq}", auth=(rob[0], new))
    check(s == 401, f"a disabled robot is refused (got {s})")
    refused400(j("PUT", f"/robots/{made.get('id')}", dict(cur, name="robot$other")), "PUT /robots renamed",
               "cannot update the level or name of robot")
    s, _, _ = j("DELETE", f"/robots/{made.get('id')}")
    s2, _, _ = j("GET", f"/robots/{made.get('id')}")
    check(s == 200 and s2 == 404, f"DELETE /robots/id -> 200, then 404 (got {s}/{s2})")

    # clean up projects and the registry
    s, _, _ = j("DELETE", f"/projects/{proxy_id}")
    s2, _, _ = j("DELETE", f"/registries/{rid}")
    s3, _, _ = j("GET", f"/registries/{rid}")
    check(s == 200 and s2 == 200 and s3 == 404, f"DELETE the proxy project, then its registry -> 200, 200, 404 "
          f"(got {s}/{s2}/{s3})")
    s, _, _ = j("DELETE", "/projects/st-cac", headers={"X-Is-Resource-Name": "true"})
    s2, _, quotas = j("GET", f"/quotas?reference=project&reference_id={pid}")
    check(s == 200 and quotas == [], f"DELETE /projects/st-cac (empty) -> 200, its quota gone (got {s} {quotas})")

    # garbage collection (simulated run)
    s, _, _ = j("PUT", "/system/gc/schedule", {"schedule": {"type": "Custom", "cron": "0 0 3 * * 6"},
                                               "parameters": {"delete_untagged": True, "workers": 2}})
    s2, _, sched = j("GET", "/system/gc/schedule")
    check(s == 200 and (sched or {}).get("schedule") == {"type": "Custom", "cron": "0 0 3 * * 6"},
          f"PUT /system/gc/schedule Custom -> 200, GET shows it (got {s} {sched})")
    refused400(j("PUT", "/system/gc/schedule", {"schedule": {"type": "Sometimes"}}), "GC schedule type Sometimes",
               "schedule.type in body should be one of")
    refused400(j("PUT", "/system/gc/schedule", {"schedule": {"type": "Custom", "cron": "daily"}}),
               "GC schedule with a 1 field cron", "cron")
    s, _, _ = j("PUT", "/system/gc/schedule", {"schedule": {"type": "None"}})
    s2, _, sched = j("GET", "/system/gc/schedule")
    check(s == 200 and sched == {}, f"GC schedule None -> removed (got {s} {sched})")
    s, h, _ = j("POST", "/system/gc/schedule", {"schedule": {"type": "Manual"},
                                                "parameters": {"delete_untagged": True, "dry_run": False}})
    gid = loc_id(h, "/api/v2.0/system/gc/")
    check(s == 201 and gid, f"POST /system/gc/schedule Manual -> 201, Location {h.get('Location')}")
    s, _, _ = j("POST", "/system/gc/schedule", {"schedule": {"type": "Manual"}})
    check(s == 409, f"a second manual GC while one runs -> 409 (got {s})")
    seen = []
    for _ in range(40):
        s, _, run = j("GET", f"/system/gc/{gid}")
        st = (run or {}).get("job_status")
        if not seen or seen[-1] != st:
            seen.append(st)
        if st in ("Success", "Error", "Stopped"):
            break
        time.sleep(0.25)
    check(seen[-1:] == ["Success"] and seen[0] in ("Pending", "Running"), f"GC run {gid}: {' -> '.join(map(str, seen))}")
    s, h, runs = j("GET", "/system/gc")
    check(s == 200 and runs and runs[0]["id"] == gid and int(h.get("X-Total-Count") or 0) >= 1,
          f"GET /system/gc lists it (X-Total-Count {h.get('X-Total-Count')})")
    s, _, text = j("GET", f"/system/gc/{gid}/log")
    check(s == 200 and "freed" in str(text), f"GET /system/gc/{gid}/log")

    # configurations: the swagger's keys and types, write-only secrets
    s, _, _ = j("PUT", "/configurations", {"ldap_search_password": "Ldap-Secret1", "oidc_client_secret": "Oidc-Secret1",
                                           "ldap_scope": 1, "oidc_logout": True})
    s2, _, cfg = j("GET", "/configurations")
    cfg = cfg or {}
    check(s == 200 and "ldap_search_password" not in cfg and "oidc_client_secret" not in cfg
          and cfg.get("ldap_scope", {}).get("value") == 1 and cfg.get("oidc_logout", {}).get("value") is True,
          "PUT /configurations secrets accepted, GET never shows them, ldap_scope/oidc_logout set")
    refused400(j("PUT", "/configurations", {"email_host": "smtp"}), "PUT /configurations unknown key", "email_host")
    refused400(j("PUT", "/configurations", {"token_expiration": "30"}), "PUT /configurations token_expiration as a "
               "string", "cannot unmarshal string into Go struct field Configurations.token_expiration of type int64")
    refused400(j("PUT", "/configurations", {"read_only": "false"}), "PUT /configurations read_only as a string",
               "of type bool")


def replication(password):
    """Replication policies (Harbor's checks, 409, 412 while an execution runs) and a simulated execution."""
    admin = ("admin", password)

    def j(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        s, h, b = req(method, "/api/v2.0" + path, data, JSON, admin)
        try:
            return s, h, json.loads(b) if b else None
        except ValueError:
            return s, h, b.decode(errors="replace")

    def message(data):
        return ((data or {}).get("errors") or [{}])[0].get("message", "") if isinstance(data, dict) else str(data)

    s, h, _ = j("POST", "/registries", {"name": "st-repl", "type": "docker-registry", "url": "http://registry:5000"})
    loc = h.get("Location") or ""
    rid = int(loc.rsplit("/", 1)[-1]) if loc.rsplit("/", 1)[-1].isdigit() else None
    check(s == 201 and rid, f"replication: POST /registries st-repl -> 201 (got {s} {loc})")
    policy = {"name": "st-push", "dest_registry": {"id": rid}, "enabled": True, "dest_namespace": "mirror",
              "filters": [{"type": "name", "value": "library/**"},
                          {"type": "tag", "value": "v*", "decoration": "matches"}],
              "trigger": {"type": "scheduled", "trigger_settings": {"cron": "0 0 2 * * *"}}, "deletion": True,
              "speed": -1}
    s, h, _ = j("POST", "/replication/policies", policy)
    loc = h.get("Location") or ""
    pid = int(loc.rsplit("/", 1)[-1]) if loc.rsplit("/", 1)[-1].isdigit() else None
    check(s == 201 and pid, f"POST /replication/policies -> 201, Location {loc}")
    s, h, found = j("GET", "/replication/policies?q=name%3Dst-push")
    p = (found or [{}])[0] if isinstance(found, list) else {}
    check(s == 200 and h.get("X-Total-Count") == "1" and p.get("id") == pid
          and (p.get("dest_registry") or {}).get("name") == "st-repl"
          and (p.get("src_registry") or {}).get("name") == "Local" and p.get("replicate_deletion") is True
          and p.get("speed") == 0, "GET /replication/policies?q=name=st-push: Local -> st-repl, speed -1 stored as 0"
          + ("" if s == 200 and p.get("id") == pid else f" (got {s} {p})"))
    s, _, _ = j("POST", "/replication/policies", policy)
    check(s == 409, f"POST /replication/policies with a taken name -> 409 (got {s})")
    for what, body, status, words in (
            ("both registries this Harbor", dict(policy, name="st-bad", dest_registry=None), 400,
             "either src_registry"),
            ("an unknown registry", dict(policy, name="st-bad", dest_registry={"id": 99999}), 404, "not found"),
            ("a 5 field cron", dict(policy, name="st-bad", trigger={"type": "scheduled",
                                                                    "trigger_settings": {"cron": "0 2 * * *"}}),
             400, "invalid cron string"),
            ("filter type size", dict(policy, name="st-bad", filters=[{"type": "size", "value": "1"}]), 400,
             "invalid filter type"),
            ("enabled as a string", dict(policy, name="st-bad", enabled="yes"), 400, "ReplicationPolicy.enabled")):
        s, _, data = j("POST", "/replication/policies", body)
        check(s == status and words in message(data), f"replication policy with {what} -> {status}: "
              f"{message(data)!r}" + ("" if s == status else f" (got {s})"))
    s, _, _ = j("PUT", f"/replication/policies/{pid}", {"name": "st-push", "dest_registry": {"id": rid}})
    s2, _, p = j("GET", f"/replication/policies/{pid}")
    check(s == 200 and p.get("enabled") is False and not p.get("filters") and p.get("replicate_deletion") is False,
          f"PUT /replication/policies/{pid} replaces the whole policy (enabled, filters, deletion reset)"
          + ("" if s == 200 and p.get("enabled") is False else f" (got {s} {p})"))
    s, _, data = j("POST", "/replication/executions", {"policy_id": pid})
    check(s == 412, f"POST /replication/executions of a disabled policy -> 412 (got {s} {message(data)!r})")
    j("PUT", f"/replication/policies/{pid}", dict(policy, enabled=True))
    s, h, _ = j("POST", "/replication/executions", {"policy_id": pid})
    loc = h.get("Location") or ""
    eid = int(loc.rsplit("/", 1)[-1]) if loc.rsplit("/", 1)[-1].isdigit() else None
    check(s == 201 and eid, f"POST /replication/executions -> 201, Location {loc}")
    s, _, data = j("DELETE", f"/replication/policies/{pid}")
    check(s == 412, f"DELETE a policy while its execution runs -> 412 (got {s} {message(data)!r})")
    seen = []
    for _ in range(40):
        s, _, run = j("GET", f"/replication/executions/{eid}")
        st = (run or {}).get("status")
        if not seen or seen[-1] != st:
            seen.append(st)
        if st in ("Succeed", "Failed", "Stopped"):
            break
        time.sleep(0.25)
    check(seen == ["InProgress", "Succeed"] and run.get("total") == 0,
          f"replication execution {eid}: {' -> '.join(map(str, seen))} (simulated, nothing copied)")
    s, h, runs = j("GET", f"/replication/executions?policy_id={pid}")
    check(s == 200 and [r.get("id") for r in runs or []] == [eid] and h.get("X-Total-Count") == "1",
          f"GET /replication/executions?policy_id={pid} lists it")
    s, _, tasks = j("GET", f"/replication/executions/{eid}/tasks")
    check(s == 200 and tasks == [], f"GET /replication/executions/{eid}/tasks -> [] (got {s} {tasks})")
    s, _, _ = j("DELETE", f"/replication/policies/{pid}")
    s2, _, _ = j("GET", f"/replication/policies/{pid}")
    s3, _, _ = j("DELETE", f"/registries/{rid}")
    check(s == 200 and s2 == 404 and s3 == 200, f"DELETE the policy, then its registry (got {s}/{s2}/{s3})")


def retention(password):
    """Tag retention (app/standin_retention.py): a project's policy and its retention_id, Harbor's 400/404/409/500,
    a simulated execution (Running, then Success; nothing deleted), DELETE clearing retention_id."""
    admin = ("admin", password)

    def j(method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        s, h, b = req(method, "/api/v2.0" + path, data, JSON, admin)
        try:
            out = json.loads(b) if b else None
        except ValueError:
            out = b.decode(errors="replace")
        return s, h, out

    def refused(answer, status, what, words):
        s, _, data = answer
        msg = ((data or {}).get("errors") or [{}])[0].get("message", "") if isinstance(data, dict) else ""
        check(s == status and words in msg, f"{what} -> {status}: {msg!r}" + ("" if s == status else f" (got {s})"))

    def retention_id():
        _, _, project = j("GET", f"/projects/{pid}")
        return ((project or {}).get("metadata") or {}).get("retention_id")

    def rule(template, params, pattern="**"):
        return {"action": "retain", "template": template, "params": params,
                "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": pattern,
                                   "extras": '{"untagged":true}'}],
                "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches",
                                                    "pattern": "**"}]}}

    def policy(rules, cron=""):
        return {"algorithm": "or", "rules": rules, "trigger": {"kind": "Schedule", "settings": {"cron": cron}},
                "scope": {"level": "project", "ref": pid}}

    s, _, meta = j("GET", "/retentions/metadatas")
    check(s == 200 and [t["rule_template"] for t in (meta or {}).get("templates", [])] == [
        "latestPushedK", "latestPulledN", "nDaysSinceLastPush", "nDaysSinceLastPull", "always"],
        f"GET /retentions/metadatas lists Harbor's 5 templates (got {s})")
    s, h, _ = j("POST", "/projects", {"project_name": "st-retention"})
    loc = h.get("Location") or ""
    pid = int(loc.rsplit("/", 1)[-1]) if loc.rsplit("/", 1)[-1].isdigit() else 0
    check(s == 201 and pid, f"POST /projects st-retention -> 201 (got {s} {loc})")
    keep10 = rule("latestPushedK", {"latestPushedK": 10})
    s, h, _ = j("POST", "/retentions", policy([keep10], "0 0 3 * * *"))
    loc = h.get("Location") or ""
    rid = int(loc.rsplit("/", 1)[-1]) if loc.startswith("/api/v2.0/retentions/") and loc[21:].isdigit() else 0
    check(s == 201 and rid and retention_id() == str(rid),
          f"POST /retentions -> 201, Location {loc}, the project's retention_id {retention_id()!r}")
    s, _, got = j("GET", f"/retentions/{rid}")
    got = got if isinstance(got, dict) else {}
    check(s == 200 and got.get("id") == rid and got.get("trigger", {}).get("settings", {}).get("cron") == "0 0 3 * * *"
          and got.get("rules", [{}])[0].get("params") == {"latestPushedK": 10} and "disabled" not in got["rules"][0],
          f"GET /retentions/{rid} shows the policy, empty fields left out (got {s} {got})")
    refused(j("POST", "/retentions", policy([keep10])), 400, "a second policy for the project", "already has retention")
    refused(j("PUT", f"/retentions/{rid}", policy([keep10] * 2)), 409, "two identical rules", "is conflict with rule")
    refused(j("PUT", f"/retentions/{rid}", policy([rule("always", {}, str(n)) for n in range(16)])), 400,
            "16 rules", "only 15 rules are allowed at most")
    refused(j("PUT", f"/retentions/{rid}", policy([keep10], "0 0 25 * * *")), 400, "cron hour 25",
            "invalid cron string for scheduled tag retention")
    refused(j("PUT", f"/retentions/{rid}", policy([rule("latestK", {})])), 400, "unknown template (stand-in)",
            "rule evaluator latestK is not registered")
    refused(j("GET", f"/retentions/{rid + 1000}"), 500, "GET of a missing policy (as Harbor)", "internal server error")
    s, _, _ = j("PUT", f"/retentions/{rid}", dict(policy([keep10, rule("always", {}, "release-*")]), id=rid))
    s2, _, got = j("GET", f"/retentions/{rid}")
    check(s == 200 and len((got or {}).get("rules") or []) == 2 and got["trigger"]["settings"] == {"cron": ""},
          f"PUT /retentions/{rid} -> 200, two rules, no schedule (got {s} {got})")
    s, h, _ = j("POST", f"/retentions/{rid}/executions", {"dry_run": True})
    loc = h.get("Location") or ""
    eid = int(loc.rsplit("/", 1)[-1]) if loc.rsplit("/", 1)[-1].isdigit() else 0
    check(s == 201 and loc == f"/api/v2.0/retentions/{rid}/executions/{eid}", f"POST executions -> 201, Location {loc}")
    seen = []
    for _ in range(40):
        _, _, runs = j("GET", f"/retentions/{rid}/executions")
        mine = [e for e in runs or [] if e.get("id") == eid]
        st = mine[0].get("status") if mine else None
        if not seen or seen[-1] != st:
            seen.append(st)
        if st in ("Success", "Error", "Stopped"):
            break
        time.sleep(0.25)
    check(seen[-1:] == ["Success"] and seen[0] == "Running", f"retention execution {eid}: {' -> '.join(map(str, seen))}")
    s, _, _ = j("GET", f"/retentions/{rid}/executions/{eid}")
    check(s == 405, f"GET of one execution -> 405, as Harbor has none (got {s})")
    s, _, _ = j("DELETE", f"/retentions/{rid}")
    s2, _, _ = j("GET", f"/retentions/{rid}/executions")
    check(s == 200 and retention_id() is None and s2 == 400,
          f"DELETE /retentions/{rid} -> 200, retention_id cleared, its executions gone (got {s}/{s2})")
    s, _, _ = j("DELETE", f"/projects/{pid}")
    check(s == 200, f"DELETE /projects/st-retention -> 200 (got {s})")


if __name__ == "__main__":
    if CMD == "wait-healthy":
        wait_healthy(ARGS[0])
    elif CMD == "contract":
        contract(ARGS[0])
    elif CMD == "registry-flow":
        registry_flow(ARGS[0], ARGS[1])
    elif CMD == "seed":
        seed(ARGS[0])
    elif CMD == "seeded":
        seeded(ARGS[0])
    elif CMD == "read-only":
        read_only(ARGS[0], ARGS[1])
    elif CMD == "config-as-code":
        config_as_code(ARGS[0])
        retention(ARGS[0])
        replication(ARGS[0])
    elif CMD == "password-is":
        s, _, _ = req("GET", "/api/v2.0/users/current", auth=("admin", ARGS[0]))
        sys.exit(0 if s == 200 else 1)
    else:
        sys.exit(__doc__)
    sys.exit(FAILS)
