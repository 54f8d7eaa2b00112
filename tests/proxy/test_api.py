"""The REST API's answers, in process (pure), with CHP's status codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from commonroom.proxy.api import ApiResponse, RoutesApi, stamp
from commonroom.proxy.routes import RouteTable
from commonroom.timeutil import isoformat

TOKEN = b"token s3cret"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> RoutesApi:
    return RoutesApi(RouteTable(), "s3cret", clock=clock)


def call(api: RoutesApi, method: str, target: str, body: Any = None, auth: bytes = TOKEN) -> ApiResponse:
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.handle(method.encode(), target.encode(), auth, raw)


def test_token_is_required(api: RoutesApi) -> None:
    assert call(api, "GET", "/api/routes", auth=b"").status == 403
    assert call(api, "GET", "/api/routes", auth=b"token wrong").status == 403
    assert call(api, "GET", "/api/routes", auth=b"Bearer s3cret").status == 403
    assert call(api, "GET", "/api/routes", auth=b"token   s3cret").status == 200


def test_empty_token_leaves_the_api_open_as_in_chp() -> None:
    assert call(RoutesApi(RouteTable(), ""), "GET", "/api/routes", auth=b"").status == 200


def test_unknown_paths_and_methods_are_refused_before_auth(api: RoutesApi) -> None:
    assert call(api, "GET", "/api/other", auth=b"").status == 404
    assert call(api, "PUT", "/api/routes/x", auth=b"").status == 405
    assert call(api, "PATCH", "/api/routes", auth=b"").status == 405


def test_crud_status_codes(api: RoutesApi) -> None:
    assert (
        call(api, "POST", "/api/routes/user/alice", {"target": "http://127.0.0.1:9000", "user": "alice"}).status == 201
    )
    got = call(api, "GET", "/api/routes/user/alice/")
    assert got.status == 200 and got.content_type == b"application/json"
    assert json.loads(got.body)["user"] == "alice"
    assert call(api, "POST", "/api/routes/user/alice", {"target": "http://127.0.0.1:9001"}).status == 201
    assert json.loads(call(api, "GET", "/api/routes/user/alice").body)["target"] == "http://127.0.0.1:9001"
    assert call(api, "DELETE", "/api/routes/user/alice").status == 204
    assert call(api, "DELETE", "/api/routes/user/alice").status == 404
    assert call(api, "GET", "/api/routes/user/alice").status == 404


@pytest.mark.parametrize("body", [{"user": "x"}, {"target": 5}, [1, 2], None, b"{not json"])
def test_post_needs_a_string_target(api: RoutesApi, body: Any) -> None:
    assert call(api, "POST", "/api/routes/x", body).status == 400


def test_root_route_and_escaped_keys(api: RoutesApi) -> None:
    assert call(api, "POST", "/api/routes/", {"target": "http://hub"}).status == 201
    assert call(api, "POST", "/api/routes/user/al%20ice%C3%BC", {"target": "http://x"}).status == 201
    routes = json.loads(call(api, "GET", "/api/routes").body)
    assert set(routes) == {"/", "/user/al iceü"}
    assert call(api, "GET", "/api/routes/user/al%20ice%C3%BC").status == 200


def test_listing_carries_last_activity_in_utc_iso(api: RoutesApi) -> None:
    call(api, "POST", "/api/routes/user/alice", {"target": "http://x", "jupyterhub": True, "last_activity": "bogus"})
    route = json.loads(call(api, "GET", "/api/routes").body)["/user/alice"]
    assert route == {"target": "http://x", "jupyterhub": True, "last_activity": "2023-11-14T22:13:20.000000Z"}


@pytest.mark.parametrize(
    "seconds",
    [0.0, 1_700_000_000.0, 1_700_000_000.123456, 1_700_000_000.9999996, 1_700_000_000.0000005, 1_700_000_000.0000015,
     1_699_999_999.5, 4_102_444_799.999999, 951_782_400.25, 1e-7],
)  # fmt: skip
def test_route_stamps_read_as_datetime_writes_them(seconds: float) -> None:
    assert stamp(seconds) == isoformat(datetime.fromtimestamp(seconds, UTC))


def test_inactive_since_filters_and_rejects_bad_dates(api: RoutesApi, clock: Clock) -> None:
    call(api, "POST", "/api/routes/old", {"target": "http://x"})
    clock.now += 3600
    call(api, "POST", "/api/routes/new", {"target": "http://x"})
    since = "2023-11-14T22:30:00Z"
    assert set(json.loads(call(api, "GET", f"/api/routes?inactive_since={since}").body)) == {"/old"}
    assert set(json.loads(call(api, "GET", f"/api/routes?inactiveSince={since}").body)) == {"/old"}
    assert set(json.loads(call(api, "GET", "/api/routes?inactive_since=2023-11-14T21:00:00%2B00:00").body)) == set()
    bad = call(api, "GET", "/api/routes?inactive_since=yesterday")
    assert bad.status == 400 and b"yesterday" in bad.body


def test_host_routing_records_the_host(clock: Clock) -> None:
    api = RoutesApi(RouteTable(), "s3cret", host_routing=True, clock=clock)
    call(api, "POST", "/api/routes/alice.hub.org/user/alice", {"target": "http://x"})
    assert json.loads(call(api, "GET", "/api/routes/alice.hub.org/user/alice").body)["host"] == "alice.hub.org"
