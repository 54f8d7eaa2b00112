"""The culler's warning as people see it, in headless Chromium: a banner in JupyterLab whose "Keep working"
postpones the stop, and the same warning on the hub's home page.

The JupyterLab tab is made to report itself hidden (as a tab in the background does), so that JupyterLab's
own polling stands by and the server really goes idle while the page stays open; the banner's own requests
are marked no_track_activity and must not keep the server alive either.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC

import pytest
from playwright.sync_api import Browser, expect

from commonroom.timeutil import parse_iso
from tests.browser.conftest import ARTIFACTS
from tests.support.hubprocess import HubProcess, started, wait_for

pytestmark = pytest.mark.browser

PASSWORD = "copper-kettle-hums-softly"
IDLE_TIMEOUT = 40
HIDDEN_TAB = """
Object.defineProperty(document, "hidden", {get: () => true});
Object.defineProperty(document, "visibilityState", {get: () => "hidden"});
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    config = f"[culler]\nidle_timeout = {IDLE_TIMEOUT}\ncheck_interval = 2\nwarning_before = 20\n"
    with started(HubProcess(tmp_path_factory.mktemp("cullwarn"), extra_config=config)) as process:
        result = process.cli("user", "add", "dora", "--password-stdin", stdin=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
        yield process


def cull_at(hub: HubProcess, token: str) -> float:
    with hub.api(token) as api:
        status = api.get("/users/dora/server/cull").json()
    assert status["cull_at"], status
    return parse_iso(status["cull_at"]).replace(tzinfo=UTC).timestamp()


def test_jupyterlab_warns_and_keep_working_postpones_the_stop(hub: HubProcess, browser: Browser) -> None:
    token = hub.token_for("dora")
    with hub.api(token) as api:
        assert api.post("/users/dora/server").status_code in (201, 202)
        wait_for(lambda: api.get("/users/dora").json()["servers"].get("", {}).get("ready"), 90, "the server", 0.2)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(60_000)
    try:
        lab = context.new_page()
        lab.goto(hub.url("hub/login"))
        lab.fill("input[name=username]", "dora")
        lab.fill("input[name=password]", PASSWORD)
        lab.press("input[name=password]", "Enter")
        lab.wait_for_url(re.compile(r"/hub/"))
        lab.add_init_script(HIDDEN_TAB)
        lab.goto(hub.url("user/dora/lab"))
        expect(lab.locator("#jp-main-dock-panel")).to_be_visible(timeout=90_000)

        banner = lab.locator("#commonroom-cull-warning")
        expect(banner).to_be_visible(timeout=(IDLE_TIMEOUT + 30) * 1000)
        expect(banner).to_contain_text("for inactivity")
        ARTIFACTS.mkdir(exist_ok=True)
        lab.screenshot(path=str(ARTIFACTS / "cull-warning-lab.png"))
        home = context.new_page()
        home.goto(hub.url("hub/home"))
        expect(home.locator("#cull-warning")).to_be_visible(timeout=10_000)
        expect(home.locator("#cull-message")).to_contain_text("Your server will be stopped in")
        home.close()

        deadline = cull_at(hub, token)
        lab.click("#commonroom-keep-working")
        expect(banner).to_be_hidden(timeout=10_000)
        postponed = cull_at(hub, token)
        assert postponed > deadline + 5
        time.sleep(max(0.0, deadline - time.time()) + 4)
        with hub.api(token) as api:
            assert api.get("/users/dora").json()["servers"][""]["ready"], "kept running past the old deadline"
    finally:
        context.close()
