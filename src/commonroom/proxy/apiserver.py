"""HTTP/1.1 for the REST API port: parse a request, buffer its (small) body, answer from RoutesApi.

The API shares the data plane's parser and loop rather than pulling in a web framework: it is a handful of
calls a minute from the hub, and running it beside the route table in the same loop means no locking.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from httptools import HttpParserError, HttpParserUpgrade, HttpRequestParser

from .api import RoutesApi
from .upstream import set_nodelay
from .wire import simple_response

log = logging.getLogger("commonroom.proxy.api")

# Route data is a few hundred bytes; anything near this is not a route.
MAX_BODY = 1024 * 1024


class ApiConnection(asyncio.Protocol):
    """One connection to the API port; keep-alive and pipelining answered in order."""

    def __init__(self, api: RoutesApi, connections: set[ApiConnection]) -> None:
        self.api = api
        self.connections = connections
        self.parser = HttpRequestParser(self)
        self.target = b""
        self.authorization = b""
        self.body: list[bytes] = []
        self.size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        set_nodelay(transport)
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except HttpParserUpgrade:
            self.transport.close()
        except HttpParserError:
            self._reply(400, b"Bad Request", b"text/plain", keep_alive=False)

    def on_message_begin(self) -> None:
        self.target = b""
        self.authorization = b""
        self.body = []
        self.size = 0

    def on_url(self, url: bytes) -> None:
        self.target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"authorization":
            self.authorization = value

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > MAX_BODY:
            self._reply(413, b"Request body too large", b"text/plain", keep_alive=False)
            raise HttpParserError("request body too large")
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        response = self.api.handle(method, self.target, self.authorization, b"".join(self.body))
        level = logging.INFO if response.status < 400 else logging.WARNING
        target = self.target.partition(b"?")[0].decode("latin-1")
        log.log(level, "%d %s %s", response.status, method.decode("latin-1"), target)
        self._reply(response.status, response.body, response.content_type, self.parser.should_keep_alive())

    def _reply(self, status: int, body: bytes, content_type: bytes | None, keep_alive: bool) -> None:
        if self.transport.is_closing():
            return
        self.transport.write(simple_response(status, body, content_type, keep_alive=keep_alive, client_http11=True))
        if not keep_alive:
            self.transport.close()
