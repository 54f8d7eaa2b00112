"""The proxy: Commonroom's only public port, a drop-in for configurable-http-proxy (CHP) 5.3.

It speaks CHP's REST API and flags, so JupyterHub can drive it and Commonroom can run behind CHP, and it
routes by longest path prefix, relaying websockets as raw bytes after the upgrade.

Why not CHP, or a proxy library: CHP is Node (a second runtime to ship) and is slow where hubs hurt: it
adds per-request latency, kept no upstream keep-alive for years, and its memory grows under websocket load.
Python's ready-made options (aiohttp or httpx in a handler, a Starlette app) turn every request into
objects, streams and tasks, which costs several times more per request than relaying bytes. So this
package sits directly on asyncio Protocols: httptools (llhttp) parses both directions as bytes arrive,
heads are rewritten in one pass, bodies and tunnels are written straight from one transport to the other
with flow control between them, and backend connections are pooled and kept alive. uvloop is used when
installed.

Modules: `routes` (the table), `api` and `apiserver` (REST API), `frontend`, `exchange`, `upstream`,
`wire`, `paths` and `errors` (the data plane), `relay` (shared state), `server` and `cli` (running it),
`client` (how the hub drives any CHP-compatible proxy) and `process` (launching it as a detached child).
"""
