"""The data plane of a real proxy process in front of a real backend process."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support.ports import free_port

from .processes import Backend, Proxy, http, proxy
from .rawhttp import RawConnection, get

pytestmark = pytest.mark.timeout(60)


def echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    described: dict[str, Any] = response.json()
    return described


def header(described: dict[str, Any], name: str) -> str | None:
    values = [value for key, value in described["headers"] if key == name]
    assert len(values) <= 1, values
    return values[0] if values else None


def last_activity(proxy: Proxy, key: str) -> datetime:
    return datetime.fromisoformat(proxy.routes()[key]["last_activity"])


def test_longest_prefix_picks_the_route(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/lp", f"{upstream.http}/base")
    chp.add("/t/lp/user/alice", f"{upstream.http}/alice")
    chp.add("/t/lp/user/alice/x", f"{upstream.http}/alicex")
    expected = {
        "/t/lp/user/alice": "/alice/t/lp/user/alice",
        "/t/lp/user/alice/tree/a.ipynb": "/alice/t/lp/user/alice/tree/a.ipynb",
        "/t/lp/user/alice2": "/base/t/lp/user/alice2",
        "/t/lp/user/alice/x/y": "/alicex/t/lp/user/alice/x/y",
        "/t/lp/user/alice/../bob/": "/base/t/lp/user/bob/",
    }
    with httpx.Client(base_url=chp.public) as client:
        for path, forwarded in expected.items():
            assert echo(client.get(path))["raw_path"] == forwarded, path


def test_full_path_and_query_are_forwarded(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/pq/user/bob", upstream.http)
    described = echo(http().get(f"{chp.public}/t/pq/user/bob/api/contents/a%20b?x=1&y=%2F&z"))
    assert described["raw_path"] == "/t/pq/user/bob/api/contents/a%20b"
    assert described["query"] == "x=1&y=%2F&z"


def test_x_forwarded_headers(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/xf", upstream.http)
    described = echo(http().get(f"{chp.public}/t/xf/", headers={"X-Forwarded-For": "203.0.113.9"}))
    assert header(described, "host") == f"127.0.0.1:{chp.port}"
    assert header(described, "x-forwarded-for") == "203.0.113.9,127.0.0.1"
    assert header(described, "x-forwarded-port") == str(chp.port)
    assert header(described, "x-forwarded-proto") == "http"
    assert header(described, "x-forwarded-host") == f"127.0.0.1:{chp.port}"
    assert header(described, "connection") is None


def test_request_bodies_with_length_and_chunked(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/body", upstream.http)
    data = os.urandom(100_000)
    sha = hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=chp.public) as client:
        described = echo(client.post("/t/body/length", content=data))
        assert (described["body_size"], described["body_sha256"]) == (len(data), sha)
        assert header(described, "content-length") == str(len(data))

        pieces = [data[i : i + 7000] for i in range(0, len(data), 7000)]
        described = echo(client.post("/t/body/chunked", content=iter(pieces)))
        assert (described["body_size"], described["body_sha256"]) == (len(data), sha)
        assert header(described, "transfer-encoding") == "chunked"


def test_multi_megabyte_bodies_stream_both_ways(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/big", upstream.http)
    block = os.urandom(1 << 20)
    with httpx.Client(base_url=chp.public, timeout=30) as client:
        described = echo(client.put("/t/big/up", content=iter([block] * 16)))
        assert described["body_size"] == 16 << 20
        assert described["body_sha256"] == hashlib.sha256(block * 16).hexdigest()
        with client.stream("GET", f"/t/big/bytes/{24 << 20}") as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == str(24 << 20)
            assert sum(len(piece) for piece in response.iter_bytes()) == 24 << 20


def test_chunked_responses_are_relayed_chunked(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/stream", upstream.http)
    response = http().get(f"{chp.public}/t/stream/200")
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.text.splitlines() == [f"chunk {i}" for i in range(200)]


def test_keep_alive_and_pipelining_on_one_client_connection(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/ka", upstream.http)
    with RawConnection(chp.port) as conn:
        for index in range(3):
            conn.send(get(f"/t/ka/one/{index}"))
            (response,) = conn.read()
            assert json.loads(response.body)["raw_path"] == f"/t/ka/one/{index}"
        conn.send(b"".join(get(f"/t/ka/pipe/{index}") for index in range(5)) + get("/_chp_healthz"))
        responses = conn.read(6)
        assert [json.loads(r.body)["raw_path"] for r in responses[:5]] == [f"/t/ka/pipe/{i}" for i in range(5)]
        assert json.loads(responses[5].body) == {"status": "OK"}


def test_backend_connections_are_kept_alive(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/pool", upstream.http)
    with httpx.Client(base_url=chp.public) as client:
        ports = {echo(client.get("/t/pool/x"))["client_port"] for _ in range(5)}
    assert len(ports) == 1


def test_head_and_expect_continue(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/head", upstream.http)
    with RawConnection(chp.port) as conn:
        conn.send(b"HEAD /t/head/bytes/1000 HTTP/1.1\r\nHost: x\r\n\r\n")
        conn.expect_head_response()
        (head,) = conn.read()
        assert head.status == 200 and head.headers["content-length"] == "1000" and head.body == b""
        conn.send(b"POST /t/head/e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        (interim,) = conn.read()
        assert interim.status == 100
        conn.send(b"hello")
        (final,) = conn.read()
        assert json.loads(final.body)["body_size"] == 5


def test_http10_client_gets_the_body_and_a_close(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/old", upstream.http)
    with RawConnection(chp.port) as conn:
        conn.send(get("/t/old/stream/3", version=b"1.0"))
        received = b""
        while chunk := conn.sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head
    assert body == b"chunk 0\nchunk 1\nchunk 2\n"


async def test_websocket_echo_through_the_proxy(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/ws/user/alice", upstream.ws)
    before = last_activity(chp, "/t/ws/user/alice")
    url = f"ws://127.0.0.1:{chp.port}/t/ws/user/alice/api/kernels/1/channels?session=a"
    async with connect(url, max_size=None) as ws:
        for message in ("hello", "ü" * 10, "x" * 300_000):
            await ws.send(message)
            assert await ws.recv() == f"/t/ws/user/alice/api/kernels/1/channels?session=a {message}"
        await ws.send(b"\x00\x01binary")
        assert await ws.recv() == "/t/ws/user/alice/api/kernels/1/channels?session=a b'\\x00\\x01binary'"
    assert last_activity(chp, "/t/ws/user/alice") > before


def test_no_route_gives_the_error_targets_404(chp: Proxy) -> None:
    response = http().get(f"{chp.public}/no/such route?q=1")
    assert response.status_code == 404
    # the raw target (as sent: "/no/such%20route?q=1"), form-encoded, as CHP passes it
    assert response.text == "custom error 404 url=%2Fno%2Fsuch%2520route%3Fq%3D1"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "x-not-copied" not in response.headers


def test_dead_backend_gives_the_error_targets_503(chp: Proxy) -> None:
    chp.add("/t/dead", f"http://127.0.0.1:{free_port()}")
    before = last_activity(chp, "/t/dead")
    with httpx.Client(base_url=chp.public) as client:
        for _ in range(2):
            response = client.get("/t/dead/x")
            assert response.status_code == 503
            assert response.text == "custom error 503 url=%2Ft%2Fdead%2Fx"
    assert last_activity(chp, "/t/dead") == before


def test_last_activity_moves_on_success_only(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/activity", upstream.http)
    created = last_activity(chp, "/t/activity")
    assert http().get(f"{chp.public}/t/activity/status/404").status_code == 404
    assert last_activity(chp, "/t/activity") == created
    echo(http().get(f"{chp.public}/t/activity/ok"))
    assert last_activity(chp, "/t/activity") > created


def test_requests_marked_no_track_activity_are_not_activity(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/background", upstream.http)
    created = last_activity(chp, "/t/background")
    echo(http().get(f"{chp.public}/t/background/status?no_track_activity=1"))
    assert last_activity(chp, "/t/background") == created
    echo(http().get(f"{chp.public}/t/background/status"))
    assert last_activity(chp, "/t/background") > created


def test_health_check(chp: Proxy) -> None:
    response = http().get(f"{chp.public}/_chp_healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
    assert response.headers["content-type"] == "application/json"


def test_hostile_path_with_space_and_non_ascii(chp: Proxy, upstream: Backend) -> None:
    response = http().post(
        f"{chp.api}/api/routes/t/hostile/al%20ice/%C3%BC", json={"target": upstream.http}, headers=chp.auth
    )
    assert response.status_code == 201
    assert "/t/hostile/al ice/ü" in chp.routes()
    described = echo(http().get(f"{chp.public}/t/hostile/al%20ice/%C3%BC/tree?x=a%20b"))
    assert described["raw_path"] == "/t/hostile/al%20ice/%C3%BC/tree"
    assert described["query"] == "x=a%20b"
    # Unescaped non-ASCII bytes in a request line are not HTTP; llhttp refuses them (browsers always escape).
    with RawConnection(chp.port) as conn:
        conn.send(get("/t/hostile/al%20ice/\u00fc/raw".encode()))
        (refused,) = conn.read()
        assert refused.status == 400
        assert conn.at_eof()


def test_malformed_request_gets_400(chp: Proxy) -> None:
    with RawConnection(chp.port) as conn:
        conn.send(b"GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n")
        (response,) = conn.read()
        assert response.status == 400
        assert conn.at_eof()


@pytest.fixture(scope="module")
def plain(upstream: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """A proxy with a default target, no error target and X-Forwarded-* off."""
    log = tmp_path_factory.mktemp("plain") / "proxy.log"
    with proxy(log, "--default-target", upstream.http, "--no-x-forward", "--custom-header", "X-Team: blue") as running:
        yield running


def test_default_target_routes_everything_else(plain: Proxy, upstream: Backend) -> None:
    assert plain.routes()["/"]["target"] == upstream.http
    described = echo(http().get(f"{plain.public}/hub/home"))
    assert described["raw_path"] == "/hub/home"
    assert header(described, "x-forwarded-for") is None
    assert header(described, "x-team") == "blue"


def test_without_error_target_errors_are_our_own_pages(plain: Proxy) -> None:
    plain.add("/t/dead", f"http://127.0.0.1:{free_port()}")
    response = http().get(f"{plain.public}/t/dead/x")
    assert response.status_code == 503
    assert response.headers["content-type"] == "text/html"
    assert "503 Service Unavailable" in response.text


def test_failing_error_target_falls_back_to_plain_text(upstream: Backend, tmp_path: Path) -> None:
    with proxy(tmp_path / "proxy.log", "--error-target", f"http://127.0.0.1:{free_port()}/errors") as running:
        response = http().get(f"{running.public}/nowhere")
    assert (response.status_code, response.text) == (404, "Not Found")
    assert response.headers["content-type"] == "text/plain"


async def test_a_refused_upgrade_is_relayed_and_the_connection_closed(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/no-ws", upstream.http)
    with RawConnection(chp.port) as conn:
        upgrade = b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        conn.send(get("/t/no-ws/socket", extra=upgrade))
        (response,) = conn.read()
        assert response.status != 101
        assert conn.at_eof()


def test_a_client_leaving_mid_response_does_not_disturb_others(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/leave", upstream.http)
    for _ in range(3):
        with RawConnection(chp.port) as conn:
            conn.send(get(f"/t/leave/bytes/{8 << 20}"))
            assert conn.sock.recv(1000).startswith(b"HTTP/1.1 200")
    assert echo(http().get(f"{chp.public}/t/leave/still-fine"))["raw_path"] == "/t/leave/still-fine"


def test_a_client_that_half_closes_still_gets_its_answer(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/half", upstream.http)
    with RawConnection(chp.port) as conn:
        conn.send(get("/t/half/a") + get("/t/half/b"))
        conn.sock.shutdown(socket.SHUT_WR)
        first, second = conn.read(2)
        assert [json.loads(r.body)["raw_path"] for r in (first, second)] == ["/t/half/a", "/t/half/b"]
        assert conn.at_eof()


def test_error_path_pages(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "404.html").write_text("<p>no such page</p>")
    (pages / "error.html").write_text("<p>something broke</p>")
    with proxy(tmp_path / "proxy.log", "--error-path", str(pages)) as started:
        started.add("/t/dead", f"http://127.0.0.1:{free_port()}")
        missing, broken = http().get(f"{started.public}/nowhere"), http().get(f"{started.public}/t/dead/x")
    assert (missing.status_code, missing.text) == (404, "<p>no such page</p>")
    assert (broken.status_code, broken.text) == (503, "<p>something broke</p>")
    assert broken.headers["content-type"] == "text/html"
