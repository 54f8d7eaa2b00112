"""POST /users/NAME/activity: later reports move activity forward, earlier ones never move it back, and a
refused report (unknown user, unknown server, bad time) changes nothing. Servers' own reports, with a real
single-user server, are in tests/integration/test_stock_clients.py."""

from __future__ import annotations

import httpx

from tests.support.hubprocess import HubProcess


def _last_activity(api: httpx.Client, name: str) -> str | None:
    response = api.get(f"/users/{name}")
    assert response.status_code == 200, response.text
    value: str | None = response.json()["last_activity"]
    return value


def test_reports_keep_the_latest_time(hub: HubProcess, admin: str) -> None:
    hub.add_user("act-ann")
    with hub.api(admin) as api:
        assert api.post("/users/act-ann/activity", json={"last_activity": "2025-03-01T10:00:00Z"}).status_code == 200
        assert _last_activity(api, "act-ann") == "2025-03-01T10:00:00.000000Z"
        assert api.post("/users/act-ann/activity", json={"last_activity": "2025-02-01T10:00:00Z"}).status_code == 200
        assert _last_activity(api, "act-ann") == "2025-03-01T10:00:00.000000Z", "an earlier report moved it back"
        later = {"last_activity": "2025-04-01T10:00:00.5+02:00", "servers": {}}
        assert api.post("/users/act-ann/activity", json=later).status_code == 200
        assert _last_activity(api, "act-ann") == "2025-04-01T08:00:00.500000Z"


def test_refused_reports_change_nothing(hub: HubProcess, admin: str) -> None:
    hub.add_user("act-bea")
    with hub.api(admin) as api:
        assert api.post("/users/act-bea/activity", json={"last_activity": "2025-03-01T10:00:00Z"}).status_code == 200
        unknown_server = {"last_activity": "2025-05-01T10:00:00Z", "servers": {"nope": {"last_activity": "2025-05-01T10:00:00Z"}}}
        response = api.post("/users/act-bea/activity", json=unknown_server)
        assert response.status_code == 400 and "nope" in response.json()["message"]
        future = {"last_activity": "2025-05-01T10:00:00Z", "servers": {"": {"last_activity": "2999-01-01T00:00:00Z"}}}
        assert api.post("/users/act-bea/activity", json=future).status_code == 400
        assert _last_activity(api, "act-bea") == "2025-03-01T10:00:00.000000Z"


def test_an_unknown_user_is_a_404_whatever_the_body(hub: HubProcess, admin: str) -> None:
    with hub.api(admin) as api:
        for body in ({"last_activity": "2025-03-01T10:00:00Z"}, {"last_activity": "yesterday"}, {},
                     {"servers": {"": {"last_activity": "2025-03-01T10:00:00Z"}}}):  # fmt: skip
            response = api.post("/users/act-nobody/activity", json=body)
            assert response.status_code == 404, (body, response.text)
