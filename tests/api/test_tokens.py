"""Tokens over the API: list (expired pruned), get, revoke, and no token holding more than its owner."""

from __future__ import annotations

import time

import httpx

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess


def test_create_list_get_revoke(hub: HubProcess) -> None:
    owner = hub.add_user("tina")
    with hub.api(owner) as api:
        made = api.post("/users/tina/tokens", json={"note": "for the culler", "scopes": ["read:users!user=tina"], "expires_in": 3600})
        assert made.status_code == 201, made.text
        model = made.json()
        assert model["id"].startswith("a") and model["note"] == "for the culler" and model["expires_at"]
        listed = api.get("/users/tina/tokens").json()["api_tokens"]
        assert model["id"] in [t["id"] for t in listed]
        assert all("token" not in t for t in listed)
        used = next(t for t in listed if t["id"] != model["id"])
        assert used["last_activity"]  # the token this client authenticates with
        assert api.get(f"/users/tina/tokens/{model['id']}").json()["scopes"] == ["read:users!user=tina"]
        assert api.delete(f"/users/tina/tokens/{model['id']}").status_code == 204
        assert api.get(f"/users/tina/tokens/{model['id']}").status_code == 404
        assert api.get("/users/tina/tokens/a999999").status_code == 404
        assert api.get("/users/tina/tokens/nonsense").status_code == 404
    revoked = httpx.get(hub.url("hub/api/user"), headers={"Authorization": f"token {model['token']}"})
    assert revoked.status_code == 403


def test_expired_tokens_are_pruned_and_refused(hub: HubProcess) -> None:
    owner = hub.add_user("toby")
    with hub.api(owner) as api:
        short = api.post("/users/toby/tokens", json={"expires_in": 1}).json()
        time.sleep(1.5)
        assert short["id"] not in [t["id"] for t in api.get("/users/toby/tokens").json()["api_tokens"]]
    reply = httpx.get(hub.url("hub/api/user"), headers={"Authorization": f"token {short['token']}"})
    assert reply.status_code == 403 and reply.json() == {"status": 403, "message": "Missing or invalid credentials."}


def test_a_token_never_holds_more_than_its_owner(hub: HubProcess, admin: str) -> None:
    owner = hub.add_user("tom")
    with hub.api(owner) as api:
        for wanted in (["admin:users"], ["read:users"], ["shutdown"], ["read:users!user=someone-else"]):
            reply = api.post("/users/tom/tokens", json={"scopes": wanted})
            assert reply.status_code == 400 and "Not assigning" in reply.json()["message"], wanted
        narrow = api.post("/users/tom/tokens", json={"scopes": ["read:users!user=tom"]}).json()["token"]
    with hub.api(narrow) as narrow_api:
        assert narrow_api.post("/users/tom/tokens", json={"scopes": ["tokens!user=tom"]}).status_code == 403
        assert narrow_api.get("/users/tom").status_code == 200
        assert narrow_api.get("/users/tom/tokens").status_code == 403
    # An admin's token for tom is still cut to what tom holds.
    with hub.api(admin) as admin_api:
        issued = admin_api.post("/users/tom/tokens", json={"scopes": ["admin:users"]})
        assert issued.status_code == 400
    with hub.api(owner) as api:
        assert api.get("/users/tina/tokens").status_code == 404
        assert api.get("/users").status_code == 403


def test_deprecated_token_lookup(hub: HubProcess, admin: str) -> None:
    owner = hub.add_user("tad")
    with hub.api(admin) as api:
        assert api.get(f"/authorizations/token/{owner}").json()["name"] == "tad"
        assert api.get("/authorizations/token/not-a-real-token").status_code == 404
        assert api.post("/authorizations/token").status_code == 404


def test_a_script_without_a_token_gets_one_with_its_password(hub: HubProcess, admin: str) -> None:
    password = "correct horse battery staple 7"
    assert hub.cli("user", "add", "pat", "--password-stdin", stdin=password + "\n").returncode == 0
    url = hub.url("hub/api/users/pat/tokens")
    made = httpx.post(url, json={"auth": {"username": "pat", "password": password}, "note": "from a script"})
    assert made.status_code == 201, made.text
    assert made.json()["note"] == "from a script"
    whoami = httpx.get(hub.url("hub/api/user"), headers={"Authorization": f"token {made.json()['token']}"})
    assert whoami.json()["name"] == "pat"
    wrong = httpx.post(url, json={"auth": {"username": "pat", "password": "not it at all"}})
    assert wrong.status_code == 403 and "Wrong user name or password" in wrong.json()["message"]
    other = httpx.post(hub.url("hub/api/users/root-admin/tokens"), json={"auth": {"username": "pat", "password": password}})
    assert other.status_code == 403 and "pat's, not root-admin's" in other.json()["message"]
    assert httpx.post(url, json={"note": "no credentials"}).status_code == 403
    assert httpx.post(url, json={"auth": "pat:secret"}).status_code == 400  # auth must be an object
    for _ in range(5):  # the sign-in throttle counts these too
        httpx.post(url, json={"auth": {"username": "pat", "password": "guessing"}})
    locked = httpx.post(url, json={"auth": {"username": "pat", "password": password}})
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.json()["message"]
    with hub.api(admin) as api:
        tokens = api.get("/users/pat/tokens").json()["api_tokens"]
        assert [t["note"] for t in tokens] == ["from a script"]  # the refused requests made nothing


def test_deprecated_cookie_lookup(hub: HubProcess, admin: str) -> None:
    password = "another fine passphrase 42"
    assert hub.cli("user", "add", "cora", "--password-stdin", stdin=password + "\n").returncode == 0
    person = Person(hub.origin, hub.base_url)
    try:
        person.sign_in("cora", password)
        cookie = person.client.cookies.get("commonroom-session")
        assert cookie
        with hub.api(admin) as api:
            assert api.get(f"/authorizations/cookie/commonroom-session/{cookie}").json()["name"] == "cora"
            assert api.get("/authorizations/cookie/commonroom-session/forged").status_code == 404
            assert api.get(f"/authorizations/cookie/other-cookie/{cookie}").status_code == 404
        by_cookie = person.client.get(hub.url(f"hub/api/authorizations/cookie/commonroom-session/{cookie}"))
        assert by_cookie.status_code == 403  # token callers only, as in JupyterHub
    finally:
        person.close()
