"""The public side: one protocol object per client connection.

It parses requests with httptools as bytes arrive and hands each one to an Exchange. Requests may be
pipelined: their responses must leave in order, so only one exchange is active at a time and later ones
wait in a queue (their bodies buffered, with reading paused past a limit). After a successful Upgrade the
connection becomes a raw two-way tunnel to the backend, which is how websockets pass.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import monotonic, time
from typing import TYPE_CHECKING, cast

from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser

from .exchange import Exchange
from .upstream import set_nodelay
from .wire import Headers, simple_response

if TYPE_CHECKING:
    from .relay import Relay
    from .routes import Route
    from .upstream import UpstreamConnection

# Request body buffered per exchange (before its backend connection exists) before reading pauses.
MAX_PENDING = 256 * 1024
# Pipelined requests waiting behind the active one before reading pauses.
MAX_QUEUED = 16


class ClientConnection(asyncio.Protocol):
    """A connection from a browser (or anything else) to the public port."""

    __slots__ = (
        "active",
        "closed",
        "draining",
        "eof",
        "headers",
        "held",
        "held_size",
        "last_io",
        "parser",
        "parsing",
        "peer",
        "queue",
        "reading_paused",
        "relay",
        "secure",
        "target",
        "transport",
        "tunnel",
        "tunnel_route",
        "upstream_full",
        "write_paused",
    )

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.parser = HttpRequestParser(self)
        self.peer = b""
        self.secure = False
        self.target = b""
        self.headers: Headers = []
        self.parsing: Exchange | None = None
        self.active: Exchange | None = None
        self.queue: deque[Exchange] = deque()
        self.draining = False
        self.eof = False
        self.held: list[bytes] | None = None
        self.held_size = 0
        self.tunnel: UpstreamConnection | None = None
        self.tunnel_route: Route | None = None
        self.last_io = monotonic()
        self.reading_paused = False
        self.write_paused = False
        self.upstream_full = False
        self.closed = False

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        set_nodelay(transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = str(peer[0]).encode()
        self.secure = transport.get_extra_info("sslcontext") is not None
        self.relay.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.relay.connections.discard(self)
        if self.tunnel is not None:
            self.tunnel.transport.close()
        if self.active is not None:
            self.active.abandon()
        for waiting in self.queue:
            waiting.abandon()

    def data_received(self, data: bytes) -> None:
        self.last_io = monotonic()
        tunnel = self.tunnel
        if tunnel is not None:
            tunnel.transport.write(data)
            self.touch()
            return
        if self.held is not None:
            self.held.append(data)
            self.held_size += len(data)
            self.throttle()
            return
        try:
            self.parser.feed_data(data)
        except HttpParserUpgrade as upgrade:
            self.held = [data[upgrade.args[0] :]]
        except HttpParserError:
            self.bad_request()

    def eof_received(self) -> bool:
        """The client finished sending: answer what it asked (half-close, as Node allows), then close."""
        self.eof = True
        whole_request_waiting = self.active is not None and self.parsing is None
        return whole_request_waiting and self.tunnel is None and self.held is None

    def pause_writing(self) -> None:
        self.write_paused = True
        self._hold_feeder(True)

    def resume_writing(self) -> None:
        self.write_paused = False
        self._hold_feeder(False)

    # httptools callbacks

    def on_message_begin(self) -> None:
        self.target = b""
        self.headers = []

    def on_url(self, url: bytes) -> None:
        self.target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.parsing is None:  # not a chunked body's trailer
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        exchange = Exchange(
            self,
            parser.get_method(),
            self.target,
            self.headers,
            keep_alive=parser.should_keep_alive(),
            http11=parser.get_http_version() == "1.1",
            upgrade=parser.should_upgrade(),
        )
        self.parsing = exchange
        if self.active is None:
            self.active = exchange
            exchange.start()
        else:
            self.queue.append(exchange)
            self.throttle()

    def on_body(self, body: bytes) -> None:
        exchange = self.parsing
        assert exchange is not None
        exchange.request_body(body)

    def on_message_complete(self) -> None:
        exchange = self.parsing
        assert exchange is not None
        self.parsing = None
        exchange.request_complete()

    # called by exchanges and backend connections

    def exchange_finished(self, exchange: Exchange) -> None:
        """The active exchange is done both ways: close, or start the next pipelined request."""
        self.active = None
        self.last_io = monotonic()
        if not exchange.keep_alive or (self.eof and not self.queue):
            self.transport.close()
            return
        if self.draining:
            return  # the loop below, further up the stack, takes the next one
        self.draining = True
        try:
            while self.active is None and self.queue and not self.transport.is_closing():
                self.active = self.queue.popleft()
                self.throttle()
                self.active.start()
        finally:
            self.draining = False

    def start_tunnel(self, upstream: UpstreamConnection, early: bytes, route: Route | None) -> None:
        """Join this connection to `upstream` byte for byte, after a 101 Switching Protocols."""
        self.active = None
        self.tunnel = upstream
        self.tunnel_route = route
        held = self.held or []
        self.held = None
        self.held_size = 0
        self.throttle()
        if held:
            upstream.transport.writelines(held)
        if early:
            self.transport.write(early)

    def touch(self) -> None:
        """Tunnel traffic counts as activity on its route."""
        if self.tunnel_route is not None:
            self.tunnel_route.last_activity = time()

    def throttle(self) -> None:
        """Pause reading while whatever we would read into is full; resume once it drains."""
        parsing = self.parsing
        full = (
            self.upstream_full
            or len(self.queue) >= MAX_QUEUED
            or self.held_size > MAX_PENDING
            or (parsing is not None and parsing.pending_size > MAX_PENDING)
        )
        if full is not self.reading_paused and not self.transport.is_closing():
            self.reading_paused = full
            if full:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def hostname(self, headers: Headers) -> str:
        """The request's Host without port, for --host-routing."""
        for name, value in headers:
            if name.lower() == b"host":
                return value.decode("latin-1").split(":")[0]
        return ""

    def scheme(self, upgrade: bool) -> bytes:
        """X-Forwarded-Proto as http-proxy sends it (ws/wss for upgrades)."""
        if upgrade:
            return b"wss" if self.secure else b"ws"
        return b"https" if self.secure else b"http"

    def check_timeouts(self, now: float) -> None:
        """Close idle keep-alive connections and give up on requests past --timeout or --proxy-timeout."""
        if self.tunnel is not None:
            return
        relay = self.relay
        active = self.active
        if active is None:
            if now - self.last_io > relay.keep_alive_timeout:
                self._drop()
        elif relay.timeout is not None and now - self.last_io > relay.timeout:
            self._drop()
        elif relay.proxy_timeout is not None and not active.status and now - active.started > relay.proxy_timeout:
            active.expire()

    def bad_request(self) -> None:
        """Unparseable input: say so if no response is under way, then close."""
        if self.active is None:
            self.transport.write(
                simple_response(400, b"Bad Request", b"text/plain", keep_alive=False, client_http11=True)
            )
        self.transport.close()

    def _drop(self) -> None:
        """Close; if an earlier close is still waiting to flush to a client that reads nothing, abort."""
        if self.transport.is_closing():
            self.transport.abort()
        else:
            self.transport.close()

    def _hold_feeder(self, paused: bool) -> None:
        """Pause or resume the backend connection whose bytes are filling our transport."""
        feeder = self.tunnel
        if feeder is None and self.active is not None:
            feeder = self.active.upstream
        if feeder is not None:
            feeder.hold(paused)
