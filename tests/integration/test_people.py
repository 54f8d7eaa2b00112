"""Accounts as a person meets them: the first administrator's link, sign-up, approval, sign-in, sign-out,
and every way that can go wrong."""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import datetime

import httpx

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, wait_for

GOOD_PASSWORD = "velvet-otter-carries-lanterns"


def test_first_admin_link_works_once(hub: HubProcess) -> None:
    assert hub.first_admin_link, "the hub printed no first-admin link"
    link = hub.first_admin_link.replace(hub.origin, "")
    person = Person(hub.origin)
    try:
        response = person.post_form(link, {"username": "root1", "password": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
        assert response.status_code == 302 and response.headers["location"].endswith("/hub/admin")
        assert person.client.get("/hub/admin").status_code == 200
        again = Person(hub.origin).client.get(link)
        assert again.status_code == 410 and "expired or was already used" in again.text
    finally:
        person.close()


def test_expired_first_admin_link_is_refused(hub: HubProcess) -> None:
    hub.sql("INSERT INTO one_time_links (hashed, purpose, expires_at) VALUES (:hashed, 'first-admin', :expires)",
            hashed=hashlib.sha256(b"stale-link").hexdigest(), expires=datetime(2020, 1, 1))  # fmt: skip
    response = httpx.get(f"{hub.origin}/hub/first-admin/stale-link")
    assert response.status_code == 410 and "expired" in response.text


def test_sign_up_waits_for_approval(hub: HubProcess) -> None:
    bob = Person(hub.origin)
    try:
        response = bob.sign_up("bob", GOOD_PASSWORD)
        assert response.status_code == 200 and "waiting for an administrator" in response.text
        refused = bob.sign_in("bob", GOOD_PASSWORD)
        assert refused.status_code == 403 and "waiting for an administrator" in refused.text
        admin = Person(hub.origin)
        assert admin.sign_in("root1", GOOD_PASSWORD).status_code == 302
        page = admin.client.get("/hub/admin")
        assert 'data-user="bob"' in page.text and "awaiting approval" in page.text
        assert admin.post_form("/hub/admin/users/bob/approve", {}, form_page="/hub/admin").status_code == 302
        signed_in = bob.sign_in("bob", GOOD_PASSWORD)
        assert signed_in.status_code == 302
        home = bob.client.get("/hub/home")
        assert home.status_code == 200 and "Your server is not running" in home.text
        bob.client.get("/hub/logout")
        assert bob.client.get("/hub/home").status_code == 302
    finally:
        bob.close()


def test_sign_up_mistakes_are_explained(hub: HubProcess) -> None:
    hub.add_user("taken")
    person = Person(hub.origin)
    try:
        cases = {
            ("Carol Smith", GOOD_PASSWORD): "lowercase letters",
            ("c" * 40, GOOD_PASSWORD): "at most 32",
            ("carol", "short"): "at least 10",
            ("carol", "password1234"): "less common password",
            ("taken", GOOD_PASSWORD): "is taken",
        }
        for (name, password), words in cases.items():
            response = person.sign_up(name, password)
            assert response.status_code == 400, (name, response.text[:300])
            assert words in response.text, (name, words)
        mismatch = person.post_form("/hub/signup", {"username": "carol", "password": GOOD_PASSWORD, "password2": "x"})
        assert "passwords differ" in mismatch.text
    finally:
        person.close()


def test_wrong_password_then_throttled(hub: HubProcess) -> None:
    hub.add_user("dave")
    person = Person(hub.origin)
    try:
        first = person.sign_in("dave", "not-the-password")
        assert first.status_code == 403 and "Wrong user name or password" in first.text
        for _ in range(4):
            person.sign_in("dave", "not-the-password")
        locked = person.sign_in("dave", "not-the-password")
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
        wait_for(lambda: "sign-in refused for 'dave'" in hub.log_text(), 10, "the refusal in the log")
    finally:
        person.close()


def test_forms_without_xsrf_are_refused(hub: HubProcess) -> None:
    response = httpx.post(f"{hub.origin}/hub/login", data={"username": "root1", "password": GOOD_PASSWORD})
    assert response.status_code == 403 and "Reload the page" in response.text


def test_secrets_and_data_are_private(hub: HubProcess) -> None:
    assert stat.S_IMODE(os.stat(hub.data_dir).st_mode) == 0o700
    for name in ("cookie_secret", "proxy_token", "encryption_key"):
        assert stat.S_IMODE(os.stat(hub.data_dir / name).st_mode) == 0o600
    if hub.database_url:
        stored = repr(hub.sql("SELECT * FROM users"))
    else:
        stored = (hub.data_dir / "commonroom.sqlite").read_bytes().decode("latin-1")
    assert GOOD_PASSWORD not in stored


def test_api_rejects_missing_or_bad_tokens(hub: HubProcess) -> None:
    base = f"{hub.origin}/hub/api"
    for headers in ({}, {"Authorization": "token nonsense-token"}, {"Authorization": "Basic abc"}):
        response = httpx.get(f"{base}/user", headers=headers)
        assert response.status_code == 403
        assert response.json() == {"status": 403, "message": "Missing or invalid credentials."}


def test_admin_grants_and_removes_admin_rights(hub: HubProcess) -> None:
    hub.cli("user", "add", "ivy", "--password-stdin", stdin=GOOD_PASSWORD + "\n")
    admin, ivy = Person(hub.origin), Person(hub.origin)
    try:
        admin.sign_in("root1", GOOD_PASSWORD)
        ivy.sign_in("ivy", GOOD_PASSWORD)
        assert ivy.client.get("/hub/admin").status_code == 403
        refused = ivy.post_form("/hub/admin/users/ivy/grant-admin", {}, form_page="/hub/home")
        assert refused.status_code == 403
        admin.post_form("/hub/admin/users/ivy/grant-admin", {}, form_page="/hub/admin")
        assert ivy.client.get("/hub/admin").status_code == 200
        admin.post_form("/hub/admin/users/ivy/remove-admin", {}, form_page="/hub/admin")
        assert ivy.client.get("/hub/admin").status_code == 403
        own = admin.post_form("/hub/admin/users/root1/remove-admin", {}, form_page="/hub/admin")
        assert "cannot+remove+your+own" in own.headers["location"]
        assert admin.client.get("/hub/admin").status_code == 200
    finally:
        admin.close()
        ivy.close()
