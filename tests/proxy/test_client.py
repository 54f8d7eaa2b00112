"""ProxyClient: against the real proxy, and its retry and concurrency rules against a scripted transport."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from commonroom.proxy.client import ProxyApiError, ProxyClient, chp_path, routespec
from tests.support.ports import free_port

from .processes import Backend, Proxy, proxy

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ("/", "/"),
        ("/user/alice/", "/user/alice"),
        ("user/alice", "/user/alice"),
        ("/user/al ice/ü/", "/user/al%20ice/%C3%BC"),
        ("/user/al%20ice/%C3%BC/", "/user/al%20ice/%C3%BC"),
        ("/user/a@b.org~x/", "/user/a@b.org~x"),
    ],
)
def test_routespecs_become_escaped_api_paths(spec: str, path: str) -> None:
    assert chp_path(spec) == path


def test_proxy_keys_become_routespecs_like_jupyterhubs() -> None:
    assert routespec("/") == "/"
    assert routespec("/user/al ice/ü") == "/user/al%20ice/%C3%BC/"


async def test_routes_round_trip_through_the_real_proxy(chp: Proxy, upstream: Backend) -> None:
    async with ProxyClient(chp.api, chp.token) as client:
        await client.add_route("/t/client/user/al ice/", upstream.http, {"user": "al ice", "server_name": ""})
        await client.add_route("/t/client/user/bob/", upstream.http, {"user": "bob", "server_name": ""})
        routes = await client.get_routes()
        alice = routes["/t/client/user/al%20ice/"]
        assert alice["target"] == upstream.http
        assert alice["jupyterhub"] is True and alice["user"] == "al ice" and alice["server_name"] == ""
        assert alice["last_activity"].endswith("Z")
        await client.delete_route("/t/client/user/al%20ice/")
        await client.delete_route("/t/client/user/al%20ice/")  # already gone: still fine
        routes = await client.get_routes()
        assert "/t/client/user/al%20ice/" not in routes and "/t/client/user/bob/" in routes


async def test_a_wrong_token_fails_at_once(chp: Proxy) -> None:
    async with ProxyClient(chp.api, "not-the-token", retry_for=30) as client:
        with pytest.raises(ProxyApiError) as raised:
            await client.get_routes()
    assert raised.value.status == 403
    assert "CONFIGPROXY_AUTH_TOKEN" in str(raised.value)


async def test_calls_wait_for_a_proxy_that_is_still_starting(tmp_path: Path, upstream: Backend) -> None:
    ports = (free_port(), free_port())
    async with ProxyClient(f"http://127.0.0.1:{ports[1]}", "tok", retry_for=20) as client:
        call = asyncio.ensure_future(client.add_route("/t/late/", upstream.http, {}))
        await asyncio.sleep(0.3)
        assert not call.done()
        with proxy(tmp_path / "proxy.log", token="tok", ports=ports):
            await call
            assert "/t/late/" in await client.get_routes()


async def test_giving_up_after_the_retry_window() -> None:
    async with ProxyClient(f"http://127.0.0.1:{free_port()}", "tok", retry_for=0.3) as client:
        with pytest.raises(ProxyApiError) as raised:
            await client.get_routes()
    assert raised.value.status is None


async def test_retries_server_errors_and_limits_concurrency() -> None:
    in_flight = peak = calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak, calls
        calls += 1
        number = calls
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(503 if number <= 3 else 201)

    client = ProxyClient("http://proxy.test", "tok", transport=httpx.MockTransport(handler))
    try:
        await asyncio.gather(*(client.add_route(f"/user/u{i}/", "http://x", {}) for i in range(40)))
    finally:
        await client.aclose()
    assert calls == 43
    assert peak == 10


async def test_request_details_match_jupyterhubs() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201 if request.method == "POST" else 404)

    async with ProxyClient("http://proxy.test:8001/", "tok", transport=httpx.MockTransport(handler)) as client:
        await client.add_route("/user/alice/", "http://10.0.0.7:8888", {"user": "alice", "server_name": ""})
        await client.delete_route("/user/alice/")
    post, delete = seen
    assert str(post.url) == "http://proxy.test:8001/api/routes/user/alice"
    assert post.headers["authorization"] == "token tok"
    assert post.read() == (b'{"user":"alice","server_name":"","target":"http://10.0.0.7:8888","jupyterhub":true}')
    assert (delete.method, str(delete.url)) == ("DELETE", "http://proxy.test:8001/api/routes/user/alice")
