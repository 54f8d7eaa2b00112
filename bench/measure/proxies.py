"""c. The proxy alone: a small GET through `commonroom proxy` and through configurable-http-proxy (each
started on its own with the same route), against a trivial backend (so the proxy's own cost shows) and a
JupyterLab server, at concurrency 1 and 32. The same load straight to the backend is given in the note."""

from __future__ import annotations

from bench import standalone
from bench.context import Run
from bench.figures import Figure, RowSpec, ms, percentile
from bench.httpload import LoadResult, load

CONCURRENCY = (1, 32)
TARGETS = {"trivial": ("trivial backend", "/trivial/ok"), "lab": ("JupyterLab server", f"{standalone.SINGLEUSER_PREFIX}api/status")}
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
            ]
    return specs


def _figures(base: str, result: LoadResult) -> dict[str, Figure]:
    if not result.latencies:
        return {}
    return {
        f"{base}.p50": Figure(ms(percentile(result.latencies, 50))),
        f"{base}.p99": Figure(ms(percentile(result.latencies, 99))),
        f"{base}.rps": Figure(result.per_second),
    }


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
    figures: Figures = {}
    notes: dict[str, str] = {}
    seconds = run.size.load_seconds
    with standalone.trivial_backend(run) as trivial_port, standalone.bare_jupyterlab(run) as lab_port:
        ports = {"trivial": trivial_port, "lab": lab_port}
        proxies = standalone.proxies()
        for turn, proxy in enumerate(proxies):
            with standalone.proxy_running(run, proxy), proxy.api() as api:
                proxy.add_route(api, "/trivial", f"http://127.0.0.1:{trivial_port}")
                proxy.add_route(api, standalone.SINGLEUSER_PREFIX.rstrip("/"), f"http://127.0.0.1:{lab_port}")
                for key, (_, path) in TARGETS.items():
                    for c in CONCURRENCY:
                        base = f"proxy.{key}.c{c}"
                        figures.setdefault(proxy.side, {}).update(_figures(base, load(proxy.port, path, c, seconds)))
                        if turn == 0:
                            direct = load(ports[key], path, c, seconds)
                            notes.update({f"{base}.{w}": _note(direct, w.replace("rps", "req/s")) for w in ("p50", "p99", "rps")})
    return figures, notes
