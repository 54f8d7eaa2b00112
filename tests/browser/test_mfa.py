"""One-time sign-in codes in a real browser: set-up with the QR page, a two-step sign-in that holds no session
before the code, recovery codes that work once, throttled wrong codes, an administrator's reset, and the
set-up forced at sign-in when the hub requires MFA."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.support.hubprocess import HubProcess, started, wait_for

pytestmark = pytest.mark.browser
PASSWORD = "velvet-otter-carries-lanterns"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    with started(HubProcess(tmp_path_factory.mktemp("mfa"), extra_config="[auth.throttle]\nmax_failures = 3\n")) as process:
        for name, admin in (("root-admin", True), ("ann", False), ("cy", False)):
            result = process.cli("user", "add", name, *(["--admin"] if admin else []), "--password-stdin", stdin=PASSWORD)
            assert result.returncode == 0, result.stderr
        yield process


def password_step(page: Page, hub: HubProcess, name: str) -> None:
    page.context.clear_cookies()
    page.goto(hub.url("hub/login"))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def enrol(page: Page, hub: HubProcess, name: str) -> tuple[str, list[str]]:
    password_step(page, hub, name)
    expect(page).to_have_url(hub.url("hub/home"))
    page.click("#mfa-link")
    page.click("#mfa-start")
    expect(page.locator("#mfa-qr svg")).to_be_visible()
    secret = page.text_content("#mfa-secret") or ""
    page.fill("#mfa-code", pyotp.TOTP(secret).now())
    page.click("#mfa-confirm")
    codes = page.locator("#recovery-codes code").all_text_contents()
    return secret, codes


def totp_secret_of(hub: HubProcess, name: str) -> str | None:
    rows = hub.sql("SELECT totp_secret FROM users WHERE name = :name", name=name)
    return str(rows[0][0]) if rows and rows[0][0] else None


def test_enrol_then_sign_in_in_two_steps_and_recovery_codes_work_once(page: Page, hub: HubProcess) -> None:
    secret, codes = enrol(page, hub, "ann")
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = totp_secret_of(hub, "ann")
    assert stored and secret not in stored, "the TOTP secret is stored encrypted"

    password_step(page, hub, "ann")
    expect(page).to_have_url(hub.url("hub/login/mfa"))
    assert "commonroom-session" not in {c["name"] for c in page.context.cookies()}, "no session before the code"
    page.goto(hub.url("hub/home"))
    expect(page).to_have_url(hub.url("hub/login?next=%2Fhub%2Fhome"))
    page.go_back()
    page.fill("#mfa-code", pyotp.TOTP(secret).now())
    page.click("#mfa-submit")
    expect(page).to_have_url(hub.url("hub/home"))

    password_step(page, hub, "ann")
    page.fill("#mfa-code", codes[0])
    page.click("#mfa-submit")
    expect(page).to_have_url(hub.url("hub/home"))
    page.goto(hub.url("hub/mfa"))
    expect(page.locator("#mfa-status")).to_contain_text("9 unused recovery codes")

    password_step(page, hub, "ann")
    page.fill("#mfa-code", codes[0])
    page.click("#mfa-submit")
    expect(page.locator(".error")).to_contain_text("That code is not right")
    wait_for(lambda: "second sign-in step refused for 'ann'" in hub.log_text(), 10, "the refusal in the log")


def test_wrong_codes_are_throttled_and_an_admin_can_reset(page: Page, hub: HubProcess) -> None:
    secret, _ = enrol(page, hub, "cy")
    password_step(page, hub, "cy")
    for _ in range(3):
        page.fill("#mfa-code", "000000")
        page.click("#mfa-submit")
        expect(page.locator(".error")).to_be_visible()
    page.fill("#mfa-code", pyotp.TOTP(secret).now())
    page.click("#mfa-submit")
    expect(page.locator(".error")).to_contain_text("Too many wrong codes")

    password_step(page, hub, "root-admin")
    page.goto(hub.url("hub/admin"))
    page.click("tr[data-user=cy] button.reset-mfa")
    expect(page.locator("tr[data-user=cy] button.reset-mfa")).to_have_count(0)
    assert totp_secret_of(hub, "cy") is None


def test_required_mfa_forces_set_up_at_sign_in(tmp_path_factory: pytest.TempPathFactory, page: Page) -> None:
    with started(HubProcess(tmp_path_factory.mktemp("mfa-required"), extra_config="[auth.mfa]\nrequired = true\n")) as hub:
        assert hub.cli("user", "add", "dee", "--password-stdin", stdin=PASSWORD).returncode == 0
        password_step(page, hub, "dee")
        expect(page).to_have_url(hub.url("hub/login/mfa"))
        expect(page.locator(".notice")).to_contain_text("asks everyone")
        secret = page.text_content("#mfa-secret") or ""
        page.fill("#mfa-code", "123456" if pyotp.TOTP(secret).now() != "123456" else "654321")
        page.click("#mfa-confirm")
        expect(page.locator(".error")).to_contain_text("That code is not right")
        assert page.text_content("#mfa-secret") == secret, "the same key is kept while setting up"
        page.fill("#mfa-code", pyotp.TOTP(secret).now())
        page.click("#mfa-confirm")
        expect(page.locator("#recovery-codes code")).to_have_count(10)
        page.click("#mfa-continue")
        expect(page).to_have_url(hub.url("hub/home"))
