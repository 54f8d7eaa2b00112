"""Starting and stopping servers, as a service the API, the pages and the CLI all call.

Each spawn runs as a background task that the request waits on only briefly, so a slow server never ties
up a request. Every state change is committed before the next step, so a hub killed at any moment leaves
rows that the next start can finish or clean up (see reattach.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commonroom import urls
from commonroom.auth import scopes, tokens
from commonroom.auth.secrets import hash_secret
from commonroom.config.models import Config
from commonroom.db.models import OAuthClient, Server, User
from commonroom.proxy.client import ProxyClient
from commonroom.servers import profiles
from commonroom.servers.environment import server_env
from commonroom.servers.names import server_name_problem
from commonroom.servers.probe import ProbeFailed, wait_until_up
from commonroom.servers.progress import ProgressLog
from commonroom.spawners.base import ServerSpec, SpawnError, Spawner
from commonroom.timeutil import utcnow

log = logging.getLogger(__name__)

Key = tuple[str, str]

# Retry-After range for a start refused by concurrent_spawn_limit (JupyterHub's spawn_throttle_retry_range).
SPAWN_RETRY_SECONDS = (30, 60)


class ServerActionError(Exception):
    """A start or stop that cannot be done now; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class Running:
    """What the manager keeps in memory for a server it has touched since the hub started."""

    spawner: Spawner
    progress: ProgressLog
    task: asyncio.Task[None] | None = None


_SPAWN = "spawn"
"""The name of spawn tasks, to tell them from stop tasks."""


def _too_many(why: str) -> None:
    retry = str(random.randint(*SPAWN_RETRY_SECONDS))
    raise ServerActionError(429, f"{why}; try again in {retry} seconds.", {"Retry-After": retry})


def display_name(user: str, server: str) -> str:
    return f"{user}:{server}" if server else user


class ServerManager:
    def __init__(
        self,
        config: Config,
        sessions: async_sessionmaker[AsyncSession],
        proxy: ProxyClient,
        spawner_factory: Callable[[ServerSpec, dict[str, Any]], Spawner],
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.proxy = proxy
        self.spawner_factory = spawner_factory
        self.live: dict[Key, Running] = {}
        # One start or stop at a time per server, from reading its row to registering its task: a second
        # request then finds the task and joins it, instead of a row already pending with no task yet.
        self._turns: weakref.WeakValueDictionary[Key, asyncio.Lock] = weakref.WeakValueDictionary()
        # Extra environment from the person's sign-in (auth_state_env), set by the hub; may refresh tokens.
        self.auth_env: Callable[[AsyncSession, User], Awaitable[dict[str, str]]] | None = None
        self.http = httpx.AsyncClient(follow_redirects=False)
        # Called with a message when spawner.consecutive_failure_limit spawns in a row have failed.
        self.give_up: Callable[[str], None] | None = None
        self.failures_in_a_row = 0

    def prefix(self, user: str, server: str) -> str:
        return urls.user_prefix(self.config.hub.base_url, user, server)

    def spec(self, user: str, server: str, env: dict[str, str] | None = None, options: Any = None) -> ServerSpec:
        return ServerSpec(user, server, self.prefix(user, server), env or {}, options or {})

    def spawner_for(self, row: Server) -> Spawner:
        key = (row.user.name, row.name)
        if key not in self.live:
            spec = self.spec(row.user.name, row.name, options=row.user_options)
            spawner = self.spawner_factory(spec, dict(row.state))
            self.live[key] = Running(spawner, ProgressLog())
        return self.live[key].spawner

    def progress(self, user: str, server: str) -> ProgressLog | None:
        running = self.live.get((user, server))
        return running.progress if running else None

    # ---- start -------------------------------------------------------------------------------------------

    async def start(
        self, user_name: str, server_name: str = "", options: dict[str, Any] | None = None, label: str | None = None
    ) -> asyncio.Task[None]:
        """Begin starting a server (label: its display name, if given); returns the task that finishes the spawn."""
        async with self._turn(user_name, server_name):
            return await self._begin_start(user_name, server_name, options, label)

    def _turn(self, user_name: str, server_name: str) -> asyncio.Lock:
        """The server's lock, kept only while someone holds it or waits for it (a weak mapping)."""
        return self._turns.setdefault((user_name, server_name), asyncio.Lock())

    async def _begin_start(
        self, user_name: str, server_name: str, options: dict[str, Any] | None, label: str | None
    ) -> asyncio.Task[None]:
        async with self.sessions() as db:
            user = await self._user(db, user_name)
            options = self._with_profile(user, options or {})
            row = await self._server_row(db, user, server_name, create=True)
            running_now = self.live.get((user_name, server_name))
            if row.pending == "spawn" and running_now and running_now.task and not running_now.task.done():
                return running_now.task
            if row.pending is not None:
                raise ServerActionError(400, f"{display_name(user_name, server_name)} is pending {row.pending}")
            if row.target is not None:
                raise ServerActionError(400, f"{display_name(user_name, server_name)} is already running")
            await self._check_spawn_limit(db)
            row.pending, row.failure, row.notice, row.started = "spawn", None, None, utcnow()
            row.user_options = options or {}
            row.state = {}
            if label is not None:
                row.display_name = label
            token = await self._issue_server_credentials(db, user, row)
            extra = await self.auth_env(db, user) if self.auth_env else {}
            await db.commit()
        env = {**extra, **server_env(self.config, user_name, server_name, token)}
        spawner = self.spawner_factory(self.spec(user_name, server_name, env, options), {})
        running = Running(spawner, ProgressLog())
        self.live[(user_name, server_name)] = running
        running.task = asyncio.create_task(self._spawn(row.id, user_name, server_name, running), name=_SPAWN)
        return running.task

    async def _check_spawn_limit(self, db: AsyncSession) -> None:
        hub = self.config.hub
        if hub.concurrent_spawn_limit:
            pending = await db.scalar(select(func.count()).select_from(Server).where(Server.pending == "spawn"))
            if (pending or 0) >= hub.concurrent_spawn_limit:
                _too_many("Too many servers are starting right now")
        if hub.active_server_limit:
            active = Server.target.is_not(None) | Server.pending.is_not(None)
            count = await db.scalar(select(func.count()).select_from(Server).where(active))
            if (count or 0) >= hub.active_server_limit:
                _too_many(f"The hub is running as many servers as it may ({hub.active_server_limit})")

    def _with_profile(self, user: User, options: dict[str, Any]) -> dict[str, Any]:
        """user_options with the resource profile the server will use (the spawner and the culler read it)."""
        groups = [group.name for group in user.groups]
        try:
            profile = profiles.choose(self.config.spawner.profiles, options, groups, user.admin)
        except profiles.ProfileRefused as exc:
            raise ServerActionError(exc.status, exc.message) from exc
        return {**options, "profile": profile.name} if profile else options

    async def _issue_server_credentials(self, db: AsyncSession, user: User, row: Server) -> str:
        """A fresh API token for the server, which is also the secret of its OAuth client."""
        await tokens.revoke_server_tokens(db, row.id)
        prefix = self.prefix(user.name, row.name)
        _, token = await tokens.issue(
            db, user, scopes.server_token_scopes(user.name, row.name), note=f"{tokens.SERVER_TOKEN_NOTE}{prefix}",
            server_id=row.id,
        )  # fmt: skip
        cid = urls.client_id(user.name, row.name)
        await db.execute(delete(OAuthClient).where(OAuthClient.identifier == cid))
        db.add(
            OAuthClient(
                identifier=cid,
                description=f"Server at {prefix}",
                hashed_secret=hash_secret(token),
                redirect_uri=f"{prefix}oauth_callback",
                access_scopes=scopes.access_scopes(user.name, row.name),
                server_id=row.id,
            )
        )
        return token

    async def _spawn(self, server_id: int, user: str, server: str, running: Running) -> None:
        spawner, progress = running.spawner, running.progress
        forward = asyncio.create_task(self._forward_progress(server_id, spawner, progress))
        try:
            try:
                url = await asyncio.wait_for(spawner.start(), self.config.spawner.start_timeout)
            finally:
                forward.cancel()
            await self._save(server_id, state=spawner.state)
            progress.add("Waiting for your server to answer", 80)
            await wait_until_up(
                self.http, f"{url}{self.prefix(user, server)}api", self.config.spawner.http_timeout,
                lambda: self._alive(spawner),
            )  # fmt: skip
            await self.proxy.add_route(self.prefix(user, server), url, {"user": user, "server_name": server})
            await self._save(server_id, state=spawner.state, target=url, pending=None)
            progress.ready(self.prefix(user, server))
            self.failures_in_a_row = 0
            log.info("server %s ready at %s", display_name(user, server), url)
        except asyncio.CancelledError:
            await self._fail(server_id, user, server, running, None)
            raise
        except Exception as exc:
            await self._fail(server_id, user, server, running, self._explain(exc, spawner))
            self._count_failure()

    def _count_failure(self) -> None:
        """Many failures in a row usually mean the machine, not the person: exit so a supervisor steps in."""
        self.failures_in_a_row += 1
        limit = self.config.spawner.consecutive_failure_limit
        if limit and self.failures_in_a_row >= limit and self.give_up is not None:
            self.give_up(
                f"{self.failures_in_a_row} spawns in a row failed (spawner.consecutive_failure_limit = {limit}); "
                "the hub exits so its supervisor can restart it. See the servers' logs for the cause."
            )

    async def _forward_progress(self, server_id: int, spawner: Spawner, progress: ProgressLog) -> None:
        """Relay the spawner's events, saving its state as soon as it changes: if the hub dies mid-spawn,
        the next hub knows which process to clean up."""
        saved: dict[str, Any] = {}
        async for event in spawner.progress():
            progress.add(event.message, event.progress)
            if spawner.state != saved:
                saved = dict(spawner.state)
                await self._save(server_id, state=saved)

    @staticmethod
    async def _alive(spawner: Spawner) -> bool:
        return await spawner.poll() is None

    def _explain(self, exc: Exception, spawner: Spawner) -> str:
        if isinstance(exc, SpawnError):
            return str(exc)
        if isinstance(exc, TimeoutError):
            return (
                f"The server did not start within {self.config.spawner.start_timeout:g} s. "
                "Try again; if it keeps happening, ask an administrator to raise spawner.start_timeout."
            )
        if isinstance(exc, ProbeFailed):
            detail = spawner.failure_detail()
            return f"The server started but {exc}." + (f"\n{detail}" if detail else "")
        log.exception("spawn failed")
        return f"The server could not be started ({type(exc).__name__}: {exc}). An administrator can see the log."

    async def _fail(self, server_id: int, user: str, server: str, running: Running, reason: str | None) -> None:
        """Undo a spawn; `reason` None means it was cancelled on purpose (a stop), which is no failure."""
        log.warning("spawn of %s %s", display_name(user, server), f"failed: {reason}" if reason else "cancelled")
        try:
            await running.spawner.stop(now=True)
        finally:
            await self.proxy.delete_route(self.prefix(user, server))
            await self.mark_stopped(server_id, failure=reason)
            running.progress.failed(reason)

    # ---- stop --------------------------------------------------------------------------------------------

    async def stop(self, user_name: str, server_name: str = "", reason: str | None = None) -> asyncio.Task[None] | None:
        """Begin stopping a server; None if it was not running. `reason` is shown to its owner next time."""
        async with self._turn(user_name, server_name):
            return await self._begin_stop(user_name, server_name, reason)

    async def _begin_stop(self, user_name: str, server_name: str, reason: str | None) -> asyncio.Task[None] | None:
        running = self.live.get((user_name, server_name))
        async with self.sessions() as db:
            user = await self._user(db, user_name)
            row = await self._server_row(db, user, server_name)
            if row.pending == "stop" and running and running.task:
                return running.task
            if row.pending == "spawn" and running and running.task and not running.task.done():
                running.task.cancel()
                await asyncio.gather(running.task, return_exceptions=True)
                return None
            if row.target is None and row.pending is None:
                return None
            spawner = self.spawner_for(row)
            row.pending = "stop"
            await db.commit()
        running = self.live[(user_name, server_name)]
        running.task = asyncio.create_task(self._stop(row.id, user_name, server_name, spawner, reason))
        return running.task

    async def _stop(self, server_id: int, user: str, server: str, spawner: Spawner, reason: str | None) -> None:
        try:
            await self.proxy.delete_route(self.prefix(user, server))
            await spawner.stop()
        finally:
            await self.mark_stopped(server_id, failure=None, notice=reason)
            log.info("server %s stopped", display_name(user, server))

    # ---- watching ----------------------------------------------------------------------------------------

    async def check(self, row: Server) -> None:
        """Notice a server that died on its own: remove its route and tell its owner why next time."""
        spawner = self.spawner_for(row)
        status = await spawner.poll()
        if status is None:
            return
        detail = spawner.failure_detail()
        reason = f"Your server stopped unexpectedly (exit status {status})." + (f"\n{detail}" if detail else "")
        log.warning("server %s died: %s", display_name(row.user.name, row.name), reason)
        await self.proxy.delete_route(self.prefix(row.user.name, row.name))
        await spawner.stop(now=True)
        await self.mark_stopped(row.id, failure=reason)

    async def check_all(self) -> None:
        async with self.sessions() as db:
            rows = (await db.execute(select(Server).where(Server.target.is_not(None), Server.pending.is_(None)))).scalars()
            running = list(rows)
        await asyncio.gather(*(self.check(row) for row in running))

    # ---- persistence helpers -----------------------------------------------------------------------------

    async def _user(self, db: AsyncSession, name: str) -> User:
        user = (await db.execute(select(User).where(User.name == name))).scalar_one_or_none()
        if user is None:
            raise ServerActionError(404, f"No such user: {name}")
        return user

    async def _server_row(self, db: AsyncSession, user: User, name: str, create: bool = False) -> Server:
        row = (
            await db.execute(select(Server).where(Server.user_id == user.id, Server.name == name))
        ).scalar_one_or_none()
        if row is None:
            if not create:
                raise ServerActionError(404, f"{user.name} has no server named {name!r}")
            if name:
                await self._check_new_named(db, user, name)
            row = Server(user_id=user.id, name=name)
            row.user = user
            db.add(row)
            await db.flush()
        return row

    async def _check_new_named(self, db: AsyncSession, user: User, name: str) -> None:
        if not self.config.spawner.allow_named_servers:
            raise ServerActionError(
                400, "Named servers are not enabled on this hub; an administrator can set spawner.allow_named_servers = true."
            )
        problem = server_name_problem(name)
        if problem:
            raise ServerActionError(400, problem)
        limit = self.config.spawner.named_server_limit_per_user
        count = await db.scalar(select(func.count()).select_from(Server).where(Server.user_id == user.id, Server.name != ""))
        if limit and (count or 0) >= limit:
            raise ServerActionError(
                400, f"{user.name} already has {count} named servers, the limit (spawner.named_server_limit_per_user); "
                "delete one first."
            )

    # ---- named servers: create without starting, rename, remove ------------------------------------------

    async def create(self, user_name: str, server_name: str, label: str | None = None) -> Server:
        """A stopped named server (PUT): 409 if it exists."""
        if not server_name:
            raise ServerActionError(409, f"{user_name} always has a default server; name the server to create.")
        async with self.sessions() as db:
            user = await self._user(db, user_name)
            if any(s.name == server_name for s in user.servers):
                raise ServerActionError(409, f"{user_name} already has a server named {server_name!r}")
            row = await self._server_row(db, user, server_name, create=True)
            row.display_name = label
            await db.commit()
            return row

    async def label(self, user_name: str, server_name: str, label: str) -> None:
        """Change the name people see for a server, at any time (running or not)."""
        async with self.sessions() as db:
            row = await self._server_row(db, await self._user(db, user_name), server_name)
            row.display_name = label
            await db.commit()

    async def rename(self, user_name: str, server_name: str, new_name: str) -> None:
        async with self.sessions() as db:
            user = await self._user(db, user_name)
            row = await self._server_row(db, user, server_name)
            if row.target is not None or row.pending is not None:
                raise ServerActionError(400, f"Stop {display_name(user_name, server_name)} before renaming it.")
            if new_name == server_name:
                return
            problem = server_name_problem(new_name)
            if problem:
                raise ServerActionError(400, problem)
            if any(s.name == new_name for s in user.servers):
                raise ServerActionError(409, f"{user_name} already has a server named {new_name!r}")
            row.name = new_name
            await db.commit()
        self.live.pop((user_name, server_name), None)

    async def remove(self, user_name: str, server_name: str) -> None:
        """Forget a stopped named server entirely (DELETE with {"remove": true})."""
        async with self.sessions() as db:
            user = await self._user(db, user_name)
            row = await self._server_row(db, user, server_name)
            if row.target is None and row.pending is None:
                await db.delete(row)
                await db.commit()
                self.live.pop((user_name, server_name), None)

    async def _save(self, server_id: int, **values: Any) -> None:
        async with self.sessions() as db:
            row = await db.get(Server, server_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)
                await db.commit()

    async def mark_stopped(self, server_id: int, failure: str | None, notice: str | None = None) -> None:
        """Back to stopped: no target, no pending action, no spawner state, no server credentials."""
        async with self.sessions() as db:
            row = await db.get(Server, server_id)
            if row is None:
                return
            row.pending, row.target, row.state, row.started = None, None, {}, None
            if failure is not None:
                row.failure = failure
            if notice is not None:
                row.notice = notice
            await tokens.revoke_server_tokens(db, server_id)
            await db.execute(delete(OAuthClient).where(OAuthClient.server_id == server_id))
            await db.commit()

    async def cancel_spawns(self) -> None:
        """Cancel every spawn under way and wait until each has undone what it started (and every stop under
        way has ended)."""
        busy = [r.task for r in self.live.values() if r.task and not r.task.done()]
        for task in busy:
            if task.get_name() == _SPAWN:
                task.cancel()
        await asyncio.gather(*busy, return_exceptions=True)

    async def aclose(self) -> None:
        for running in self.live.values():
            if running.task and not running.task.done():
                running.task.cancel()
        await self.http.aclose()
