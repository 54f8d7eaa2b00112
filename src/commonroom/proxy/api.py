"""The routes REST API, as configurable-http-proxy answers it; pure request-in, response-out.

`GET /api/routes[?inactive_since=ISO]`, `GET|POST|DELETE /api/routes/<path>`, guarded by
`Authorization: token <CONFIGPROXY_AUTH_TOKEN>`. Status codes follow CHP: 404 for a path outside
/api/routes (before auth), 405 for another method (before auth), 403 for a bad token, 201 on POST, 204 on
DELETE, 404 for a missing route, 400 for a POST without a string "target" or a bad date.

One deliberate difference: the token is checked before a POST body is parsed (CHP parses first and so
answers 400 to an unauthenticated request with broken JSON); an unauthenticated caller learns nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes

from ..timeutil import parse_iso
from .routes import Route, RouteTable

log = logging.getLogger("commonroom.proxy.api")

_ROUTES = re.compile(r"/api/routes(/.*)?")
_TOKEN = re.compile(rb"token\s+(\S+)")
JSON = b"application/json"
TEXT = b"text/plain"


@dataclass(frozen=True, slots=True)
class ApiResponse:
    status: int
    body: bytes = b""
    content_type: bytes | None = None


@lru_cache(maxsize=4096)
def _second(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


def stamp(seconds: float) -> str:
    """`seconds` since the epoch in JupyterHub's wire format (2025-01-02T03:04:05.123456Z), as
    timeutil.isoformat(datetime.fromtimestamp(seconds, UTC)) writes it, at a fraction of the cost: listing
    thousands of routes is mostly this. Microseconds round half to even, as datetime rounds them."""
    fraction, whole = math.modf(seconds)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    elif micro < 0:
        whole, micro = whole - 1, micro + 1_000_000
    return f"{_second(int(whole))}.{micro:06d}Z"


def _route_json(route: Route) -> dict[str, Any]:
    return {**route.data, "last_activity": stamp(route.last_activity)}


def _json(value: Any) -> ApiResponse:
    return ApiResponse(200, json.dumps(value, separators=(",", ":")).encode(), JSON)


class RoutesApi:
    """Reads and changes a RouteTable on behalf of the hub."""

    def __init__(
        self,
        routes: RouteTable,
        token: str,
        *,
        host_routing: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.routes = routes
        self._token = token.encode()
        self._host_routing = host_routing
        self._clock = clock

    def handle(self, method: bytes, target: bytes, authorization: bytes, body: bytes) -> ApiResponse:
        """Answer one API request; `target` is the raw request target, `body` the whole request body."""
        raw_path, _, query = target.partition(b"?")
        match = _ROUTES.fullmatch(raw_path.decode("latin-1"))
        if match is None:
            return ApiResponse(404, b"Not Found", TEXT)
        handler = {b"GET": self._get, b"POST": self._post, b"DELETE": self._delete}.get(method)
        if handler is None:
            return ApiResponse(405, b"Method not supported", TEXT)
        if not self._authorized(authorization):
            log.debug("Rejecting API request: %s", "bad token" if authorization else "no authorization")
            return ApiResponse(403)
        path = unquote_to_bytes(match[1] or "/").decode("utf-8", "replace")
        return handler(path, query.decode("latin-1"), body)

    def _authorized(self, authorization: bytes) -> bool:
        if not self._token:
            return True
        match = _TOKEN.search(authorization)
        return match is not None and hmac.compare_digest(match[1], self._token)

    def _get(self, path: str, query: str, body: bytes) -> ApiResponse:
        if path != "/":
            route = self.routes.get(path)
            return ApiResponse(404) if route is None else _json(_route_json(route))
        params = parse_qs(query)
        since = (params.get("inactiveSince") or params.get("inactive_since") or [""])[0]
        routes = list(self.routes)
        if since:
            try:
                cutoff = parse_iso(since).replace(tzinfo=UTC).timestamp()
            except ValueError:
                return ApiResponse(400, f"Invalid datestamp '{since}' must be ISO8601.".encode(), TEXT)
            routes = [route for route in routes if route.last_activity < cutoff]
        return _json({route.key: _route_json(route) for route in routes})

    def _post(self, path: str, query: str, body: bytes) -> ApiResponse:
        try:
            data = json.loads(body or b"null") or {}
        except ValueError as exc:
            return ApiResponse(400, f"Body not valid JSON: {exc}".encode(), TEXT)
        if not isinstance(data, dict) or not isinstance(data.get("target"), str):
            log.warning("Bad POST data: %s", body[:200].decode("utf-8", "replace"))
            return ApiResponse(400, b"Must specify 'target' as string", TEXT)
        route = self.routes.set(path, data, self._clock())
        if self._host_routing and route.key != "/":
            data["host"] = route.key.split("/")[1]
        log.info("Route added %s -> %s", route.key, route.target)
        return ApiResponse(201)

    def _delete(self, path: str, query: str, body: bytes) -> ApiResponse:
        route = self.routes.remove(path)
        if route is None:
            log.info("Not removing nonexistent route %s", path)
            return ApiResponse(404)
        log.info("Removed route %s", route.key)
        return ApiResponse(204)
