"""A new hub, seen through a real browser: the first administrator, a sign-up that waits for approval,
starting a server with visible progress, running 1+1 in JupyterLab, and stopping the server; on SQLite and on
PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.hubprocess import HubProcess

pytestmark = pytest.mark.browser

PASSWORD = "velvet-otter-carries-lanterns"
NOTEBOOK = (
    '{"cells": [{"cell_type": "code", "execution_count": null, "id": "c1", "metadata": {}, "outputs": [], "source": []}],'
    ' "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},'
    ' "nbformat": 4, "nbformat_minor": 5}'
)


@pytest.fixture(scope="module")
def hub(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("browser")
    welcome = workdir / "welcome"
    welcome.mkdir()
    (welcome / "Welcome.ipynb").write_text(NOTEBOOK)
    config = f'[spawner]\nwelcome_dir = "{welcome}"\ndefault_url = "/lab/tree/Welcome.ipynb"\n'
    # A hostile base URL (a space and a non-ASCII letter) catches escaping mistakes anywhere on the way.
    process = HubProcess(workdir, extra_config=config, base_url="/c r é/", database_url=database_url)
    process.start()
    try:
        yield process
    finally:
        process.stop()


# Keeps every progress message the spawn page receives in sessionStorage, which survives the redirect to
# JupyterLab (same origin), so the test can check what the page was shown however fast the spawn was.
RECORD_PROGRESS = """
const Original = window.EventSource;
window.EventSource = function (url, options) {
  const source = new Original(url, options);
  source.addEventListener("message", (e) => {
    const seen = JSON.parse(sessionStorage.getItem("progress") || "[]");
    seen.push(JSON.parse(e.data).message);
    sessionStorage.setItem("progress", JSON.stringify(seen));
  });
  return source;
};
window.EventSource.CLOSED = Original.CLOSED;
"""


def sign_in(page: Page, hub: HubProcess, name: str) -> None:
    page.goto(hub.url("hub/login"))
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")


def sign_out(page: Page) -> None:
    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/hub/login"))


def test_first_day_on_a_new_hub(hub: HubProcess, page: Page) -> None:
    assert hub.first_admin_link
    page.goto(hub.first_admin_link)
    expect(page.locator("h1")).to_have_text("Create the first administrator")
    page.fill("#username", "ada")
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("#signup-submit")
    expect(page).to_have_url(re.compile(r"/hub/admin$"))
    sign_out(page)

    page.goto(hub.url("hub/signup"))
    page.fill("#username", "ben")
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("#signup-submit")
    expect(page.locator("#pending-approval")).to_be_visible()
    sign_in(page, hub, "ben")
    expect(page.locator(".error")).to_contain_text("waiting for an administrator's approval")

    sign_in(page, hub, "ada")
    page.goto(hub.url("hub/admin"))
    row = page.locator('tr[data-user="ben"]')
    expect(row).to_contain_text("awaiting approval")
    row.locator("button.approve").click()
    expect(page.locator('tr[data-user="ben"]')).to_contain_text("active")
    sign_out(page)

    sign_in(page, hub, "ben")
    expect(page.locator("#status")).to_contain_text("not running")
    page.add_init_script(RECORD_PROGRESS)
    page.click("#start")
    expect(page).to_have_url(re.compile(r"/hub/spawn-pending/ben"))
    page.wait_for_url(re.compile(r"/user/ben/lab"), timeout=90_000)
    shown = json.loads(page.evaluate("sessionStorage.getItem('progress') || '[]'"))
    assert shown[0] == "Server requested" and shown[-1] == f"Server ready at {hub.prefix}user/ben/", shown
    assert len(shown) >= 3, shown

    # As a person would: type once the notebook's kernel is ready (JupyterLab can re-render the cells while it
    # connects, which loses what was typed), and run the cell once the text is in it.
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
    cell = page.locator(".jp-Notebook .jp-Cell .cm-content").first
    cell.click(timeout=60_000)
    page.keyboard.type("1+1")
    expect(cell).to_have_text("1+1")
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".jp-OutputArea-output").first).to_have_text("2", timeout=60_000)

    page.goto(hub.url("hub/home"))
    expect(page.locator("#status")).to_contain_text("Running")
    page.click("#stop")
    expect(page.locator("#status")).to_contain_text("not running", timeout=30_000)
    page.goto(hub.url("user/ben/lab"))
    expect(page.locator("h1")).to_contain_text("server is not running")

