"""e. REST API: create 1,000 users in one request, list 5,000 users page by page, get one user, and the activity
reports of 1,000 servers (POST /users/NAME/activity, as jupyterhub-singleuser sends it, ACTIVITY_AT_ONCE at a time).

An endpoint a hub does not have (404/405) gives "n/a (endpoint missing)" rather than a failure."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from datetime import datetime, timezone

import httpx

from bench import httpload
from bench.context import Run
from bench.figures import Figure, RowSpec, median_ms, missing, ms, pct_ms
from bench.hubs import Hub

PAGINATION = "application/jupyterhub-pagination+json"
PAGE = 200
ACTIVITY_AT_ONCE = 20
LISTINGS = 3
"""Whole listings timed, the median kept: one listing is a single ~0.1-1 s figure that noise can double."""


def rows(run: Run) -> list[RowSpec]:
    size = run.size
    return [
        RowSpec("api.create", f"POST /users: create {size.create_users:,} users in one request", "ms"),
        RowSpec("api.list", f"GET /users: list {size.list_users:,} users, {PAGE} a page (median of {LISTINGS})", "ms"),
        RowSpec("api.get.p50", "GET /users/NAME, p50", "ms"),
        RowSpec("api.get.p99", "GET /users/NAME, p99", "ms"),
        RowSpec("api.activity", f"POST /users/NAME/activity: {size.create_users:,} servers' reports, "
                f"{ACTIVITY_AT_ONCE} at a time", "ms", "with the admin token (one token for all)"),
    ]  # fmt: skip


def measure(run: Run, hub: Hub) -> dict[str, Figure]:
    size = run.size
    with hub.api() as api:
        names = [f"api-{i:05d}" for i in range(size.create_users)]
        figures = {"api.create": _create(api, names)}
        if figures["api.create"].value is None:
            hub.add_users(names)
        hub.add_users(f"fill-{i:05d}" for i in range(size.list_users))
        figures["api.list"] = _median(_list(api, size.list_users) for _ in range(LISTINGS))
    figures.update(_get(hub, names[len(names) // 2], size.get_samples))
    figures["api.activity"] = _activity(hub, names)
    return figures


def _absent(response: httpx.Response, what: str) -> Figure | None:
    if response.status_code in (404, 405):
        return missing(f"endpoint missing: {what} answered {response.status_code}")
    return None


def _create(api: httpx.Client, names: list[str]) -> Figure:
    began = time.monotonic()
    response = api.post("/users", json={"usernames": names})
    elapsed = time.monotonic() - began
    if (absent := _absent(response, "POST /hub/api/users")) is not None:
        return absent
    if response.status_code != 201 or len(response.json()) != len(names):
        return missing(f"POST /hub/api/users answered {response.status_code}: {response.text[:80]}")
    return Figure(ms(elapsed))


def _median(figures: Iterable[Figure]) -> Figure:
    """The median of the figures, or the first missing one's reason."""
    measured = list(figures)
    missed = next((f for f in measured if f.value is None), None)
    return missed or Figure(statistics.median(f.value for f in measured if f.value is not None))


def _list(api: httpx.Client, wanted: int) -> Figure:
    """Follow the pagination the hub offers (the _pagination.next it returns, or offset by page length)."""
    seen: set[str] = set()
    offset = 0
    began = time.monotonic()
    for _ in range(wanted // PAGE + 5):
        response = api.get("/users", params={"offset": offset, "limit": PAGE}, headers={"Accept": PAGINATION})
        if (absent := _absent(response, "GET /hub/api/users")) is not None:
            return absent
        if response.status_code != 200:
            return missing(f"GET /hub/api/users answered {response.status_code}: {response.text[:80]}")
        body = response.json()
        page = body["items"] if isinstance(body, dict) else body
        seen.update(user["name"] for user in page)
        following = body.get("_pagination", {}).get("next") if isinstance(body, dict) else None
        offset = following["offset"] if following else offset + len(page)
        if len(seen) >= wanted or not page or (isinstance(body, dict) and not following):
            break
    elapsed = time.monotonic() - began
    if len(seen) < wanted:
        return missing(f"paging reached only {len(seen):,} distinct users")
    return Figure(ms(elapsed))


def _get(hub: Hub, name: str, samples: int) -> dict[str, Figure]:
    """One request at a time on one connection, the first few left out (warm-up). Sent with bench/httpload.py:
    httpx's own ~0.3 ms per request would be a quarter of the figure measured."""
    request = httpload.message(hub.public_port, "GET", f"/hub/api/users/{name}", _headers(hub))
    result = httpload.send_each(hub.public_port, [request] * (samples + 5), 1)
    if result.errors:
        return dict.fromkeys(("api.get.p50", "api.get.p99"), missing(f"answered {result.problem}"))
    times = result.latencies[5:]
    return {"api.get.p50": median_ms(times), "api.get.p99": pct_ms(times, 99)}


def _headers(hub: Hub) -> dict[str, str]:
    return {"Authorization": f"token {hub.token}", "Content-Type": "application/json"}


def _activity(hub: Hub, names: list[str]) -> Figure:
    """Every name reports activity once, ACTIVITY_AT_ONCE requests in flight, as many servers' reports arrive.
    Sent with bench/httpload.py: with httpx the client, not the hub, was the bottleneck (2 s of client CPU)."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = json.dumps({"last_activity": now, "servers": {}}).encode()
    port = hub.public_port
    requests = [httpload.message(port, "POST", f"/hub/api/users/{n}/activity", _headers(hub), body) for n in names]
    result = httpload.send_each(port, requests, ACTIVITY_AT_ONCE)
    if result.errors:
        return missing(f"{result.errors} reports refused, e.g. {result.problem}")
    return Figure(ms(result.elapsed))
