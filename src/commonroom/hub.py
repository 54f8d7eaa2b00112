"""The running hub: configuration, database, secrets, plugins and background duties, wired once at start.

Request handlers and the command line reach everything through one Hub object; nothing here knows HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from commonroom import secretfiles
from commonroom.auth import roles, signin
from commonroom.auth.base import Authenticator, load_authenticator_class
from commonroom.auth.native import NativeAuthenticator
from commonroom.auth.secrets import hash_secret, new_url_secret
from commonroom.config.models import Config, split_hostport
from commonroom.background import cancel_and_wait
from commonroom.culling.service import Culler
from commonroom.db.changes import count_changes
from commonroom.db.engine import DatabaseUnavailable, make_engine, migrate, session_factory, sqlite_url
from commonroom.db.models import OneTimeLink, Server, User
from commonroom.proxy import process as proxy_process
from commonroom.proxy.client import ProxyApiError, ProxyClient
from commonroom.servers import reattach, routes
from commonroom.servers.manager import ServerManager
from commonroom.services import registry as service_registry
from commonroom.services.supervisor import ServiceStartError, Supervisor
from commonroom.limits import detect as limits
from commonroom.limits.base import LimitError
from commonroom.spawners.base import ServerSpec, Spawner, load_spawner_class
from commonroom.timeutil import utcnow
from commonroom.web.token_cache import TokenCache

log = logging.getLogger(__name__)

# How often the hub checks that the proxy is alive and holds its routes.
PROXY_CHECK_SECONDS = 3.0
FIRST_ADMIN = "first-admin"


class HubStartError(Exception):
    """The hub cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class HubSecrets:
    cookie_secret: str
    proxy_token: str
    encryption_key: str
    """Key for what is kept encrypted at rest (identity-provider tokens, people's secrets)."""


def resolve_paths(config: Config) -> Config:
    """A copy of config whose data_dir (and the spawner's homes and log dirs) are absolute."""
    data_dir = config.hub.data_dir.expanduser().resolve()
    local = config.spawner.local
    homes, logs = (path if path.is_absolute() else data_dir / path for path in (local.homes_dir, local.log_dir))
    spawner = config.spawner.model_copy(update={"local": local.model_copy(update={"homes_dir": homes, "log_dir": logs})})
    return config.model_copy(update={"hub": config.hub.model_copy(update={"data_dir": data_dir}), "spawner": spawner})


class Hub:
    def __init__(self, config: Config) -> None:
        self.config = resolve_paths(config)
        self.data_dir = secretfiles.ensure_private_dir(self.config.hub.data_dir)
        secretfiles.ensure_private_dir(self.data_dir / "logs")
        secretfiles.ensure_private_dir(self.config.spawner.local.log_dir)
        self.engine: AsyncEngine = make_engine(self.config.hub.database_url or sqlite_url(self.data_dir))
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.token_cache = TokenCache(count_changes(self.engine))
        self.secrets = HubSecrets(
            cookie_secret=secretfiles.load_or_create(self.data_dir / "cookie_secret"),
            proxy_token=self.config.proxy.auth_token or secretfiles.load_or_create(self.data_dir / "proxy_token"),
            encryption_key=secretfiles.load_or_create(self.data_dir / "encryption_key"),
        )
        self.authenticator: Authenticator = load_authenticator_class(self.config.auth.authenticator)(self.config.auth)
        self.spawner_class = load_spawner_class(self.config.spawner.kind)
        self.proxy = ProxyClient(self.config.proxy.api_url, self.secrets.proxy_token)
        # Whether the hub restarts the proxy when it dies; off once PATCH /proxy pointed the hub elsewhere.
        self.proxy_managed = self.config.proxy.managed
        self.servers = ServerManager(self.config, self.sessions, self.proxy, self._make_spawner)
        self.services = Supervisor(self.config, self.sessions, self.data_dir)
        self.servers.auth_env = self._auth_env
        self.culler = Culler(self.config, self.servers)
        self.servers.give_up = self._give_up
        # Why the hub decided to exit on its own (the serve command then exits with status 1), and how it
        # asks the HTTP server to end (set by the serve command).
        self.exit_reason: str | None = None
        self.request_exit: Callable[[], None] = lambda: os.kill(os.getpid(), signal.SIGTERM)
        self._loops: list[asyncio.Task[None]] = []

    async def _auth_env(self, db: AsyncSession, user: User) -> dict[str, str]:
        return await signin.spawn_env(db, user, self.authenticator, self.config.auth, self.secrets.encryption_key)

    def _give_up(self, reason: str) -> None:
        log.critical("%s", reason)
        self.exit_reason = reason
        self.request_exit()

    def _make_spawner(self, spec: ServerSpec, state: dict[str, Any]) -> Spawner:
        return self.spawner_class(self.config.spawner, spec, state)

    @property
    def hub_target(self) -> str:
        host, port = split_hostport(self.config.hub.internal_bind)
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{host}:{port}"

    @property
    def public_origin(self) -> str:
        if self.config.hub.public_url:
            return self.config.hub.public_url.rstrip("/")
        host, port = split_hostport(self.config.hub.bind)
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{host}:{port}"

    # ---- life cycle --------------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await migrate(self.engine)
        except DatabaseUnavailable as exc:
            raise HubStartError(str(exc)) from None
        if self.config.spawner.profiles:
            try:
                limits.announce(self.config.spawner)
            except LimitError as exc:
                raise HubStartError(str(exc)) from None
        await self.services.stop_unlisted()
        async with self.sessions() as db:
            await service_registry.sync_config(db, self.config)
            await roles.sync_config(db, self.config.roles)
            await db.commit()
        await self.ensure_proxy()
        await self.spawner_class.hub_starting(self.config.spawner, self.data_dir)
        await reattach.reattach(self.servers)
        try:
            await self.services.start()
        except ServiceStartError as exc:
            raise HubStartError(str(exc)) from None
        await routes.sync(self.servers, self.hub_target)
        await self.announce_first_admin_link()
        self._loops = [
            asyncio.create_task(self._every(PROXY_CHECK_SECONDS, self.check_proxy)),
            asyncio.create_task(self._every(self.config.spawner.poll_interval, self.servers.check_all)),
        ]
        if self.config.culler.enabled:
            self._loops.append(asyncio.create_task(self._every(self.config.culler.check_interval, self.culler.check)))

    async def stop(self) -> None:
        """Stop the hub's own work. Servers and the proxy keep running, so a restarted hub picks them up."""
        await self._stop_loops()
        await self.services.aclose()
        await self.servers.aclose()
        await self.spawner_class.hub_stopping(self.config.spawner)
        await self.proxy.aclose()
        await self.engine.dispose()

    async def _stop_loops(self) -> None:
        await cancel_and_wait(self._loops)
        self._loops = []

    @staticmethod
    async def _every(seconds: float, job: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:
                log.exception("background check %s failed; trying again in %g s", job.__name__, seconds)

    async def stop_everything(self, servers: bool = True, proxy: bool = True) -> int:
        """Stop every server and a managed proxy (`commonroom shutdown`, POST /shutdown); returns how many
        servers were stopped.

        The background checks end first, or one could start the proxy again (or poll a server) between its
        stop and the hub's exit; spawns under way are cancelled before the rest stop, so none starts late.
        """
        await self._stop_loops()
        if servers:
            await self.servers.cancel_spawns()
        rows = await self._active_servers() if servers else []

        async def stop(row: Server) -> None:
            await self.servers.spawner_for(row).stop()
            await self.servers.mark_stopped(row.id, failure=None)

        await asyncio.gather(*(stop(row) for row in rows))
        await self.services.stop_all()
        if proxy and self.config.proxy.managed:
            await proxy_process.stop_proxy(self.proxy_pid_file)
        return len(rows)

    async def _active_servers(self) -> list[Server]:
        async with self.sessions() as db:
            active = or_(Server.target.is_not(None), Server.pending.is_not(None))
            return list((await db.execute(select(Server).where(active))).scalars())

    # ---- proxy -------------------------------------------------------------------------------------------

    @property
    def proxy_pid_file(self) -> Path:
        return self.data_dir / "proxy.pid"

    def proxy_command(self) -> list[str]:
        host, port = split_hostport(self.config.hub.bind)
        api_host, api_port = split_hostport(self.config.proxy.api_url.split("://", 1)[-1].rstrip("/"))
        base = self.config.proxy.command or [sys.executable, "-m", "commonroom.proxy"]
        return [
            *base, "--ip", host, "--port", str(port), "--api-ip", api_host, "--api-port", str(api_port),
            "--error-target", f"{self.hub_target}{self.config.hub.base_url}hub/error",
        ]  # fmt: skip

    @property
    def proxy_log(self) -> Path:
        return self.data_dir / "logs" / "proxy.log"

    async def ensure_proxy(self) -> None:
        """Use the proxy that is already running (a hub restart), or start one when the hub manages it."""
        managed = self.config.proxy.managed
        if managed and not proxy_process.is_running(self.proxy_pid_file):
            env = {**os.environ, "CONFIGPROXY_AUTH_TOKEN": self.secrets.proxy_token}
            proxy_process.start_proxy(self.proxy_command(), env, self.proxy_log, self.proxy_pid_file)
        try:
            await proxy_process.wait_until_up(
                self.config.proxy.api_url, self.secrets.proxy_token, timeout=15,
                pid_path=self.proxy_pid_file if managed else None,
            )  # fmt: skip
        except (TimeoutError, RuntimeError, ProxyApiError) as exc:
            raise HubStartError(self._proxy_trouble(exc)) from None

    def _proxy_trouble(self, exc: Exception) -> str:
        if not self.config.proxy.managed:
            return (f"The proxy at {self.config.proxy.api_url} did not answer ({exc}). Start it, check "
                    "proxy.api_url and proxy.auth_token, or set proxy.managed = true to let the hub run it.")  # fmt: skip
        try:
            tail = "\n".join(self.proxy_log.read_text(errors="replace").splitlines()[-8:])
        except OSError:
            tail = "(no log)"
        return (f"The proxy could not start ({exc}). Is {self.config.hub.bind} (hub.bind) or "
                f"{self.config.proxy.api_url} (proxy.api_url) in use? Its log ({self.proxy_log}) ends:\n{tail}")  # fmt: skip

    async def check_proxy(self) -> None:
        """Restart a managed proxy that died and put back routes a restarted proxy lost."""
        if self.proxy_managed and not proxy_process.is_running(self.proxy_pid_file):
            log.warning("the proxy is not running; starting it again")
            await self.ensure_proxy()
        await routes.sync(self.servers, self.hub_target)

    async def repoint_proxy(self, api_url: str, token: str) -> None:
        """Use another proxy from now on (PATCH /proxy; until the next start, which reads the config again).

        The new proxy must answer first, so a typo leaves the hub on the proxy that works. The hub no longer
        restarts the old one; routes are written to the new one at once.
        """
        async with ProxyClient(api_url, token, retry_for=2) as probe:
            await probe.get_routes()
        old, self.proxy = self.proxy, ProxyClient(api_url, token)
        self.servers.proxy, self.proxy_managed = self.proxy, False
        await old.aclose()
        log.warning("now using the proxy at %s (PATCH /proxy)", api_url)
        await routes.sync(self.servers, self.hub_target)

    # ---- first administrator -----------------------------------------------------------------------------

    async def announce_first_admin_link(self) -> str | None:
        """While no administrator exists, print a one-time link that creates the first one."""
        async with self.sessions() as db:
            if await db.scalar(select(User.id).where(User.admin.is_(True)).limit(1)):
                return None
            if not isinstance(self.authenticator, NativeAuthenticator):
                auth = self.config.auth
                if not (auth.admin_users or auth.admin_groups):
                    print("\nNo administrator yet: list one in auth.admin_users (or a group in auth.admin_groups).\n", flush=True)
                return None
            await db.execute(
                update(OneTimeLink).where(OneTimeLink.purpose == FIRST_ADMIN, OneTimeLink.used_at.is_(None)).values(used_at=utcnow())
            )
            secret = new_url_secret()
            minutes = self.config.hub.first_admin_link_minutes
            db.add(OneTimeLink(hashed=hash_secret(secret), purpose=FIRST_ADMIN, expires_at=utcnow() + timedelta(minutes=minutes)))
            await db.commit()
        link = f"{self.public_origin}{self.config.hub.base_url}hub/first-admin/{secret}"
        print(f"\nNo administrator yet. Open this link within {minutes} minutes to create one (it works once):\n  {link}\n", flush=True)
        return link
