"""A tiny service for tests, run by the hub as a managed service (standard library only).

It listens at JUPYTERHUB_SERVICE_URL and serves under JUPYTERHUB_SERVICE_PREFIX: `whoami` answers what the hub
says about the service's own token, `env` its JUPYTERHUB_* environment, anything else {"ok": true}.
"""

from __future__ import annotations

import json
import os
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
        if not self.path.startswith(prefix):
            self.send_error(404)
            return
        page = self.path[len(prefix) :]
        if page == "whoami":
            request = urllib.request.Request(
                os.environ["JUPYTERHUB_API_URL"] + "/user",
                headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]},
            )
            with urllib.request.urlopen(request, timeout=20) as reply:
                body = reply.read()
        elif page == "env":
            body = json.dumps({k: v for k, v in os.environ.items() if k.startswith("JUPYTERHUB_")}).encode()
        else:
            body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    url = urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
    server = ThreadingHTTPServer((url.hostname or "127.0.0.1", url.port or 80), Handler)
    print(f"tiny service listening on {url.netloc}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
