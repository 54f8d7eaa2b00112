"""Sign-in through a real OpenID provider (npm oidc-provider) in headless Chromium: the code flow with PKCE,
group-based admin, a person outside the allowed groups refused with a page that says why, a replayed callback
refused, and the encrypted auth state shown only to holders of admin:auth_state."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from commonroom.auth.oidc import OIDCAuthenticator
from commonroom.config.models import AuthConfig, OIDCConfig
from tests.support.hubprocess import HubProcess, started, wait_for
from tests.support.kernel import run_code
from tests.support.oidc_provider import OIDCProvider, available

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not available(), reason="oidc-provider is not installed")]


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    op = OIDCProvider()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, provider: OIDCProvider) -> Iterator[HubProcess]:
    config = (
        '[auth]\nauthenticator = "oidc"\nallowed_groups = ["researchers"]\nadmin_groups = ["hubadmins"]\n'
        'auth_state_env = {"OIDC_ACCESS_TOKEN" = "access_token"}\n'
        f'[auth.oidc]\nissuer = "{provider.issuer}"\nclient_id = "hub"\nclient_secret = "hub-secret"\n'
        'scopes = ["openid", "profile", "email", "groups", "offline_access"]\nextra_params = {prompt = "consent"}\n'
    )
    process = HubProcess(tmp_path_factory.mktemp("oidc"), extra_config=config)
    provider.start([process.url("hub/oauth_callback")])
    with started(process):
        yield process


def provider_sign_in(page: Page, hub: HubProcess, name: str) -> None:
    page.goto(hub.url("hub/login"))
    page.click("#provider-login")
    page.fill("#op-username", name)
    page.fill("#op-password", f"{name}pw")
    page.click("#op-submit")


def test_admin_group_member_signs_in_and_is_admin(page: Page, hub: HubProcess) -> None:
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/hub/oauth_callback" in r.url else None)
    provider_sign_in(page, hub, "alice")
    expect(page).to_have_url(hub.url("hub/home"))
    page.goto(hub.url("hub/admin"))
    expect(page.locator("tr[data-user=alice]")).to_contain_text("admin")

    page.goto(callbacks[0])
    expect(page.locator(".error")).to_contain_text("expired or was already used")


def test_member_of_allowed_group_is_not_admin_and_auth_state_is_encrypted(page: Page, hub: HubProcess) -> None:
    provider_sign_in(page, hub, "bob")
    expect(page).to_have_url(hub.url("hub/home"))
    page.goto(hub.url("hub/admin"))
    expect(page.locator("#error-message")).to_contain_text("Only administrators")
    [(stored,)] = hub.sql("SELECT auth_state FROM users WHERE name = 'bob'")
    assert stored and "access_token" not in stored and stored.startswith("gAAAA"), "auth state is Fernet-encrypted"

    admin = hub.api(hub.token_for("alice")).get("/users/bob").json()
    assert admin["auth_state"]["access_token"] and admin["auth_state"]["claims"]["groups"] == ["researchers"]
    own = hub.api(hub.token_for("bob")).get("/users/bob").json()
    assert "auth_state" not in own


def test_person_outside_allowed_groups_is_refused_with_a_reason(page: Page, hub: HubProcess) -> None:
    provider_sign_in(page, hub, "carol")
    expect(page.locator(".error")).to_contain_text("not on this hub's list of people who may sign in")
    assert hub.sql("SELECT count(*) FROM users WHERE name = 'carol'") == [(0,)]
    wait_for(lambda: "sign-in through OpenID Connect refused: Your account is not on this hub's list" in hub.log_text(), 10, "the refusal in the log")


def test_auth_state_reaches_the_server_as_environment(hub: HubProcess) -> None:
    """bob signed in above; his server gets his access token as OIDC_ACCESS_TOKEN (auth.auth_state_env)."""
    admin = hub.api(hub.token_for("alice"))
    expected = admin.get("/users/bob").json()["auth_state"]["access_token"]
    token = hub.token_for("bob")
    with hub.api(token) as api:
        assert api.post("/users/bob/server").status_code in (201, 202)
        wait_for(lambda: api.get("/users/bob").json().get("server"), 90, "bob's server to be ready", 0.2)
        # Asked inside bob's kernel: a server forked by the launcher shows the launcher's /proc environ.
        headers = {"Authorization": f"token {token}"}
        kernel = httpx.post(hub.url("user/bob/api/kernels"), headers=headers, json={"name": "python3"}, timeout=60)
        ws_url = hub.url(f"user/bob/api/kernels/{kernel.json()['id']}/channels").replace("http://", "ws://", 1)
        assert run_code(ws_url, "import os; os.environ.get('OIDC_ACCESS_TOKEN')", headers) == repr(expected)
        assert api.delete("/users/bob/server").status_code in (202, 204)
        wait_for(lambda: not api.get("/users/bob").json().get("pending"), 30, "bob's server to stop", 0.2)


def test_stored_tokens_refresh_at_the_provider(hub: HubProcess, provider: OIDCProvider) -> None:
    state = hub.api(hub.token_for("alice")).get("/users/bob").json()["auth_state"]
    assert state["refresh_token"], "offline_access gave a refresh token"
    oidc = OIDCConfig(issuer=provider.issuer, client_id="hub", client_secret="hub-secret")
    authenticator = OIDCAuthenticator(AuthConfig(authenticator="oidc", oidc=oidc))

    def refreshed(value: dict[str, Any]) -> Mapping[str, Any] | None:
        # Playwright's sync API owns this thread's event loop; the refresh runs in its own.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, authenticator.refresh(value)).result(timeout=30)

    assert refreshed(state) is None, "not expired: nothing to do"
    fresh = refreshed({**state, "expires_at": 0})
    assert fresh is not None and fresh["access_token"] != state["access_token"]
    assert fresh["expires_at"] > state["expires_at"] - 3600 and fresh["claims"] == state["claims"]
