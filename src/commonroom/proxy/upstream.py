"""Connections to backends: one keep-alive pool per target, and the protocol that reads their responses.

Why not httpx or aiohttp here: a client library turns a response into an object, reads through streams and
tasks, and owns its connections. A relay wants none of that. It wants each chunk handed straight to the
client's transport as it arrives, with flow control wired between the two sockets, and connections reused
without a task per request. An asyncio Protocol with httptools' (llhttp's) response parser does exactly
that. Opening a connection is the one step that awaits.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from functools import partial
from time import monotonic
from typing import TYPE_CHECKING, NamedTuple, cast
from urllib.parse import urlsplit

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from .wire import Headers

if TYPE_CHECKING:
    from .exchange import Exchange
    from .frontend import ClientConnection

# Idle connections kept per backend; more than this many idle at once are closed instead.
MAX_IDLE = 64


class Target(NamedTuple):
    """A route's target URL, parsed once per distinct URL."""

    host: str
    port: int
    secure: bool
    prefix: bytes  # the target's own path, prepended to forwarded paths ("" for "/")
    authority: bytes  # Host header for requests that carry none


def parse_target(url: str) -> Target:
    """Parse "http(s)://host[:port][/path]"; raises ValueError for anything else."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL with a host")
    secure = scheme in ("https", "wss")
    port = parts.port or (443 if secure else 80)
    authority = parts.netloc.rpartition("@")[2]
    return Target(parts.hostname, port, secure, parts.path.rstrip("/").encode(), authority.encode())


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Small writes (heads, websocket frames) go out at once instead of waiting for Nagle's timer."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class UpstreamPool:
    """Idle keep-alive connections to one backend, newest reused first so old ones can expire."""

    __slots__ = ("idle", "retired", "ssl", "target")

    def __init__(self, target: Target, context: ssl.SSLContext | None) -> None:
        self.target = target
        self.ssl = context
        self.idle: list[UpstreamConnection] = []
        self.retired = False

    def take(self) -> UpstreamConnection | None:
        """An idle connection that is still open, if there is one."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        return None

    def put(self, conn: UpstreamConnection) -> None:
        if self.retired or len(self.idle) >= MAX_IDLE:
            conn.transport.close()
            return
        conn.idle_since = monotonic()
        self.idle.append(conn)

    async def open(self) -> UpstreamConnection:
        """A new connection; raises OSError (ssl.SSLError included) when the backend cannot be reached."""
        target = self.target
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(
            partial(UpstreamConnection, self),
            target.host,
            target.port,
            ssl=self.ssl if target.secure else None,
        )
        return conn

    def prune(self, idle_before: float) -> None:
        """Close connections idle since before `idle_before`, before the backend closes them under us."""
        idle = self.idle
        keep = 0
        while keep < len(idle) and idle[keep].idle_since < idle_before:
            idle[keep].transport.close()
            keep += 1
        del idle[:keep]

    def close(self) -> None:
        """Close idle connections now, and busy ones when they come back."""
        self.retired = True
        for conn in self.idle:
            conn.transport.close()
        self.idle.clear()


class UpstreamConnection(asyncio.Protocol):
    """One connection to a backend: it carries one exchange at a time, or becomes half of a tunnel."""

    __slots__ = (
        "client",
        "closed",
        "exchange",
        "headers",
        "idle_since",
        "parser",
        "pool",
        "reading_paused",
        "reason",
        "received",
        "reused",
        "status",
        "transport",
        "tunnel",
    )

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool
        self.parser = HttpResponseParser(self)
        self.exchange: Exchange | None = None
        self.client: ClientConnection | None = None
        self.reason = b""
        self.headers: Headers = []
        self.status = 0
        self.reused = False
        self.received = False
        self.tunnel = False
        self.closed = False
        self.idle_since = 0.0
        self.reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        set_nodelay(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        client = self.client
        if self.tunnel and client is not None:
            client.transport.close()
            return
        exchange = self.exchange
        if exchange is not None:
            self.exchange = None
            exchange.upstream_lost(self, exc, clean=exc is None)

    def data_received(self, data: bytes) -> None:
        client = self.client
        if self.tunnel and client is not None:
            client.transport.write(data)
            client.touch()
            return
        if self.exchange is None:
            self.transport.close()  # nothing was asked: a stray "408" or garbage on an idle connection
            return
        if client is not None:
            client.last_io = monotonic()  # a response still arriving is not an idle client (--timeout)
        self.received = True
        try:
            self.parser.feed_data(data)
        except HttpParserUpgrade as upgrade:
            self._switch(data[upgrade.args[0] :])
        except HttpParserError as exc:
            self._broken(exc)
        exchange = self.exchange
        if exchange is not None:
            exchange.flush_head()

    def pause_writing(self) -> None:
        if self.client is not None:
            self.client.upstream_full = True
            self.client.throttle()

    def resume_writing(self) -> None:
        if self.client is not None:
            self.client.upstream_full = False
            self.client.throttle()

    def hold(self, paused: bool) -> None:
        """Stop or restart reading, while the client's transport cannot take more."""
        if paused is not self.reading_paused and not self.transport.is_closing():
            self.reading_paused = paused
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self.reason = b""
        self.headers = []

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        self.status = status = self.parser.get_status_code()
        exchange.response_head(status, self.reason, self.headers)
        if exchange.is_head and status >= 200 and not exchange.error_code:
            # llhttp cannot be told a response answers HEAD; rather than let it wait for a body that will
            # not come, finish here and retire the connection.
            self._complete(exchange, keep_alive=False)

    def on_body(self, body: bytes) -> None:
        exchange = self.exchange
        if exchange is not None:
            exchange.response_body(body)

    def on_message_complete(self) -> None:
        exchange = self.exchange
        if exchange is not None and self.status >= 200:
            self._complete(exchange, self.parser.should_keep_alive())

    def _complete(self, exchange: Exchange, keep_alive: bool) -> None:
        self.exchange = None
        self.release(keep_alive and exchange.request_sent())
        exchange.response_complete()

    def release(self, reusable: bool) -> None:
        """After an exchange: back into the pool if the connection can carry another, else closed."""
        client = self.client
        self.client = None
        if client is not None and client.upstream_full:
            client.upstream_full = False
            client.throttle()
        if reusable and not self.closed:
            self.hold(False)
            self.reused = True
            self.received = False
            self.pool.put(self)
        else:
            self.transport.close()

    def _switch(self, early: bytes) -> None:
        """The backend accepted an Upgrade: from now on bytes flow through untouched."""
        exchange = self.exchange
        self.exchange = None
        if exchange is None or self.status != 101 or not exchange.upgraded(self, early):
            self.transport.close()
            if exchange is not None:
                exchange.upstream_lost(self, None, clean=False)
            return
        self.tunnel = True

    def _broken(self, exc: HttpParserError) -> None:
        exchange = self.exchange
        self.exchange = None
        self.transport.close()
        if exchange is not None:
            exchange.upstream_lost(self, exc, clean=False)
