"""Driving the proxy the way JupyterHub's ConfigurableHTTPProxy does (jupyterhub/proxy.py, 6.x).

The launch flags, the API paths (url_path_join of api_url, "api/routes" and the routespec without its
trailing slash), the bodies it POSTs, and how it reads routes back (re-quoting keys with safe "@/~").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from tests.support.ports import free_port

from .processes import Backend, Proxy, http, running

pytestmark = pytest.mark.timeout(60)


def jupyterhub_command(port: int, api_port: int, hub: str) -> list[str]:
    """What ConfigurableHTTPProxy.start() runs, with our proxy as `command`."""
    return [
        sys.executable, "-m", "commonroom.proxy",
        "--ip", "", "--port", str(port), "--api-ip", "127.0.0.1", "--api-port", str(api_port),
        "--error-target", f"{hub}/hub/error", "--log-level", "debug",
        "--statsd-host", "localhost", "--statsd-port", "8125", "--statsd-prefix", "jupyterhub.chp",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def launched(upstream: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    port, api_port = free_port(), free_port()
    env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": "jh-token"}
    log = tmp_path_factory.mktemp("jupyterhub-proxy") / "proxy.log"
    with running(jupyterhub_command(port, api_port, upstream.http), [port, api_port], log, env):
        yield Proxy(port, api_port, "jh-token")


def api_request(proxy: Proxy, path: str, method: str = "GET", body: dict[str, object] | None = None) -> httpx.Response:
    """JupyterHub's api_request: url_path_join(api_url, 'api/routes', path) and a token header."""
    url = f"{proxy.api}/api/routes" + ("/" + path.strip("/") if path.strip("/") else ("/" if path == "/" else ""))
    return http().request(method, url, json=body, headers={"Authorization": f"token {proxy.token}"})


def chp_path(routespec: str) -> str:
    """JupyterHub's _routespec_to_chp_path."""
    return routespec if routespec == "/" else routespec.rstrip("/")


def routespec_from_chp_path(key: str) -> str:
    """JupyterHub's _routespec_from_chp_path."""
    spec = quote(key, safe="@/~")
    return spec if spec.endswith("/") else spec + "/"


def test_jupyterhub_adds_reads_and_deletes_routes(launched: Proxy, upstream: Backend) -> None:
    hub = {"hub": True, "target": upstream.http, "jupyterhub": True}
    alice = {"user": "alice", "server_name": "", "target": upstream.http, "jupyterhub": True}
    named = {"user": "al ice", "server_name": "gpu box", "target": upstream.http, "jupyterhub": True}
    assert api_request(launched, chp_path("/"), "POST", hub).status_code == 201
    assert api_request(launched, chp_path("/user/alice/"), "POST", alice).status_code == 201
    assert api_request(launched, chp_path("/user/al%20ice/gpu%20box/"), "POST", named).status_code == 201

    listed = api_request(launched, "").json()
    assert set(listed) == {"/", "/user/alice", "/user/al ice/gpu box"}
    routes = {routespec_from_chp_path(key): data for key, data in listed.items() if "jupyterhub" in data}
    assert set(routes) == {"/", "/user/alice/", "/user/al%20ice/gpu%20box/"}
    for data in routes.values():
        assert datetime.fromisoformat(data.pop("last_activity")).utcoffset() == timedelta(0)
    assert routes["/user/alice/"] == alice
    assert routes["/"] == hub

    assert api_request(launched, chp_path("/user/alice/"), "DELETE").status_code == 204
    assert api_request(launched, chp_path("/user/alice/"), "DELETE").status_code == 404


def test_traffic_shows_in_the_last_activity_the_hub_reads(launched: Proxy, upstream: Backend) -> None:
    body = {"user": "carol", "server_name": "", "target": upstream.http, "jupyterhub": True}
    assert api_request(launched, "/user/carol", "POST", body).status_code == 201
    before = datetime.fromisoformat(api_request(launched, "").json()["/user/carol"]["last_activity"])
    assert http().get(f"{launched.public}/user/carol/api/status").status_code == 200
    after = datetime.fromisoformat(api_request(launched, "").json()["/user/carol"]["last_activity"])
    assert after > before


def test_errors_go_to_the_hubs_error_page(launched: Proxy) -> None:
    dead = {"user": "dave", "server_name": "", "target": f"http://127.0.0.1:{free_port()}", "jupyterhub": True}
    assert api_request(launched, "/user/dave", "POST", dead).status_code == 201
    response = http().get(f"{launched.public}/user/dave/lab")
    assert response.status_code == 503
    asked = response.json()  # the backend stands in for the hub and describes the request it got
    assert (asked["method"], asked["raw_path"], asked["query"]) == ("GET", "/hub/error/503", "url=%2Fuser%2Fdave%2Flab")


def test_unprivileged_calls_are_refused(launched: Proxy) -> None:
    assert http().get(f"{launched.api}/api/routes").status_code == 403
    assert http().get(f"{launched.api}/api/routes", headers={"Authorization": "token wrong"}).status_code == 403
