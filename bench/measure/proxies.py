"""c. The proxy alone: a small GET through `commonroom proxy` and through configurable-http-proxy (each
started on its own with the same route), against a trivial backend (so the proxy's own cost shows) and a
JupyterLab server, at concurrency 1 and 32. The same load straight to the backend is given in the note."""

from __future__ import annotations

from contextlib import ExitStack

from bench import standalone
from bench.context import Run
from bench.figures import Figure, RowSpec, ms, percentile
from bench.httpload import LoadResult, load
from bench.processes import cpu_seconds
from bench.standalone import Proxy

CONCURRENCY = (1, 32)
TARGETS = {
    "trivial": ("trivial backend", "/trivial/ok"),
    "lab": ("JupyterLab server", f"{standalone.SINGLEUSER_PREFIX}api/status"),
}
Figures = dict[str, dict[str, Figure]]


def rows(run: Run) -> list[RowSpec]:
    specs = []
    for key, (label, path) in TARGETS.items():
        for c in CONCURRENCY:
            base = f"proxy.{key}.c{c}"
            specs += [
                RowSpec(f"{base}.p50", f"GET {path} ({label}), concurrency {c}: p50", "ms"),
                RowSpec(f"{base}.p99", f"… p99", "ms"),
                RowSpec(f"{base}.rps", f"… requests/s", "req/s"),
                RowSpec(f"{base}.added", "… latency the proxy adds: p50 through it minus p50 direct", "ms"),
                RowSpec(f"{base}.loss", "… requests/s lost to the proxy: 1 − through it / direct", "%"),
                RowSpec(f"{base}.cpu", "… the proxy's CPU time per request (user + kernel)", "µs"),
            ]
    return specs


def _through(proxy: Proxy, pid: int, path: str, c: int, seconds: float) -> tuple[LoadResult, float]:
    """The load through a proxy, and the proxy's CPU seconds per request under it."""
    before = cpu_seconds(pid)
    result = load(proxy.port, path, c, seconds)
    return result, (cpu_seconds(pid) - before) / max(1, len(result.latencies))


def _figures(base: str, proxied: tuple[LoadResult, float], direct: LoadResult) -> dict[str, Figure]:
    """The proxied load's figures, and what it costs against the same load sent straight to the backend."""
    result, cpu = proxied
    if not result.latencies:
        return {}
    p50 = ms(percentile(result.latencies, 50))
    figures = {
        f"{base}.p50": Figure(p50),
        f"{base}.p99": Figure(ms(percentile(result.latencies, 99))),
        f"{base}.rps": Figure(result.per_second),
        f"{base}.cpu": Figure(cpu * 1e6),
    }
    if direct.latencies:
        figures[f"{base}.added"] = Figure(p50 - ms(percentile(direct.latencies, 50)))
        figures[f"{base}.loss"] = Figure(100 * (1 - result.per_second / direct.per_second))
    return figures


def _note(result: LoadResult, what: str) -> str:
    if not result.latencies:
        return f"direct: no answers ({result.errors} errors)"
    errors = f", {result.errors} errors" if result.errors else ""
    return f"direct to the backend: {what} {_figure_text(result, what)}{errors}"


def _figure_text(result: LoadResult, what: str) -> str:
    if what == "req/s":
        return f"{result.per_second:,.0f}"
    return f"{ms(percentile(result.latencies, 50 if what == 'p50' else 99)):.2f} ms"


def measure(run: Run) -> tuple[Figures, dict[str, str]]:
    """Both proxies run at once; each case measures them one after the other, alternating which goes first."""
    figures: Figures = {}
    notes: dict[str, str] = {}
    seconds = run.size.load_seconds
    proxies = standalone.proxies()
    pids: dict[str, int] = {}
    with ExitStack() as stack:
        ports = {"trivial": stack.enter_context(standalone.trivial_backend(run)), "lab": stack.enter_context(standalone.bare_jupyterlab(run))}
        for proxy in proxies:
            pids[proxy.side] = stack.enter_context(standalone.proxy_running(run, proxy)).pid
            with proxy.api() as api:
                proxy.add_route(api, "/trivial", f"http://127.0.0.1:{ports['trivial']}")
                proxy.add_route(api, standalone.SINGLEUSER_PREFIX.rstrip("/"), f"http://127.0.0.1:{ports['lab']}")
        for turn, (key, c) in enumerate((key, c) for key in TARGETS for c in CONCURRENCY):
            base, path = f"proxy.{key}.c{c}", TARGETS[key][1]
            order = proxies if turn % 2 == 0 else proxies[::-1]
            proxied = {p.side: _through(p, pids[p.side], path, c, seconds) for p in order}
            direct = load(ports[key], path, c, seconds)
            for side, result in proxied.items():
                figures.setdefault(side, {}).update(_figures(base, result, direct))
            notes.update({f"{base}.{w}": _note(direct, w.replace("rps", "req/s")) for w in ("p50", "p99", "rps")})
    return figures, notes
