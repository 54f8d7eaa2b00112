"""The route table: which backend serves a request path.

Semantics are configurable-http-proxy's: a key is an unescaped path with a leading slash and no trailing
slash ("/" is the root), and a request goes to the route whose key is the longest prefix of its path made
of whole segments, so "/user/alice" serves "/user/alice/tree" but not "/user/alice2".

CHP walks a trie of per-segment nodes. A single dict keyed by path answers the same question: probe the
request path cut after as many segments as the deepest key has, then drop one segment at a time. That is at
most (deepest key + 1) hash lookups and no per-node objects, and the dict is also the table the REST API
lists. Pure: no I/O, the caller passes the clock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any


def clean_key(path: str) -> str:
    """A route key as CHP stores it: leading slash, one trailing slash removed, "/" for the root."""
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def _depth(key: str) -> int:
    return 0 if key == "/" else key.count("/")


class Route:
    """One entry: the data the API stored verbatim, and when traffic last went through it.

    `last_activity` is a plain float (seconds since the epoch) so the data plane can bump it with one
    attribute store per event; it becomes ISO-8601 only when the API lists routes.
    """

    __slots__ = ("data", "key", "last_activity", "target")

    def __init__(self, key: str, data: dict[str, Any], now: float) -> None:
        self.key = key
        self.data = data
        self.target: str = data["target"]
        self.last_activity = now

    def replace(self, data: dict[str, Any], now: float) -> None:
        """Take new data in place, so connections still holding this route keep bumping the live entry."""
        self.data = data
        self.target = data["target"]
        self.last_activity = now


class RouteTable:
    """Routes by key, with longest-prefix matching for the data plane."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._depths: Counter[int] = Counter()
        self._deepest = 0

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[Route]:
        return iter(list(self._routes.values()))

    def get(self, path: str) -> Route | None:
        """The route stored under exactly this path (cleaned), if any."""
        return self._routes.get(clean_key(path))

    def set(self, path: str, data: dict[str, Any], now: float) -> Route:
        """Add or overwrite the route at `path`; `data` must hold a string "target"."""
        key = clean_key(path)
        route = self._routes.get(key)
        if route is not None:
            route.replace(data, now)
            return route
        route = self._routes[key] = Route(key, data, now)
        depth = _depth(key)
        self._depths[depth] += 1
        self._deepest = max(self._deepest, depth)
        return route

    def remove(self, path: str) -> Route | None:
        """Drop the route at `path`; returns it, or None if there was none."""
        route = self._routes.pop(clean_key(path), None)
        if route is not None:
            depth = _depth(route.key)
            self._depths[depth] -= 1
            if not self._depths[depth]:
                del self._depths[depth]
                self._deepest = max(self._depths, default=0)
        return route

    def match(self, path: str) -> Route | None:
        """The route with the longest whole-segment prefix of `path` (an unescaped absolute path)."""
        routes = self._routes
        candidate = path
        end = 0
        for _ in range(self._deepest):
            end = path.find("/", end + 1)
            if end < 0:
                break
        else:
            candidate = path[:end]
        while len(candidate) > 1:
            route = routes.get(candidate)
            if route is not None:
                return route
            candidate = candidate[: candidate.rfind("/")]
        return routes.get("/")
