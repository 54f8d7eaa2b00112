"""Backends that close kept-alive connections, delimit bodies by closing, or never answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .processes import Backend, Proxy, http, proxy
from .rawhttp import RawConnection, get

pytestmark = pytest.mark.timeout(60)


def test_a_request_on_a_connection_the_backend_just_closed_is_replayed(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/flaky", upstream.raw)
    with httpx.Client(base_url=chp.public) as client:
        # The backend answers one request per connection and drops the connection on the next; the proxy
        # reuses its kept-alive connection, sees it die unanswered, and sends the GET again on a new one.
        assert [client.get("/t/flaky/flaky").text for _ in range(3)] == ["served 1"] * 3


def test_a_request_with_a_body_is_not_replayed(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/flaky-post", upstream.raw)
    with httpx.Client(base_url=chp.public) as client:
        assert client.get("/t/flaky-post/flaky").text == "served 1"
        response = client.post("/t/flaky-post/flaky", content=b"not safe to send twice")
        assert response.status_code == 503


def test_a_body_ended_by_closing_is_rechunked_and_the_client_connection_stays(chp: Proxy, upstream: Backend) -> None:
    chp.add("/t/until-close", upstream.raw)
    with RawConnection(chp.port) as conn:
        conn.send(get("/t/until-close/until-close"))
        (response,) = conn.read()
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.body == b"all of it\n" * 1000
        conn.send(get("/t/until-close/again"))
        (again,) = conn.read()
        assert again.body == b"served 1"


@pytest.fixture(scope="module")
def impatient(upstream: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    log = tmp_path_factory.mktemp("impatient") / "proxy.log"
    with proxy(log, "--proxy-timeout", "300", "--keep-alive-timeout", "300") as running:
        yield running


def test_proxy_timeout_answers_503(impatient: Proxy, upstream: Backend) -> None:
    impatient.add("/t/hang", upstream.raw)
    response = http().get(f"{impatient.public}/t/hang/hang", timeout=10)
    assert response.status_code == 503


def test_idle_keep_alive_connections_are_closed(impatient: Proxy) -> None:
    with RawConnection(impatient.port, timeout=10) as conn:
        conn.send(get("/_chp_healthz"))
        (response,) = conn.read()
        assert response.status == 200
        assert conn.at_eof()
