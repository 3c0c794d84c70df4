#!/usr/bin/env python3
"""Container healthcheck (the images' HEALTHCHECK): exit 0 when the component answers.

usage: healthcheck.py http URL [max_status]   GET URL, healthy when status < max_status (default 400)
       healthcheck.py tcp HOST PORT
"""
import socket
import sys
import urllib.error
import urllib.request


def main(argv):
    kind = argv[1]
    if kind == "tcp":
        with socket.create_connection((argv[2], int(argv[3])), timeout=3):
            return 0
    if kind == "http":
        limit = int(argv[3]) if len(argv) > 3 else 400

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            status = opener.open(argv[2], timeout=3).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        return 0 if status < limit else 1
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # noqa: BLE001
        print(exc, file=sys.stderr)
        sys.exit(1)
