"""Running the proxy: the public and API listeners, the sweep timer, signals, and uvloop when available."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from .api import RoutesApi
from .apiserver import ApiConnection
from .frontend import ClientConnection
from .options import ProxyOptions, TlsFiles
from .relay import Relay
from .routes import RouteTable
from .tls import server_context

log = logging.getLogger("commonroom.proxy")

ProtocolFactory = Callable[[], asyncio.Protocol]

# How long a stopping proxy waits for connections to finish what they are writing.
SHUTDOWN_GRACE = 2.0


class ProxyServer:
    """Both listening sides over one route table."""

    def __init__(self, options: ProxyOptions, token: str) -> None:
        self.options = options
        self.routes = RouteTable()
        if options.default_target:
            self.routes.set("/", {"target": options.default_target}, time.time())
        self.relay = Relay(self.routes, options)
        self.api = RoutesApi(self.routes, token, host_routing=options.host_routing)
        self._servers: list[asyncio.Server] = []
        self._api_connections: set[ApiConnection] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen on both sides; raises OSError if an address is taken."""
        options = self.options
        relay, api, api_connections = self.relay, self.api, self._api_connections
        await self._listen(lambda: ClientConnection(relay), options.ip, options.port, options.socket, options.ssl)
        log.info("Proxying %s", self._where(options.ip, options.port, options.socket, options.ssl))
        await self._listen(
            lambda: ApiConnection(api, api_connections),
            options.api_ip,
            options.api_port,
            options.api_socket,
            options.api_ssl,
        )
        log.info(
            "Proxy API at %s/api/routes",
            self._where(options.api_ip, options.api_port, options.api_socket, options.api_ssl),
        )
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def stop(self) -> None:
        """Stop listening and close every connection (the hub's kept-alive API ones too)."""
        for server in self._servers:
            server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.relay.close()
        for conn in list(self._api_connections):
            conn.transport.close()
        closed = asyncio.gather(*(server.wait_closed() for server in self._servers))
        try:
            await asyncio.wait_for(closed, SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("Connections still open %g s after the stop began; exiting anyway", SHUTDOWN_GRACE)

    async def _listen(
        self, factory: ProtocolFactory, host: str, port: int, path: Path | None, tls: TlsFiles | None
    ) -> None:
        loop = asyncio.get_running_loop()
        context = server_context(tls) if tls is not None else None
        if path is not None:
            server = await loop.create_unix_server(factory, str(path), ssl=context, backlog=1024)
        else:
            server = await loop.create_server(
                factory, host or None, port, ssl=context, backlog=1024, reuse_address=True
            )
        self._servers.append(server)

    async def _sweep(self) -> None:
        interval = max(0.05, min(1.0, self.options.keep_alive_timeout / 4))
        while True:
            await asyncio.sleep(interval)
            self.relay.sweep()

    @staticmethod
    def _where(host: str, port: int, path: Path | None, tls: TlsFiles | None) -> str:
        if path is not None:
            return f"unix:{path}"
        return f"{'https' if tls else 'http'}://{host or '*'}:{port}"


async def serve(options: ProxyOptions, token: str) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit status."""
    server = ProxyServer(options, token)
    # Written before the ports open, so whoever sees the proxy answer can already read its pid.
    if options.pid_file is not None:
        options.pid_file.write_text(f"{os.getpid()}\n")
    try:
        await server.start()
    except (OSError, ValueError) as exc:  # address in use, unreadable certificate, key without certificate
        log.error("Cannot start the proxy: %s", exc)
        await server.stop()
        if options.pid_file is not None:
            options.pid_file.unlink(missing_ok=True)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
        log.info("Stopping proxy")
    finally:
        await server.stop()
        if options.pid_file is not None:
            options.pid_file.unlink(missing_ok=True)
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop if it is installed: the proxy adds about a third less latency on it than on asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(options: ProxyOptions, token: str) -> int:
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(serve(options, token))
