#!/usr/bin/env python3
"""Push an image with a token from one Harbor node to another node's registry, then read it back from the first.

usage: cross_node_push.py URL_A URL_B CAFILE REPO   (password in HARBOR_PASSWORD, user admin)

The token comes from node A's token service (core signs it with data_volume/secret/core/private_key.pem); node B's
registry accepts it only if its root.crt is the certificate of that same key. Exit 0 and one line per step when it
works; the first failing step otherwise. Standard library only.
"""
import base64
import hashlib
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

A, B, CAFILE, REPO = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
CTX = ssl.create_default_context(cafile=CAFILE)
AUTH = "Basic " + base64.b64encode(("admin:" + os.environ["HARBOR_PASSWORD"]).encode()).decode()


def call(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def token(node, actions):
    query = urllib.parse.urlencode({"service": "harbor-registry", "scope": "repository:%s:%s" % (REPO, actions)})
    status, _, body = call("GET", "%s/service/token?%s" % (node, query), headers={"Authorization": AUTH})
    if status != 200:
        sys.exit("token from %s: HTTP %s %s" % (node, status, body[:200]))
    return json.loads(body)["token"]


def push_blob(node, bearer, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, headers, body = call("POST", "%s/v2/%s/blobs/uploads/" % (node, REPO), b"",
                                 {"Authorization": "Bearer " + bearer})
    if status != 202:
        sys.exit("blob upload start on %s with the other node's token: HTTP %s %s" % (node, status, body[:300]))
    location = urllib.parse.urljoin(node + "/", headers.get("Location") or headers.get("location"))
    sep = "&" if "?" in location else "?"
    status, _, body = call("PUT", "%s%sdigest=%s" % (location, sep, urllib.parse.quote(digest)), data,
                           {"Authorization": "Bearer " + bearer, "Content-Type": "application/octet-stream"})
    if status != 201:
        sys.exit("blob upload end on %s: HTTP %s %s" % (node, status, body[:300]))
    return digest


def main():
    push_token = token(A, "push,pull")
    print("token from %s (%d characters)" % (A, len(push_token)))
    layer = os.urandom(4096)
    layer_digest = push_blob(B, push_token, layer)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                                                                           "diff_ids": [layer_digest]}}).encode()
    config_digest = push_blob(B, push_token, config)
    print("two blobs pushed to %s with it" % B)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": config_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "size": len(layer),
                    "digest": layer_digest}]}).encode()
    status, headers, body = call("PUT", "%s/v2/%s/manifests/1" % (B, REPO), manifest,
                                 {"Authorization": "Bearer " + push_token,
                                  "Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
    if status != 201:
        sys.exit("manifest on %s: HTTP %s %s" % (B, status, body[:300]))
    pushed = headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(manifest).hexdigest()
    print("manifest pushed to %s: %s" % (B, pushed))
    pull_token = token(A, "pull")
    status, headers, body = call("GET", "%s/v2/%s/manifests/1" % (A, REPO), headers={
        "Authorization": "Bearer " + pull_token, "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    got = "sha256:" + hashlib.sha256(body).hexdigest() if status == 200 else None
    if got != pushed:
        sys.exit("manifest read from %s: HTTP %s, digest %s, pushed %s" % (A, status, got, pushed))
    print("read back from %s: same digest" % A)


if __name__ == "__main__":
    main()
