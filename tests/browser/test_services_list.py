"""The home page lists the services a person may open (those they hold access:services on), in headless
Chromium; the link reaches the service through the proxy. The service is tests/support/tinyservice.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.hubprocess import HubProcess, started, wait_for
from tests.support.ports import free_port

PASSWORD = "amber-heron-quietly-sings"
TINY = Path(__file__).resolve().parents[1] / "support" / "tinyservice.py"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    config = (
        f'[[services]]\nname = "tiny"\nurl = "http://127.0.0.1:{free_port()}"\n'
        f"command = {json.dumps([sys.executable, str(TINY)])}\n"
        '[[services]]\nname = "hidden"\nurl = "http://127.0.0.1:9"\ndisplay = false\napi_token = "hidden-token-123"\n'
        '[[roles]]\nname = "tiny-users"\nscopes = ["access:services!service=tiny", "access:services!service=hidden"]\n'
        'users = ["ada"]\n'
    )
    process = HubProcess(tmp_path_factory.mktemp("serviceslist"), extra_config=config)
    for name in ("ada", "bob"):
        made = process.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
        assert made.returncode == 0, made.stderr
    with started(process):
        yield process


def sign_in(page: Page, hub: HubProcess, name: str) -> None:
    page.goto(hub.url("hub/login"))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#status")).to_be_visible()


def test_a_person_with_access_sees_the_service_and_reaches_it(hub: HubProcess, page: Page) -> None:
    sign_in(page, hub, "ada")
    links = page.locator("#services a.service")
    expect(links).to_have_count(1)  # "hidden" has display = false
    expect(links.first).to_have_text("tiny")
    expect(links.first).to_have_attribute("href", "/services/tiny/")
    wait_for(lambda: httpx.get(hub.url("services/tiny/"), timeout=10).status_code == 200, 60, "the service to answer")
    links.first.click()
    expect(page.locator("body")).to_contain_text('"ok": true', timeout=60_000)


def test_a_person_without_access_sees_no_services(hub: HubProcess, page: Page) -> None:
    sign_in(page, hub, "bob")
    expect(page.locator("#services")).to_have_count(0)
