"""The token page (/hub/token): make a token with scopes, expiry and note, see its last use, revoke it —
with the httpx person (forms and XSRF as a browser sends them) and once in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, started

PASSWORD = "lantern-otter-velvet-carries"
TOKEN = re.compile(r'<code id="token-value">([0-9a-f]+)</code>')


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    with started(HubProcess(tmp_path_factory.mktemp("tokenpage"))) as process:
        for name in ("tokie", "brie"):
            result = process.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
            assert result.returncode == 0, result.stderr
        yield process


@pytest.fixture
def person(hub: HubProcess) -> Iterator[Person]:
    someone = Person(hub.origin)
    assert someone.sign_in("tokie", PASSWORD).status_code == 302
    try:
        yield someone
    finally:
        someone.close()


def test_create_use_and_revoke_a_token(hub: HubProcess, person: Person) -> None:
    made = person.post_form("/hub/token", {"note": "my script", "expires_in": "3600", "scopes": "read:users!user=tokie"})
    assert made.status_code == 200, made.text[:500]
    token = TOKEN.search(made.text)
    assert token, made.text[:800]
    who = httpx.get(hub.url("hub/api/user"), headers={"Authorization": f"token {token.group(1)}"})
    assert who.status_code == 200 and who.json()["name"] == "tokie"
    page = person.client.get("/hub/token").text
    row = re.search(r'<tr data-token-id="a(\d+)">(.*?)</tr>', page, re.S)
    assert row and "my script" in row.group(2) and "read:users!user=tokie" in row.group(2)
    assert "never" not in row.group(2).split('class="last-used">')[1][:10], "last use should be shown"
    assert token.group(1) not in page, "a token is shown only once"
    revoked = person.post_form(f"/hub/token/{row.group(1)}/revoke", {}, form_page="/hub/token")
    assert revoked.status_code == 302
    assert httpx.get(hub.url("hub/api/user"), headers={"Authorization": f"token {token.group(1)}"}).status_code == 403


def test_escalation_and_bad_forms_are_refused(hub: HubProcess, person: Person) -> None:
    for fields in ({"scopes": "admin:users"}, {"scopes": "read:users!user=brie"}, {"scopes": "not-a-scope"}, {"expires_in": "-1"}):
        reply = person.post_form("/hub/token", {"expires_in": "3600", **fields})
        assert reply.status_code == 400 and 'id="problem"' in reply.text and not TOKEN.search(reply.text), fields
    forged = person.client.post("/hub/token", data={"note": "no xsrf", "expires_in": "0"})
    assert forged.status_code == 403
    stranger = Person(hub.origin)
    try:
        assert stranger.client.get("/hub/token").status_code == 302
    finally:
        stranger.close()


@pytest.mark.browser
def test_token_page_in_chromium(hub: HubProcess, page: Page) -> None:
    page.goto(hub.url("hub/login"))
    page.fill("input[name=username]", "brie")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(re.compile(r"/hub/"))
    page.goto(hub.url("hub/token"))
    expect(page.locator("#no-tokens")).to_be_visible()
    page.fill("#note", "from the browser")
    page.select_option("#expires_in", "86400")
    page.click("#request-token")
    expect(page.locator("#token-value")).to_have_text(re.compile(r"^[0-9a-f]{32,}$"))
    expect(page.locator("#tokens")).to_contain_text("from the browser")
    page.click("#tokens .revoke")
    expect(page.locator("#no-tokens")).to_be_visible()
