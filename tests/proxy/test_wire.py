"""Message heads: hop-by-hop headers, X-Forwarded-*, and response framing."""

from __future__ import annotations

from commonroom.proxy.wire import CHUNKED, LENGTH, NO_BODY, UNTIL_CLOSE, RequestHeadBuilder, response_head


def lines(head: bytes) -> list[bytes]:
    return head.split(b"\r\n")


def build(builder: RequestHeadBuilder, headers: list[tuple[bytes, bytes]], upgrade: bool = False) -> tuple[bytes, bool]:
    return builder.build(
        b"GET", b"/x?y", headers, peer=b"10.0.0.1", scheme=b"http", default_host=b"backend:80", upgrade=upgrade
    )


def test_request_head_drops_hop_by_hop_and_appends_forwarded_values() -> None:
    builder = RequestHeadBuilder(x_forward=True, change_origin=False, custom_headers=[])
    head, chunked = build(
        builder,
        [
            (b"Host", b"hub.example.org:8443"),
            (b"Connection", b"keep-alive"),
            (b"Keep-Alive", b"timeout=5"),
            (b"X-Forwarded-For", b"1.2.3.4"),
            (b"Cookie", b"a=b"),
        ],
    )
    assert not chunked
    assert lines(head) == [
        b"GET /x?y HTTP/1.1",
        b"Host: hub.example.org:8443",
        b"Cookie: a=b",
        b"X-Forwarded-For: 1.2.3.4,10.0.0.1",
        b"X-Forwarded-Port: 8443",
        b"X-Forwarded-Proto: http",
        b"X-Forwarded-Host: hub.example.org:8443",
        b"",
        b"",
    ]


def test_request_head_without_x_forward_passes_client_values_and_adds_a_host() -> None:
    builder = RequestHeadBuilder(x_forward=False, change_origin=False, custom_headers=[("X-Team", "blue")])
    head, _ = build(builder, [(b"X-Forwarded-For", b"1.2.3.4"), (b"X-Team", b"red")])
    assert lines(head)[1:] == [b"X-Forwarded-For: 1.2.3.4", b"Host: backend:80", b"X-Team: blue", b"", b""]


def test_chunked_and_upgrade_requests_keep_what_the_backend_needs() -> None:
    builder = RequestHeadBuilder(x_forward=False, change_origin=True, custom_headers=[])
    head, chunked = build(
        builder,
        [
            (b"Host", b"public"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Connection", b"Upgrade"),
            (b"Upgrade", b"websocket"),
        ],
        upgrade=True,
    )
    assert chunked
    assert b"Transfer-Encoding: chunked" in lines(head)
    assert b"Host: backend:80" in lines(head) and b"Host: public" not in lines(head)
    assert b"Connection: upgrade" in lines(head) and b"Upgrade: websocket" in lines(head)


def test_response_framing() -> None:
    with_length = [(b"Content-Length", b"5"), (b"Connection", b"close")]
    head, framing, until_close = response_head(
        200, b"OK", with_length, has_body=True, client_http11=True, keep_alive=True
    )
    assert framing == LENGTH and not until_close
    assert lines(head) == [b"HTTP/1.1 200 OK", b"Content-Length: 5", b"", b""]

    chunked = [(b"Transfer-Encoding", b"chunked")]
    head, framing, until_close = response_head(200, b"OK", chunked, has_body=True, client_http11=True, keep_alive=False)
    assert framing == CHUNKED and not until_close
    assert lines(head)[1:] == [b"Transfer-Encoding: chunked", b"Connection: close", b"", b""]

    head, framing, until_close = response_head(200, b"OK", [], has_body=True, client_http11=False, keep_alive=True)
    assert framing == UNTIL_CLOSE and until_close
    assert b"Connection: close" in lines(head)

    head, framing, _ = response_head(304, b"Not Modified", [], has_body=False, client_http11=False, keep_alive=True)
    assert framing == NO_BODY
    assert b"Connection: keep-alive" in lines(head)


def test_error_pages_copy_only_type_and_encoding() -> None:
    headers = [(b"Content-Type", b"text/html"), (b"Set-Cookie", b"x=1"), (b"Content-Length", b"3")]
    only = frozenset({b"content-type", b"content-encoding"})
    head, framing, _ = response_head(
        404, b"Not Found", headers, has_body=True, client_http11=True, keep_alive=True, only=only
    )
    assert framing == CHUNKED
    assert lines(head)[1:] == [b"Content-Type: text/html", b"Transfer-Encoding: chunked", b"", b""]
