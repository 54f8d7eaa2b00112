"""State shared by every public connection: routes, backend pools, error pages and the options read per
request, plus the periodic sweep that expires idle connections (one timer for all of them instead of a
timer per connection or per request)."""

from __future__ import annotations

import ssl
from time import monotonic
from typing import TYPE_CHECKING

from .errors import ErrorPages
from .options import ProxyOptions
from .routes import RouteTable
from .tls import client_context
from .upstream import UpstreamPool, parse_target
from .wire import RequestHeadBuilder

if TYPE_CHECKING:
    from .frontend import ClientConnection

# Backends such as uvicorn drop idle keep-alive connections after 5 s; retire ours before that happens.
UPSTREAM_IDLE = 3.0


class Relay:
    """Everything a ClientConnection needs besides its own socket."""

    def __init__(self, routes: RouteTable, options: ProxyOptions) -> None:
        self.routes = routes
        self.heads = RequestHeadBuilder(
            x_forward=options.x_forward,
            change_origin=options.change_origin,
            custom_headers=options.custom_headers,
        )
        self.errors = ErrorPages(options.error_target, options.error_path)
        self.host_routing = options.host_routing
        self.include_prefix = options.include_prefix
        self.prepend_path = options.prepend_path
        self.keep_alive_timeout = options.keep_alive_timeout
        self.timeout = options.timeout
        self.proxy_timeout = options.proxy_timeout
        self.connections: set[ClientConnection] = set()
        self._options = options
        self._client_ssl: ssl.SSLContext | None = None
        self._pools: dict[str, UpstreamPool | None] = {}

    def pool_for(self, target: str) -> UpstreamPool | None:
        """The pool for a target URL, made on first use; None if the URL is not one we can reach."""
        try:
            return self._pools[target]
        except KeyError:
            pass
        try:
            parsed = parse_target(target)
        except ValueError:
            pool = None
        else:
            pool = UpstreamPool(parsed, self._tls() if parsed.secure else None)
        self._pools[target] = pool
        return pool

    def error_pool(self) -> UpstreamPool | None:
        target = self.errors.error_target
        return None if target is None else self.pool_for(target)

    def sweep(self) -> None:
        """Expire idle and timed-out connections, and drop pools no route uses any more."""
        now = monotonic()
        for conn in list(self.connections):
            conn.check_timeouts(now)
        in_use = {route.target for route in self.routes}
        in_use.add(self.errors.error_target or "")
        for target, pool in list(self._pools.items()):
            if pool is not None:
                pool.prune(now - UPSTREAM_IDLE)
            if target not in in_use:
                del self._pools[target]
                if pool is not None:
                    pool.close()

    def close(self) -> None:
        """Close every connection, at shutdown."""
        for conn in list(self.connections):
            conn.transport.close()
        for pool in self._pools.values():
            if pool is not None:
                pool.close()

    def _tls(self) -> ssl.SSLContext:
        if self._client_ssl is None:
            self._client_ssl = client_context(self._options.client_ssl, self._options.insecure)
        return self._client_ssl
