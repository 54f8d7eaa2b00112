"""The start page in a real browser: each person sees only the profiles their groups allow, the default one
chosen; a profile that cannot start shows why on the progress page; the admin page says how limits are enforced."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import sign_in
from tests.support.hubprocess import HubProcess, started

pytestmark = pytest.mark.browser

PASSWORD = "amber-kite-over-marsh"
PROFILES = """
[spawner]
[[spawner.profiles]]
name = "standard"
display_name = "Standard"
description = "Everyday work"
memory = "1G"
cpu = 1
default = true

[[spawner.profiles]]
name = "research"
display_name = "Research"
description = "Big data, for the research group"
memory = "4G"
cpu = 2
groups = ["research"]

[[spawner.profiles]]
name = "broken"
display_name = "Broken software"
cmd = ["/opt/nowhere/bin/jupyterhub-singleuser"]
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    with started(HubProcess(tmp_path_factory.mktemp("picker"), extra_config=PROFILES)) as process:
        for name in ("pat", "rae"):
            result = process.cli("user", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
            assert result.returncode == 0, result.stderr
        result = process.cli("user", "add", "boss", "--admin", "--password-stdin", stdin=PASSWORD + "\n")
        assert result.returncode == 0, result.stderr
        with process.api(process.token_for("boss")) as api:
            assert api.post("/groups/research", json={"users": ["rae"]}).status_code == 201
        yield process


def offered(page: Page) -> list[str]:
    return [radio.get_attribute("value") or "" for radio in page.locator("#profiles input[type=radio]").all()]


def test_people_see_only_their_profiles_with_the_default_chosen(hub: HubProcess, page: Page) -> None:
    sign_in(page, hub, "pat", PASSWORD)
    assert offered(page) == ["standard", "broken"]
    expect(page.locator("#profiles input[value=standard]")).to_be_checked()
    expect(page.locator("#profiles")).to_contain_text("1 CPU · 1 GB memory")
    expect(page.locator("#profiles")).to_contain_text("Everyday work")
    expect(page.locator("#profiles")).not_to_contain_text("Research")
    page.context.clear_cookies()
    sign_in(page, hub, "rae", PASSWORD)
    assert offered(page) == ["standard", "research", "broken"]
    expect(page.locator("#profiles")).to_contain_text("2 CPUs · 4 GB memory")


def test_a_profile_that_cannot_start_says_why_on_the_progress_page(hub: HubProcess, page: Page) -> None:
    sign_in(page, hub, "pat", PASSWORD)
    page.check("#profiles input[value=broken]")
    page.click("#start")
    failure = page.locator("#failure-message")
    expect(failure).to_contain_text("'/opt/nowhere/bin/jupyterhub-singleuser' was not found", timeout=60_000)
    expect(failure).to_contain_text("the cmd or venv of profile 'broken'")


def test_the_admin_page_says_how_limits_are_enforced(hub: HubProcess, page: Page) -> None:
    sign_in(page, hub, "boss", PASSWORD)
    page.goto(hub.url("hub/admin"))
    expect(page.locator("#limits-enforcement")).to_contain_text("cgroup v1: memory, CPU and process limits are enforced")
