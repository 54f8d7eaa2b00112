"""--host-routing and --no-include-prefix, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from .processes import Backend, http, proxy

pytestmark = pytest.mark.timeout(60)


def test_host_routing_uses_the_host_as_first_segment(upstream: Backend, tmp_path: Path) -> None:
    with proxy(tmp_path / "proxy.log", "--host-routing") as running:
        running.add("/alice.hub.test/user/alice", upstream.http)
        assert running.routes()["/alice.hub.test/user/alice"]["host"] == "alice.hub.test"
        headers = {"Host": f"alice.hub.test:{running.port}"}
        response = http().get(f"{running.public}/user/alice/lab", headers=headers)
        assert response.status_code == 200 and response.json()["raw_path"] == "/user/alice/lab"
        assert http().get(f"{running.public}/user/alice/lab", headers={"Host": "bob.hub.test"}).status_code == 404


def test_no_include_prefix_strips_the_route(upstream: Backend, tmp_path: Path) -> None:
    with proxy(tmp_path / "proxy.log", "--no-include-prefix") as running:
        running.add("/services/notes", upstream.http)
        response = http().get(f"{running.public}/services/notes/api/items?page=2")
        described = response.json()
        assert (described["raw_path"], described["query"]) == ("/api/items", "page=2")
