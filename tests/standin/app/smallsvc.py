#!/usr/bin/env python3
"""Stand-in for Harbor's side services that the roles only see through their
health endpoints: jobservice, registryctl, trivy-adapter, exporter.

usage: smallsvc.py COMPONENT   (listens on :8080 like the real ones)
"""
import http.server
import json
import os
import signal
import socketserver
import sys
import time

COMPONENT = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HARBOR_STANDIN_COMPONENT", "jobservice")
PORT = int(os.environ.get("PORT", "8080"))
STARTED = time.time()

ROUTES = {
    "jobservice": {"/api/v1/stats": {"workerPools": [{"status": "Healthy", "concurrency": 10}]}},
    "registryctl": {"/api/health": None},
    "trivy-adapter": {"/probe/healthy": None, "/probe/ready": None},
    "exporter": {"/metrics": "harbor_exporter_standin_up 1\n"},
}


TRIVY_CACHE = os.environ.get("SCANNER_TRIVY_CACHE_DIR", "/home/scanner/.cache/trivy")


def rfc3339(stamp):
    """Trivy's metadata.json time (RFC 3339, nanoseconds) as Go's time.RFC3339 prints it."""
    if not isinstance(stamp, str) or "T" not in stamp:
        return None
    stamp = stamp.strip()
    zone = "Z" if stamp.endswith("Z") else stamp[-6:] if stamp[-6:-5] in "+-" and stamp[-3:-2] == ":" else ""
    body = stamp[: len(stamp) - len(zone)] if zone else stamp
    return body.split(".", 1)[0] + zone


def trivy_metadata():
    """GET /api/v1/metadata as harbor-scanner-trivy answers it: the DB's UpdatedAt comes from
    <cache>/db/metadata.json, read as the adapter's user (uid 10000); without a readable one the
    property is absent (the real adapter logs the error of `trivy version` and leaves it out), and
    next-update-at only when updates are not skipped."""
    env = os.environ.get
    props = {
        "harbor.scanner-adapter/scanner-type": "os-package-vulnerability",
        "org.label-schema.version": "standin",
        "org.label-schema.vcs": "https://github.com/aquasecurity/harbor-scanner-trivy",
    }
    for key, default in (("SKIP_UPDATE", "false"), ("SKIP_JAVA_DB_UPDATE", "false"), ("OFFLINE_SCAN", "false"),
                         ("IGNORE_UNFIXED", "false"), ("DEBUG_MODE", "false"), ("INSECURE", "false"),
                         ("VULN_TYPE", "os,library"), ("SEVERITY", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"),
                         ("SECURITY_CHECKS", "vuln"), ("TIMEOUT", "5m0s")):
        props[f"env.SCANNER_TRIVY_{key}"] = env(f"SCANNER_TRIVY_{key}", default)
    try:
        with open(os.path.join(TRIVY_CACHE, "db", "metadata.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as err:
        sys.stderr.write(f"[trivy-adapter] Error while retrieving vulnerability DB version: {err}\n")
        meta = None
    if isinstance(meta, dict) and rfc3339(meta.get("UpdatedAt")):
        props["harbor.scanner-adapter/vulnerability-database-updated-at"] = rfc3339(meta["UpdatedAt"])
        if props["env.SCANNER_TRIVY_SKIP_UPDATE"] != "true" and rfc3339(meta.get("NextUpdate")):
            props["harbor.scanner-adapter/vulnerability-database-next-update-at"] = rfc3339(meta["NextUpdate"])
    return {
        "scanner": {"name": "Trivy", "vendor": "Aqua Security", "version": "standin"},
        "capabilities": [{"consumes_mime_types": ["application/vnd.oci.image.manifest.v1+json",
                                                  "application/vnd.docker.distribution.manifest.v2+json"],
                          "produces_mime_types": ["application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
                                                  "application/vnd.security.vulnerability.report; version=1.1"]}],
        "properties": props,
    }


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"harbor-{COMPONENT}-standin"
    sys_version = ""

    def log_message(self, fmt, *args):
        if "/api/health" in self.path or "/probe/" in self.path or "/stats" in self.path:
            return  # health probes every few seconds: keep the log readable
        sys.stderr.write(f"[{COMPONENT}] {self.address_string()} {fmt % args}\n")

    def reply(self, status, body):
        if body is None:
            data, ctype = b"", "text/plain"
        elif isinstance(body, str):
            data, ctype = body.encode(), "text/plain; version=0.0.4"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        routes = ROUTES.get(COMPONENT, {})
        if COMPONENT == "trivy-adapter" and path == "/api/v1/metadata":
            return self.reply(200, trivy_metadata())
        if path in routes:
            return self.reply(200, routes[path])
        self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": f"{path} not found"}]})

    do_HEAD = do_GET


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # PID 1: no default SIGTERM action
    sys.stderr.write(f"[{COMPONENT}] stand-in listening on :{PORT}\n")
    Server(("0.0.0.0", PORT), Handler).serve_forever()
