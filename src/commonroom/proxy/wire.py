"""HTTP/1.1 message heads as bytes: what the relay writes to backends and to clients.

The relay re-frames every message (it keeps its own keep-alive connections on both sides), so hop-by-hop
headers are dropped here and framing headers added back. Everything else passes through byte for byte, in
the original order and case. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

Headers = list[tuple[bytes, bytes]]

# Framing and connection management belong to each hop, never to the message.
HOP_BY_HOP = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"te", b"trailer", b"upgrade"}
)
FORWARDED = (b"x-forwarded-for", b"x-forwarded-port", b"x-forwarded-proto", b"x-forwarded-host")
# What CHP copies from an --error-target response onto the error it relays.
ERROR_PAGE_HEADERS = frozenset({b"content-type", b"content-encoding"})

CRLF = b"\r\n"
LAST_CHUNK = b"0\r\n\r\n"

# How a response body is delimited towards the client.
NO_BODY, LENGTH, CHUNKED, UNTIL_CLOSE = range(4)


def chunk_size_line(size: int) -> bytes:
    """The line that opens one chunk of a chunked body."""
    return b"%x\r\n" % size


def reason_phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Unknown"


def _appended(previous: bytes | None, value: bytes) -> bytes:
    """An X-Forwarded-* value with ours appended to the client's, comma-separated as http-proxy does."""
    return previous + b"," + value if previous else value


def _port_of(host: bytes | None) -> bytes | None:
    """The explicit port in a Host header value ("[::1]:8000" included), if any."""
    if not host or host.endswith(b"]"):
        return None
    _, colon, port = host.rpartition(b":")
    return port if colon and port.isdigit() else None


class RequestHeadBuilder:
    """Turns a client's request head into the head sent to a backend.

    Built once per proxy from the options, so the per-request work is one pass over the headers with one
    set lookup for the common ones. X-Forwarded-* follow CHP (http-proxy): For, Port and Proto append to
    what the client sent, Host keeps the client's value or falls back to its Host header. A chunked request
    body stays chunked (the relay re-frames what the parser de-chunked), so Transfer-Encoding passes.
    """

    def __init__(self, *, x_forward: bool, change_origin: bool, custom_headers: Iterable[tuple[str, str]]) -> None:
        self.x_forward = x_forward
        self.change_origin = change_origin
        custom = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in custom_headers]
        self._custom = b"".join(name + b": " + value + CRLF for name, value in custom)
        special = set(HOP_BY_HOP) | {b"host"} | {name.lower() for name, _ in custom}
        if x_forward:
            special.update(FORWARDED)
        self._special = frozenset(special)

    def build(
        self,
        method: bytes,
        target: bytes,
        headers: Headers,
        *,
        peer: bytes,
        scheme: bytes,
        default_host: bytes,
        upgrade: bool,
    ) -> tuple[bytes, bool]:
        """The head for `method target` to a backend, and whether its body is chunked."""
        parts = [method, b" ", target, b" HTTP/1.1\r\n"]
        special = self._special
        host = upgrade_to = None
        chunked = False
        forwarded: dict[bytes, bytes] | None = None
        for name, value in headers:
            lower = name.lower()
            if lower not in special:
                parts += (name, b": ", value, CRLF)
            elif lower == b"host":
                host = value
                if not self.change_origin:
                    parts += (name, b": ", value, CRLF)
            elif lower == b"transfer-encoding":
                chunked = True
                parts += (name, b": ", value, CRLF)
            elif lower == b"upgrade":
                upgrade_to = value
            elif lower in FORWARDED:
                forwarded = forwarded or {}
                forwarded[lower] = value
        if host is None or self.change_origin:
            parts += (b"Host: ", default_host, CRLF)
        if upgrade and upgrade_to is not None:
            parts += (b"Connection: upgrade\r\nUpgrade: ", upgrade_to, CRLF)
        if self.x_forward:
            port = _port_of(host) or (b"443" if scheme in (b"https", b"wss") else b"80")
            if forwarded:
                peer = _appended(forwarded.get(b"x-forwarded-for"), peer)
                port = _appended(forwarded.get(b"x-forwarded-port"), port)
                scheme = _appended(forwarded.get(b"x-forwarded-proto"), scheme)
                host = forwarded.get(b"x-forwarded-host") or host
            parts += (
                b"X-Forwarded-For: ", peer, b"\r\nX-Forwarded-Port: ", port, b"\r\nX-Forwarded-Proto: ", scheme,
                b"\r\nX-Forwarded-Host: ", host or b"", CRLF,
            )  # fmt: skip
        parts += (self._custom, CRLF)
        return b"".join(parts), chunked


def response_head(
    status: int,
    reason: bytes,
    headers: Headers,
    *,
    has_body: bool,
    client_http11: bool,
    keep_alive: bool,
    only: frozenset[bytes] | None = None,
) -> tuple[bytes, int, bool]:
    """The head relayed to a client, its framing, and whether the backend delimits the body by closing.

    `only`, when given, restricts the copied headers (error pages). A body without Content-Length is
    re-chunked for HTTP/1.1 clients; HTTP/1.0 clients get it delimited by closing the connection.
    """
    parts = [b"HTTP/1.1 %d " % status, reason, CRLF]
    declared = chunked = length = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"transfer-encoding":
            chunked = True
            continue
        if lower == b"content-length":
            declared = True
            length = only is None
        elif lower in HOP_BY_HOP:
            continue
        if only is None or lower in only:
            parts += (name, b": ", value, CRLF)
    if not has_body:
        framing = NO_BODY
    elif length:
        framing = LENGTH
    elif client_http11:
        framing = CHUNKED
        parts.append(b"Transfer-Encoding: chunked\r\n")
    else:
        framing = UNTIL_CLOSE
        keep_alive = False
    parts.append(_connection_header(keep_alive, client_http11))
    return b"".join(parts), framing, not (declared or chunked)


def switching_head(status: int, reason: bytes, headers: Headers) -> bytes:
    """A 101 (or other interim) head, relayed with all its headers: they describe the new protocol."""
    parts = [b"HTTP/1.1 %d " % status, reason, CRLF]
    for name, value in headers:
        parts += (name, b": ", value, CRLF)
    parts.append(CRLF)
    return b"".join(parts)


def simple_response(
    status: int, body: bytes, content_type: bytes | None, *, keep_alive: bool, client_http11: bool
) -> bytes:
    """A complete response the proxy answers itself (health check, errors)."""
    parts = [b"HTTP/1.1 %d " % status, reason_phrase(status), CRLF]
    if content_type is not None:
        parts += (b"Content-Type: ", content_type, CRLF)
    if status not in (204, 304):
        parts.append(b"Content-Length: %d\r\n" % len(body))
    parts += (_connection_header(keep_alive, client_http11), body)
    return b"".join(parts)


def _connection_header(keep_alive: bool, client_http11: bool) -> bytes:
    """The Connection header (plus the blank line) that says what happens to the client connection."""
    if not keep_alive:
        return b"Connection: close\r\n\r\n"
    return CRLF if client_http11 else b"Connection: keep-alive\r\n\r\n"
