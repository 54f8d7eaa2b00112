"""Steps a person takes in the real browser, shared by the Chromium tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.hubprocess import HubProcess


def sign_in(page: Page, hub: HubProcess, name: str, password: str) -> None:
    """Sign in through the form and wait for the home page."""
    page.goto(hub.url("hub/login"))
    page.fill("#username", name)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.locator("#status")).to_be_visible()
