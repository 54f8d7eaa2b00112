"""g. Route add and delete on a proxy whose table already holds thousands of routes (as a big hub's would):
each proxy is started on its own, filled (untimed), then one route is added and deleted at a time."""

from __future__ import annotations

import time

from bench import standalone
from bench.context import Run
from bench.figures import Figure, RowSpec, pct_ms

Figures = dict[str, dict[str, Figure]]


def rows(run: Run) -> list[RowSpec]:
    table = f"{run.size.route_table:,} routes in the table"
    return [
        RowSpec("routes.add.p50", f"POST /api/routes/…, {table}: p50", "ms"),
        RowSpec("routes.add.p99", "… p99", "ms"),
        RowSpec("routes.delete.p50", f"DELETE /api/routes/…, {table}: p50", "ms"),
        RowSpec("routes.delete.p99", "… p99", "ms"),
        RowSpec("routes.list", "GET /api/routes (the whole table)", "ms"),
    ]


def measure(run: Run) -> tuple[Figures, dict[str, str]]:
    figures: Figures = {}
    for proxy in standalone.proxies():
        with standalone.proxy_running(run, proxy), proxy.api() as api:
            for i in range(run.size.route_table):
                proxy.add_route(api, f"/user/filler-{i:05d}", f"http://127.0.0.1:{1024 + i}")
            adds, deletes = [], []
            for i in range(run.size.route_samples):
                path = f"/user/timed-{i:04d}"
                began = time.monotonic()
                proxy.add_route(api, path, "http://127.0.0.1:9")
                adds.append(time.monotonic() - began)
                began = time.monotonic()
                if api.delete(path).status_code != 204:
                    raise RuntimeError(f"{proxy.side} proxy: deleting {path} failed")
                deletes.append(time.monotonic() - began)
            began = time.monotonic()
            listed = len(api.get("").json())
            listing = time.monotonic() - began
            if listed < run.size.route_table:
                raise RuntimeError(f"{proxy.side} proxy listed {listed} routes")
        figures[proxy.side] = {
            "routes.add.p50": pct_ms(adds, 50), "routes.add.p99": pct_ms(adds, 99),
            "routes.delete.p50": pct_ms(deletes, 50), "routes.delete.p99": pct_ms(deletes, 99),
            "routes.list": Figure(listing * 1000),
        }  # fmt: skip
    return figures, {}
