"""The hub culler's warning inside the server's pages, without a JupyterLab extension build.

Every HTML page the server sends gets one <script> tag (an output transform, so JupyterLab's own page is
untouched otherwise). The script asks this server's `commonroom/cull` endpoint, which asks the hub with the
server's own token: the browser needs no hub credentials, and only people allowed into this server get
an answer. A POST there is "keep working": it records activity now.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jupyter_server.base.handlers import APIHandler
from tornado import httputil, web
from tornado.web import OutputTransform

from commonroom.singleuser.environment import HubEnvironment
from commonroom.singleuser.hubapi import HubAPI, HubError

STATIC = Path(__file__).with_name("static")
SCRIPT_NAME = "cullbanner.js"


def hub_cull_url(env: HubEnvironment) -> str:
    user = quote(env.user, safe="")
    server = f"servers/{quote(env.server_name, safe='')}" if env.server_name else "server"
    return f"{env.api_url}/users/{user}/{server}/cull"


class CullHandler(APIHandler):
    """GET: when the hub will stop this server, and the warning to show; POST: keep it running."""

    _track_activity = False
    """Asking is not activity (the banner asks every few seconds); the POST reaches the hub as activity."""

    def initialize(self, hub: HubAPI, url: str) -> None:
        self.hub = hub
        self.url = url

    @web.authenticated
    async def get(self) -> None:
        await self._relay(keep_running=False)

    @web.authenticated
    async def post(self) -> None:
        await self._relay(keep_running=True)

    async def _relay(self, keep_running: bool) -> None:
        try:
            status = await self.hub.cull_status(self.url, keep_running)
        except HubError as exc:
            raise web.HTTPError(503, f"The hub did not say when it stops this server: {exc}") from None
        self.finish(json.dumps(status))


def handlers(prefix: str, hub: HubAPI, env: HubEnvironment) -> list[tuple[str, Any, dict[str, Any]]]:
    pattern = re.escape(prefix)
    return [
        (f"{pattern}commonroom/cull", CullHandler, {"hub": hub, "url": hub_cull_url(env)}),
        (f"{pattern}commonroom/({re.escape(SCRIPT_NAME)})", web.StaticFileHandler, {"path": str(STATIC)}),
    ]


def injector(prefix: str) -> type[OutputTransform]:
    """An output transform that adds the banner's script to every complete HTML page."""
    tag = f'<script src="{prefix}commonroom/{SCRIPT_NAME}" defer></script></body>'.encode()

    class InjectBanner(OutputTransform):
        def transform_first_chunk(
            self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes, finishing: bool
        ) -> tuple[int, httputil.HTTPHeaders, bytes]:
            is_page = status_code == 200 and headers.get("Content-Type", "").startswith("text/html")
            if is_page and finishing and b"</body>" in chunk and not headers.get("Content-Encoding"):
                head, _, tail = chunk.rpartition(b"</body>")
                chunk = head + tag + tail
                if "Content-Length" in headers:
                    headers["Content-Length"] = str(len(chunk))
            return status_code, headers, chunk

    return InjectBanner
