"""One request and its response, from routing to the last byte.

An exchange is created when a client's request head has been parsed. It finds the route, borrows a
connection from the backend's pool (opening one only if none is idle), writes the rewritten head, and then
moves body bytes as they arrive: request body to the backend, response body to the client, re-framed when
the two sides need different framing. Nothing is buffered except the request body that arrives before a
backend connection exists, and reading from the client pauses when that grows.

When it cannot relay, it answers as CHP does: 404 without a route, 503 when the backend fails before
answering, in both cases through --error-target when one is set.
"""

from __future__ import annotations

import asyncio
import logging
from time import time
from typing import TYPE_CHECKING

from .paths import BadTarget, normalize, split_target, strip_segments
from .wire import (
    CHUNKED,
    CRLF,
    ERROR_PAGE_HEADERS,
    LAST_CHUNK,
    NO_BODY,
    UNTIL_CLOSE,
    Headers,
    chunk_size_line,
    reason_phrase,
    response_head,
    simple_response,
    switching_head,
)

if TYPE_CHECKING:
    from .frontend import ClientConnection
    from .routes import Route
    from .upstream import UpstreamConnection, UpstreamPool

log = logging.getLogger("commonroom.proxy")

HEALTHZ_PATH = b"/_chp_healthz"
HEALTHY = b'{"status":"OK"}'


class Exchange:
    """A request from one client connection, relayed to a backend or answered here."""

    __slots__ = (
        "body_seen",
        "chunked",
        "client",
        "connecting",
        "error_code",
        "framing",
        "head",
        "headers",
        "http11",
        "is_head",
        "keep_alive",
        "method",
        "pending",
        "pending_size",
        "request_done",
        "response_done",
        "retried",
        "route",
        "sink",
        "started",
        "status",
        "target",
        "tracked",
        "unsent_head",
        "until_close",
        "upgrade",
        "upstream",
    )

    def __init__(
        self,
        client: ClientConnection,
        method: bytes,
        target: bytes,
        headers: Headers,
        *,
        keep_alive: bool,
        http11: bool,
        upgrade: bool,
    ) -> None:
        self.client = client
        self.method = method
        self.target = target
        self.headers = headers
        self.keep_alive = keep_alive
        self.http11 = http11
        self.upgrade = upgrade
        self.is_head = method == b"HEAD"
        self.route: Route | None = None
        self.tracked = True
        """Whether this request counts as activity on its route; not when it says no_track_activity (the
        jupyter_server convention for background polls, e.g. the culler's own warning banner)."""
        self.head = b""
        self.chunked = False
        self.upstream: UpstreamConnection | None = None
        self.connecting: asyncio.Task[None] | None = None
        self.pending: list[bytes] = []
        self.pending_size = 0
        self.body_seen = False
        self.request_done = False
        self.response_done = False
        self.sink = False
        self.status = 0
        self.framing = NO_BODY
        self.until_close = False
        self.unsent_head = b""
        self.error_code = 0
        self.retried = False
        self.started = 0.0

    # request side, driven by the client connection

    def start(self) -> None:
        """Route the request and send it on, or answer it here."""
        self.started = self.client.last_io
        if self.target == HEALTHZ_PATH:
            self.answer(200, HEALTHY, b"application/json")
            return
        if self.method == b"CONNECT":
            self.keep_alive = False
            self.answer(405, b"Method Not Allowed", b"text/plain")
            return
        try:
            raw_path, query = split_target(self.target)
        except BadTarget:
            self.keep_alive = False
            self.answer(400, b"Bad Request", b"text/plain")
            return
        self.tracked = b"no_track_activity" not in query
        client = self.client
        relay = client.relay
        path, raw_path = normalize(raw_path)
        if relay.host_routing:
            path = "/" + client.hostname(self.headers) + path
        route = relay.routes.match(path)
        if route is None:
            self.fail(404)
            return
        pool = relay.pool_for(route.target)
        if pool is None:
            self.fail(503, f"invalid target {route.target!r}")
            return
        self.route = route
        if not relay.include_prefix:
            raw_path = strip_segments(raw_path, route.key.count("/") - relay.host_routing)
        if relay.prepend_path:
            raw_path = pool.target.prefix + raw_path
        self.head, self.chunked = relay.heads.build(
            self.method,
            raw_path + query,
            self.headers,
            peer=client.peer,
            scheme=client.scheme(self.upgrade),
            default_host=pool.target.authority,
            upgrade=self.upgrade,
        )
        self.send(pool)

    def request_body(self, data: bytes) -> None:
        self.body_seen = True
        route = self.route
        if route is not None and self.tracked:
            route.last_activity = time()
        conn = self.upstream
        if conn is not None and not self.sink:
            if self.chunked:
                conn.transport.writelines((chunk_size_line(len(data)), data, CRLF))
            else:
                conn.transport.write(data)
        elif not self.sink:
            self.pending.append(data)
            self.pending_size += len(data)
            self.client.throttle()

    def request_complete(self) -> None:
        self.request_done = True
        conn = self.upstream
        if conn is not None and self.chunked and not self.sink:
            conn.transport.write(LAST_CHUNK)
        if self.response_done:
            self.client.exchange_finished(self)

    def request_sent(self) -> bool:
        """Whether the backend has the whole request, so its connection can carry another."""
        return self.request_done or bool(self.error_code)

    # backend connection

    def send(self, pool: UpstreamPool) -> None:
        conn = pool.take()
        if conn is not None:
            self.attach(conn)
        else:
            self.connecting = asyncio.get_running_loop().create_task(self.connect(pool))

    async def connect(self, pool: UpstreamPool) -> None:
        try:
            conn = await pool.open()
        except (OSError, ValueError) as exc:  # refused, unreachable, TLS failure, unresolvable or invalid name
            self.connecting = None
            self.upstream_failed(exc)
            return
        self.connecting = None
        if self.client.closed or self.response_done:
            conn.release(reusable=True)
        else:
            self.attach(conn)

    def attach(self, conn: UpstreamConnection) -> None:
        client = self.client
        self.upstream = conn
        conn.exchange = self
        conn.client = client
        conn.hold(client.write_paused)
        parts = [self.head]
        if not self.sink:
            if self.chunked:
                for data in self.pending:
                    parts += (chunk_size_line(len(data)), data, CRLF)
                if self.request_done:
                    parts.append(LAST_CHUNK)
            else:
                parts += self.pending
        self.pending.clear()
        self.pending_size = 0
        client.throttle()
        conn.transport.writelines(parts)

    def abandon(self) -> None:
        """The client went away: stop whatever is under way towards the backend."""
        if self.connecting is not None:
            self.connecting.cancel()
            self.connecting = None
        conn = self.upstream
        if conn is not None:
            self.upstream = None
            conn.exchange = None
            conn.release(reusable=False)

    # response side, driven by the backend connection

    def response_head(self, status: int, reason: bytes, headers: Headers) -> None:
        client = self.client
        if status < 200:
            if status == 101 and self.upgrade and not self.error_code:
                self.status = 101
                client.transport.write(switching_head(status, reason, headers))
            elif status != 101 and self.http11:
                client.transport.write(switching_head(status, reason, headers))
            return
        only = None
        if self.error_code:
            status, reason, only = self.error_code, reason_phrase(self.error_code), ERROR_PAGE_HEADERS
        self.status = status
        keep_alive = self.keep_alive and not self.upgrade
        head, self.framing, self.until_close = response_head(
            status,
            reason,
            headers,
            has_body=not (self.is_head or status in (204, 304)),
            client_http11=self.http11,
            keep_alive=keep_alive,
            only=only,
        )
        self.keep_alive = keep_alive and self.framing != UNTIL_CLOSE
        self.unsent_head = head  # written with the first body bytes: one send, one packet, for small responses

    def response_body(self, data: bytes) -> None:
        framing = self.framing
        if framing == NO_BODY:
            return
        parts: tuple[bytes, ...] = (chunk_size_line(len(data)), data, CRLF) if framing == CHUNKED else (data,)
        if self.unsent_head:
            parts = (self.unsent_head, *parts)
            self.unsent_head = b""
        self.client.transport.writelines(parts)

    def response_complete(self) -> None:
        self.upstream = None
        tail = LAST_CHUNK if self.framing == CHUNKED else b""
        if self.unsent_head or tail:
            self.client.transport.write(self.unsent_head + tail)
            self.unsent_head = b""
        route = self.route
        if route is not None and self.status < 300 and self.tracked:
            route.last_activity = time()
        self.finish_response()

    def flush_head(self) -> None:
        """Send a head still held back for the first body bytes (a stream that pauses after its head)."""
        if self.unsent_head:
            self.client.transport.write(self.unsent_head)
            self.unsent_head = b""

    def upgraded(self, conn: UpstreamConnection, early: bytes) -> bool:
        """The backend switched protocols; returns False if this request never asked it to."""
        if self.status != 101:
            return False
        self.upstream = None
        self.client.start_tunnel(conn, early, self.route)
        return True

    def upstream_lost(self, conn: UpstreamConnection, exc: BaseException | None, *, clean: bool) -> None:
        """The backend connection closed or broke while this exchange was on it."""
        self.upstream = None
        if not self.status:
            if self._can_retry(conn):
                self.retried = True
                self.connecting = asyncio.get_running_loop().create_task(self.connect(conn.pool))
            else:
                self.upstream_failed(exc or ConnectionResetError("backend closed the connection"))
        elif clean and self.until_close:
            self.response_complete()
        else:
            self.client.transport.close()  # cut short: the client sees an incomplete body

    def _can_retry(self, conn: UpstreamConnection) -> bool:
        """A kept-alive connection the backend closed just as we reused it: safe to replay a bodiless request."""
        if self.retried or not conn.reused or conn.received:
            return False
        return bool(self.error_code) or (self.request_done and not self.body_seen)

    def upstream_failed(self, exc: BaseException) -> None:
        if self.error_code:
            log.error("Failed to get custom error page: %s", exc)
            self.answer(self.error_code, *self.client.relay.errors.plain(self.error_code))
        else:
            self.fail(503, str(exc) or type(exc).__name__)

    def expire(self) -> None:
        """No response within --proxy-timeout."""
        conn = self.upstream
        if conn is not None:
            self.upstream = None
            conn.exchange = None
            conn.release(reusable=False)
        elif self.connecting is not None:
            self.connecting.cancel()
            self.connecting = None
        self.upstream_failed(TimeoutError("no response within --proxy-timeout"))

    # answers of our own

    def fail(self, code: int, detail: str = "") -> None:
        """Answer `code` because the request cannot be relayed: via the error target, or a page of ours."""
        logger = log.warning if code == 404 else log.error
        logger("%d %s %s %s", code, self.method.decode("latin-1"), _for_log(self.target), detail)
        self.route = None
        self.sink = True
        self.pending.clear()
        self.pending_size = 0
        self.client.throttle()
        errors = self.client.relay.errors
        pool = self.client.relay.error_pool()
        if pool is None:
            self.answer(code, *errors.page(code))
            return
        self.error_code = code
        self.retried = False
        self.head = errors.request_head(code, self.target, pool.target)
        self.send(pool)

    def answer(self, status: int, body: bytes, content_type: bytes | None) -> None:
        self.status = status
        self.keep_alive = keep_alive = self.keep_alive and not self.upgrade
        if self.is_head:
            body = b""
        self.client.transport.write(
            simple_response(status, body, content_type, keep_alive=keep_alive, client_http11=self.http11)
        )
        self.finish_response()

    def finish_response(self) -> None:
        self.response_done = True
        if self.request_done:
            self.client.exchange_finished(self)
        else:
            self.sink = True  # read and drop the rest of the request body, then take the next request
            self.pending.clear()


def _for_log(target: bytes) -> str:
    """A request target without its query (which may hold tokens), as CHP logs it."""
    return target.partition(b"?")[0].decode("latin-1")
