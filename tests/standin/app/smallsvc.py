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
    "trivy-adapter": {"/probe/healthy": None, "/probe/ready": None,
                      "/api/v1/metadata": {"scanner": {"name": "Trivy", "vendor": "Aqua Security",
                                                       "version": "standin"}}},
    "exporter": {"/metrics": "harbor_exporter_standin_up 1\n"},
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
