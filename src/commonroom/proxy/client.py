"""How the hub drives a configurable-http-proxy compatible proxy (ours, or CHP itself) over its REST API.

Behaves like JupyterHub's ConfigurableHTTPProxy client, so either side can be swapped: at most 10 calls in
flight, each retried with back-off for up to 30 s while the proxy is unreachable or answers 429/5xx (it may
be starting or restarting), a DELETE of a missing route counts as done, and routes written by the hub
carry `"jupyterhub": true` so a shared proxy's other routes are left alone.

Routespecs are URL paths as the hub uses them ("/user/alice/", escaped or not); the proxy's keys are
unescaped and have no trailing slash. `chp_path` and `routespec` convert between the two as JupyterHub does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, unquote

import httpx

log = logging.getLogger("commonroom.proxy.client")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class ProxyApiError(Exception):
    """The proxy refused a call (a 4xx other than a DELETE's 404), or kept failing past the retry window."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def chp_path(routespec: str) -> str:
    """The API path for a routespec: leading slash, no trailing slash (except "/"), escaped once."""
    path = routespec if routespec.startswith("/") else "/" + routespec
    if path != "/":
        path = path.rstrip("/")
    return quote(unquote(path), safe="@/~")


def routespec(key: str) -> str:
    """The routespec for a proxy key: escaped like JupyterHub's (safe "@/~"), with a trailing slash."""
    spec = quote(key, safe="@/~")
    return spec if spec.endswith("/") else spec + "/"


class ProxyClient:
    """REST client for the proxy's /api/routes."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        retry_for: float = 30.0,
        max_concurrency: int = 10,
        request_timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url, self.token = api_url, token
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={"Authorization": f"token {token}"},
            timeout=request_timeout,
            transport=transport,
        )
        self._retry_for = retry_for
        self._slots = asyncio.Semaphore(max_concurrency)

    async def add_route(self, path: str, target: str, data: dict[str, Any]) -> None:
        """Route `path` (a routespec) to `target`; `data` is stored with it and comes back from get_routes."""
        body = {**data, "target": target, "jupyterhub": True}
        await self._call("POST", path, json=body)

    async def delete_route(self, path: str) -> None:
        """Remove the route; one that is already gone is not an error."""
        await self._call("DELETE", path, missing_ok=True)

    async def get_routes(self) -> dict[str, dict[str, Any]]:
        """Every route, keyed by routespec; each value is the route's data with "target" and "last_activity"."""
        response = await self._call("GET", "")
        routes: dict[str, dict[str, Any]] = response.json()
        return {routespec(key): data for key, data in routes.items()}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _call(self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any) -> httpx.Response:
        url = "/api/routes" + (chp_path(path) if path else "")
        deadline = time.monotonic() + self._retry_for
        delay = 0.1
        while True:
            problem = await self._attempt(method, url, missing_ok, kwargs)
            if isinstance(problem, httpx.Response):
                return problem
            if time.monotonic() + delay > deadline:
                raise ProxyApiError(f"{method} {url} kept failing for {self._retry_for:g} s: {problem}")
            log.warning("Proxy API %s %s failed (%s); retrying in %.1f s", method, url, problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _attempt(self, method: str, url: str, missing_ok: bool, kwargs: dict[str, Any]) -> httpx.Response | str:
        """One try: the response if it is final, or why it is worth retrying."""
        try:
            async with self._slots:
                response = await self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.status_code in RETRY_STATUSES:
            return f"HTTP {response.status_code}"
        if response.is_success or (missing_ok and response.status_code == 404):
            return response
        hint = " (is the token the proxy's CONFIGPROXY_AUTH_TOKEN?)" if response.status_code == 403 else ""
        raise ProxyApiError(
            f"{method} {url} answered {response.status_code}{hint}: {response.text[:200]}", response.status_code
        )
