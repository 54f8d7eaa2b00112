"""Byte-level HTTP for tests that need what httpx hides: raw targets, pipelining, HTTP/1.0, interim responses."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Self

from httptools import HttpResponseParser


@dataclass
class Response:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class RawConnection:
    """A plain socket to the proxy that parses whatever responses come back, in order."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.parser = HttpResponseParser(self)
        self.done: list[Response] = []
        self.current = Response()
        self.heads = 0
        self.reset = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, count: int = 1) -> list[Response]:
        """The next `count` responses, in order (interim 1xx responses count too)."""
        while len(self.done) < count:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed after {len(self.done)} of {count} responses")
            self.parser.feed_data(data)
            if self.reset:
                self.parser, self.reset = HttpResponseParser(self), False
        taken, self.done = self.done[:count], self.done[count:]
        return taken

    def expect_head_response(self) -> None:
        """The next response answers HEAD: it ends with its headers, whatever Content-Length says."""
        self.heads += 1

    def at_eof(self) -> bool:
        """Whether the proxy closed the connection (after what was read)."""
        return self.sock.recv(1) == b""

    def on_message_begin(self) -> None:
        self.current = Response()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers[name.decode().lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.current.status = self.parser.get_status_code()
        if self.heads and self.current.status >= 200:
            self.heads -= 1
            self.done.append(self.current)
            self.reset = True

    def on_body(self, body: bytes) -> None:
        self.current.body += body

    def on_message_complete(self) -> None:
        if not self.reset:
            self.done.append(self.current)


def get(target: str | bytes, host: str = "proxy.test", extra: bytes = b"", version: bytes = b"1.1") -> bytes:
    """A GET request's bytes."""
    raw = target.encode() if isinstance(target, str) else target
    return b"GET " + raw + b" HTTP/" + version + b"\r\nHost: " + host.encode() + b"\r\n" + extra + b"\r\n"
