"""Kernels over the websocket: execution, TCP_NODELAY on the socket, and busy kernels counting as activity."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from commonroom.timeutil import parse_iso

from .browser import Browser
from .conftest import API_TOKEN
from .hubstandin import HubStandIn
from .kernelsocket import kernel_socket
from .singleuserprocess import ACCESS_SCOPES, PREFIX, USER, SingleUserProcess
from .sockopt import tcp_nodelay


@pytest.fixture(scope="module")
def token(hub: HubStandIn) -> str:
    return hub.add_token(USER, ACCESS_SCOPES)


@pytest.fixture(scope="module")
def kernel_id(server: SingleUserProcess, token: str) -> Iterator[str]:
    headers = {"Authorization": f"token {token}"}
    response = httpx.post(server.url + "api/kernels", headers=headers, json={"name": "python3"}, timeout=30)
    assert response.status_code == 201, response.text
    kid = str(response.json()["id"])
    yield kid
    httpx.delete(server.url + f"api/kernels/{kid}", headers=headers, timeout=30)


def test_code_runs_over_the_websocket(server: SingleUserProcess, kernel_id: str, token: str) -> None:
    with kernel_socket(server.url, kernel_id, token) as kernel:
        assert kernel.result(kernel.execute("1+1")) == "2"


def test_a_signed_in_browser_reaches_the_kernel_with_its_cookie(
    server: SingleUserProcess, browser: Browser, kernel_id: str
) -> None:
    browser.sign_in(PREFIX)
    headers = {"Cookie": browser.cookie_header(PREFIX), "Origin": browser.server_origin}
    with kernel_socket(server.url, kernel_id, headers=headers) as kernel:
        assert kernel.result(kernel.execute("6*7")) == "42"
    elsewhere = {**headers, "Origin": "https://evil.example"}
    with pytest.raises(InvalidStatus) as refused, kernel_socket(server.url, kernel_id, headers=elsewhere):
        pass
    assert refused.value.response.status_code == 403


def test_kernel_websocket_has_tcp_nodelay(server: SingleUserProcess, kernel_id: str, token: str) -> None:
    with kernel_socket(server.url, kernel_id, token) as kernel:
        kernel.result(kernel.execute("0"))
        assert tcp_nodelay(server.proc.pid, server.port, kernel.local_port)
    # the check can tell: an idle keep-alive HTTP connection to the same server has Nagle on
    with httpx.Client() as client:
        client.get(server.url + "api")
        stream = client._transport._pool.connections[0]._connection._network_stream  # type: ignore[attr-defined]
        http_port = stream.get_extra_info("socket").getsockname()[1]
        assert not tcp_nodelay(server.proc.pid, server.port, http_port)


def test_a_busy_kernel_is_reported_as_active_until_it_finishes(
    server: SingleUserProcess, hub: HubStandIn, kernel_id: str, token: str
) -> None:
    with kernel_socket(server.url, kernel_id, token) as kernel:
        request = kernel.execute("import time; time.sleep(4.5)")
        time.sleep(0.5)
        busy_since = time.monotonic()
        time.sleep(3.5)
        during = [post for post in hub.state.activity if post.at >= busy_since]
        kernel.wait_idle(request)
    stamps = [parse_iso(post.body["last_activity"]) for post in during]
    assert len(stamps) >= 2, during
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] >= timedelta(seconds=1.5)
    post = during[-1]
    assert post.user == USER
    assert post.authorization == f"token {API_TOKEN}"
    assert post.body == {"servers": {"": {"last_activity": post.body["last_activity"]}},
                         "last_activity": post.body["last_activity"]}  # fmt: skip
    assert post.body["last_activity"].endswith("Z")

    time.sleep(1.5)  # the idle status itself is activity, reported once
    settled = len(hub.state.activity)
    time.sleep(2.5)
    assert len(hub.state.activity) == settled, "an idle server kept reporting activity"
