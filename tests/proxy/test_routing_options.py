"""--host-routing, --no-include-prefix and unix sockets, end to end."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port

from .processes import TOKEN, Backend, http, proxy, proxy_command, running

pytestmark = pytest.mark.timeout(60)


def test_host_routing_uses_the_host_as_first_segment(upstream: Backend, tmp_path: Path) -> None:
    with proxy(tmp_path / "proxy.log", "--host-routing") as started:
        started.add("/alice.hub.test/user/alice", upstream.http)
        assert started.routes()["/alice.hub.test/user/alice"]["host"] == "alice.hub.test"
        headers = {"Host": f"alice.hub.test:{started.port}"}
        response = http().get(f"{started.public}/user/alice/lab", headers=headers)
        assert response.status_code == 200 and response.json()["raw_path"] == "/user/alice/lab"
        assert http().get(f"{started.public}/user/alice/lab", headers={"Host": "bob.hub.test"}).status_code == 404


def test_no_include_prefix_strips_the_route(upstream: Backend, tmp_path: Path) -> None:
    with proxy(tmp_path / "proxy.log", "--no-include-prefix") as started:
        started.add("/services/notes", upstream.http)
        response = http().get(f"{started.public}/services/notes/api/items?page=2")
        described = response.json()
        assert (described["raw_path"], described["query"]) == ("/api/items", "page=2")


def test_unix_sockets_for_both_sides(upstream: Backend, tmp_path: Path) -> None:
    public, api = tmp_path / "public.sock", tmp_path / "api.sock"
    command = proxy_command(free_port(), free_port(), "--socket", str(public), "--api-socket", str(api))
    with running(command, [], tmp_path / "proxy.log", {**os.environ, "CONFIGPROXY_AUTH_TOKEN": TOKEN}):
        deadline = time.monotonic() + 10
        while not (public.exists() and api.exists()) and time.monotonic() < deadline:
            time.sleep(0.02)
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(api)), base_url="http://proxy") as client:
            auth = {"Authorization": f"token {TOKEN}"}
            assert client.post("/api/routes/", json={"target": upstream.http}, headers=auth).status_code == 201
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(public)), base_url="http://proxy") as client:
            assert client.get("/over/a/unix/socket").json()["raw_path"] == "/over/a/unix/socket"
