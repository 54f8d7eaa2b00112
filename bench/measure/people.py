"""h. People arriving a few seconds apart (a class coming in), each as a browser would: sign in on the form, start a server (/hub/spawn, then the
progress stream), open JupyterLab (following the OAuth redirects), run "1+1" in a new kernel over the
websocket, stop the server. Reports the success rate and p50/p95 per step over the people who got that far."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bench import kernelws
from bench.context import Run
from bench.figures import Figure, RowSpec, missing, pct_ms
from bench.hubs import Hub
from bench.hubs.base import PERSON_PASSWORD
from bench.servers import stop_server, wait_ready

STEPS = ("sign in", "start server", "open JupyterLab", "run code", "stop server")
XSRF_FIELD = re.compile(r'name="_xsrf"\s+value="([^"]+)"')
REDIRECTS = (301, 302, 303, 307, 308)
NOTES = {
    "sign in": "JupyterHub's DummyAuthenticator compares a string; Commonroom verifies an argon2id hash",
    "run code": "new kernel + websocket + one execute_request",
}


def rows(run: Run) -> list[RowSpec]:
    specs = [RowSpec("people.ok", f"people who finished every step (of {run.size.people})", "%")]
    for step in STEPS:
        key = _key(step)
        note = NOTES.get(step, "")
        specs += [RowSpec(f"{key}.p50", f"{step}, p50", "ms", note), RowSpec(f"{key}.p95", f"{step}, p95", "ms", note)]
    return specs


def users(run: Run) -> list[str]:
    return [f"person-{i:02d}" for i in range(run.size.people)]


def _key(step: str) -> str:
    return "people." + step.replace(" ", "-").lower()


@dataclass
class Outcome:
    times: dict[str, float] = field(default_factory=dict)
    error: str = ""


class Browser:
    """One person's browser: a cookie jar, forms with their _xsrf field, redirects followed by hand."""

    def __init__(self, origin: str, name: str) -> None:
        self.name = name
        self.client = httpx.AsyncClient(base_url=origin, timeout=120, follow_redirects=False)

    async def follow(self, url: str, stop: Callable[[str], bool] = lambda _: False) -> httpx.Response:
        response = await self.client.get(url)
        for _ in range(15):
            if response.status_code not in REDIRECTS or stop(response.headers["location"]):
                return response
            response = await self.client.get(response.headers["location"])
        raise RuntimeError(f"too many redirects from {url}")

    def cookie(self, name: str, path_start: str) -> str:
        for cookie in self.client.cookies.jar:
            if cookie.name == name and cookie.value and cookie.path.startswith(path_start):
                return cookie.value
        raise RuntimeError(f"no {name} cookie under {path_start}")

    def cookie_header(self, path: str) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.client.cookies.jar if path.startswith(c.path.rstrip("/")))

    def hub_api(self) -> httpx.AsyncClient:
        xsrf = self.cookie("_xsrf", "/hub")
        return httpx.AsyncClient(
            base_url=f"{str(self.client.base_url).rstrip('/')}/hub/api", cookies=self.client.cookies, headers={"X-XSRFToken": xsrf},
            params={"_xsrf": xsrf}, timeout=120,
        )  # fmt: skip

    async def sign_in(self) -> None:
        page = await self.client.get("/hub/login")
        match = XSRF_FIELD.search(page.text)
        if match is None:
            raise RuntimeError(f"no _xsrf field on the sign-in page ({page.status_code})")
        fields = {"username": self.name, "password": PERSON_PASSWORD, "_xsrf": match.group(1)}
        response = await self.client.post("/hub/login", data=fields)
        if response.status_code != 302:
            raise RuntimeError(f"sign-in answered {response.status_code}")

    async def start_server(self) -> None:
        landed = await self.follow("/hub/spawn", stop=lambda location: "/user/" in location and "/hub/" not in location)
        if landed.status_code in REDIRECTS:
            return  # ready already: sent on to the server
        if landed.status_code != 200:
            raise RuntimeError(f"/hub/spawn ended at {landed.status_code}")
        async with self.hub_api() as api:
            await wait_ready(api, self.name)

    async def open_lab(self) -> None:
        page = await self.follow(f"/user/{self.name}/lab")
        if page.status_code != 200 or "jupyter-config-data" not in page.text:
            raise RuntimeError(f"JupyterLab page answered {page.status_code}")

    async def run_code(self) -> None:
        prefix = f"/user/{self.name}/"
        headers = {"X-XSRFToken": self.cookie("_xsrf", prefix)}
        created = await self.client.post(f"{prefix}api/kernels", json={"name": "python3"}, headers=headers)
        if created.status_code != 201:
            raise RuntimeError(f"kernel start answered {created.status_code}")
        ws_url = f"{str(self.client.base_url).replace('http', 'ws', 1).rstrip('/')}{prefix}api/kernels/{created.json()['id']}/channels"
        ws_headers = {"Cookie": self.cookie_header(prefix)}
        seconds = await asyncio.to_thread(kernelws.round_trips, ws_url, ws_headers, 1, 0)
        if not seconds:
            raise RuntimeError("no execute_reply")

    async def stop_server(self) -> None:
        async with self.hub_api() as api:
            await stop_server(api, self.name)


async def _person(origin: str, name: str, delay: float) -> Outcome:
    await asyncio.sleep(delay)
    browser = Browser(origin, name)
    outcome = Outcome()
    began = time.monotonic()
    steps: list[Callable[[], Awaitable[None]]] = [
        browser.sign_in, browser.start_server, browser.open_lab, browser.run_code, browser.stop_server,
    ]  # fmt: skip
    step = STEPS[0]
    try:
        for step, action in zip(STEPS, steps, strict=True):
            began = time.monotonic()
            await action()
            outcome.times[step] = time.monotonic() - began
    except Exception as exc:  # a person who fails is counted, not fatal
        outcome.error = f"{name} at '{step}' after {time.monotonic() - began:.0f} s: {exc!r}"
        if "start server" in outcome.times:
            await _best_effort(browser.stop_server())
    finally:
        await browser.client.aclose()
    return outcome


async def _best_effort(action: Awaitable[None]) -> None:
    try:
        await action
    except Exception:  # cleaning up after a failure; the hub's own stop catches the rest
        pass


def measure(run: Run, hub: Hub) -> dict[str, Figure]:
    async def everyone() -> list[Outcome]:
        gap = run.size.people_gap
        return await asyncio.gather(*(_person(hub.origin, name, i * gap) for i, name in enumerate(users(run))))

    outcomes = asyncio.run(everyone())
    errors = [o.error for o in outcomes if o.error]
    for error in errors:
        print(f"    {hub.name}: {error}", flush=True)
    figures = {"people.ok": Figure(100 * (len(outcomes) - len(errors)) / len(outcomes))}
    for step in STEPS:
        samples = [o.times[step] for o in outcomes if step in o.times]
        why = missing("nobody got this far")
        figures[f"{_key(step)}.p50"] = pct_ms(samples, 50) if samples else why
        figures[f"{_key(step)}.p95"] = pct_ms(samples, 95) if samples else why
    return figures
