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
    elif CMD == "password-is":
        s, _, _ = req("GET", "/api/v2.0/users/current", auth=("admin", ARGS[0]))
        sys.exit(0 if s == 200 else 1)
    else:
        sys.exit(__doc__)
    sys.exit(FAILS)
