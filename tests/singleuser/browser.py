"""A browser without a window: httpx with a cookie jar, following redirects by hand.

Host-relative URLs go where the proxy would send them, /hub/... to the hub and the rest to the server,
because with JUPYTERHUB_HOST empty the hub and the server share one public origin.
"""

from __future__ import annotations

from typing import Any, Self
from urllib.parse import urljoin

import httpx


class Browser:
    def __init__(self, hub_origin: str, server_origin: str) -> None:
        self.hub_origin = hub_origin
        self.server_origin = server_origin
        self.client = httpx.Client(follow_redirects=False, timeout=30, headers={"Accept": "text/html"})

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def absolute(self, url: str) -> str:
        if url.startswith("http"):
            return url
        return (self.hub_origin if url.startswith("/hub/") else self.server_origin) + url

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(self.absolute(url), **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.absolute(url), **kwargs)

    def sign_in(self, prefix: str) -> httpx.Response:
        """Walk the whole OAuth dance from the lab page back to it; the last response."""
        to_hub = self.get(prefix + "lab")
        to_callback = self.follow(to_hub)
        to_lab = self.follow(to_callback)
        return self.follow(to_lab)

    def cookie_header(self, path: str) -> str:
        """The Cookie header a browser would send to path."""
        return "; ".join(f"{c.name}={c.value}" for c in self.client.cookies.jar if path.startswith(c.path))

    def follow(self, response: httpx.Response) -> httpx.Response:
        """The response to the redirect `response` asks for."""
        assert response.status_code in (301, 302, 303, 307), (response.status_code, response.text[:500])
        location = response.headers["Location"]
        if not location.startswith(("/", "http")):
            location = urljoin(str(response.url), location)
        return self.get(location)
