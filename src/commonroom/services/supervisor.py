"""Managed services: the hub starts each one, starts it again with back-off when it dies, and leaves it
running when the hub itself stops, so a restarted hub finds it again (by pid and start time, as servers are
found) instead of starting a second copy. `commonroom shutdown` stops them.

A service's output goes to <data_dir>/logs/service-<name>.log; a restart appends to it after a line that says
how the previous process ended.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import pwd
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commonroom import urls
from commonroom.background import cancel_and_wait
from commonroom.config.models import Config, ServiceConfig
from commonroom.db.models import Service
from commonroom.servers.environment import hub_client_env
from commonroom.servers.probe import ProbeFailed, wait_until_up
from commonroom.services import registry
from commonroom.spawners import procs

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.5
RESTART_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""Seconds before each successive restart of a service that keeps dying; the last one repeats."""
STABLE_SECONDS = 60.0
"""A process that ran this long counts as healthy: its next death is restarted after the shortest delay."""
PROBE_SECONDS = 30.0
STOP_GRACE_SECONDS = 5.0
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
"""What a managed service inherits from the hub's own environment (as JupyterHub's env_keep)."""


class ServiceStartError(Exception):
    """A managed service cannot be started as configured; the message names the setting to fix."""


def service_env(config: Config, spec: ServiceConfig, token: str) -> dict[str, str]:
    """The JUPYTERHUB_* variables of a managed service: those of a server but the activity URL, plus its name."""
    prefix = urls.service_prefix(config.hub.base_url, spec.name)
    access = ["access:services", registry.access_scope(spec.name)]
    env = hub_client_env(config, token, spec.client_id, registry.redirect_uri(config.hub.base_url, spec), access)
    env.update(JUPYTERHUB_SERVICE_NAME=spec.name, JUPYTERHUB_USER=spec.user)
    if spec.url:
        env.update(JUPYTERHUB_SERVICE_URL=spec.url, JUPYTERHUB_SERVICE_PREFIX=prefix)
    return env


def fingerprint(spec: ServiceConfig) -> str:
    """What a running process was started from: when the config changes it, a restarted hub starts it anew."""
    fields = spec.model_dump(mode="json", include={"command", "environment", "cwd", "user", "url", "api_token", "oauth_client_id"})
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def restart_delay(failures: int) -> float:
    return RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]


def account_for(spec: ServiceConfig) -> tuple[procs.RunAs | None, str]:
    """Whom the service runs as, and its home."""
    if not spec.user:
        return None, os.environ.get("HOME", "/")
    try:
        entry = pwd.getpwnam(spec.user)
    except KeyError:
        raise ServiceStartError(f"services.{spec.name}.user: there is no OS account {spec.user!r}; create it or "
                                "leave user empty to run the service as the hub's own account") from None  # fmt: skip
    if entry.pw_uid != os.geteuid() and os.geteuid() != 0:
        raise ServiceStartError(f"services.{spec.name}.user = {spec.user!r} needs the hub to run as root; "
                                "leave user empty to run the service as the hub's own account")  # fmt: skip
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return procs.RunAs(entry.pw_uid, entry.pw_gid, groups), entry.pw_dir


class Supervisor:
    """Runs the config's managed services for one hub process."""

    def __init__(self, config: Config, sessions: async_sessionmaker[AsyncSession], data_dir: Path) -> None:
        self.config = config
        self.sessions = sessions
        self.log_dir = data_dir / "logs"
        self.cwd = data_dir
        self.specs = {spec.name: spec for spec in config.services if spec.command}
        self._procs: dict[str, procs.ProcessId] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"service-{name}.log"

    def pid(self, name: str) -> int:
        """The running process of a managed service, or 0 (JupyterHub's value for none).

        As the watcher last saw it (at most CHECK_SECONDS old): asking the process itself would reap a dead
        child here and leave the watcher without its exit status.
        """
        proc = self._procs.get(name)
        return proc.pid if proc is not None else 0

    async def start(self) -> None:
        """Find each managed service a previous hub left running, or start it; then watch them all."""
        for spec in self.specs.values():
            self._procs[spec.name] = await self._find_or_launch(spec)
        self._tasks = [asyncio.create_task(self._watch(spec)) for spec in self.specs.values()]
        self._tasks += [asyncio.create_task(self._probe(spec)) for spec in self.specs.values() if spec.url]

    async def aclose(self) -> None:
        """Stop watching; the processes keep running for the next hub to find."""
        await cancel_and_wait(self._tasks)
        self._tasks = []

    async def stop_all(self) -> int:
        """Stop every managed service (`commonroom shutdown`, POST /shutdown); returns how many were running."""
        await self.aclose()
        self._procs.clear()
        return await self._stop_recorded(keep=set())

    async def stop_unlisted(self) -> int:
        """Stop the processes of services the config no longer runs (a hub restarted after removing one), before
        their rows, which remember the processes, are rewritten."""
        return await self._stop_recorded(keep=set(self.specs))

    async def _stop_recorded(self, keep: set[str]) -> int:
        stopped = 0
        async with self.sessions() as db:
            for row in (await db.execute(select(Service))).scalars():
                proc = procs.ProcessId.from_state(row.state)
                if proc is None or row.name in keep:
                    continue
                if procs.exit_status(proc) is None:
                    log.info("service %s: stopping its process (pid %d)", row.name, proc.pid)
                    stopped += 1
                await procs.terminate(proc, STOP_GRACE_SECONDS)
                row.state = {}
            await db.commit()
        return stopped

    async def _find_or_launch(self, spec: ServiceConfig) -> procs.ProcessId:
        async with self.sessions() as db:
            row = await registry.find(db, spec.name)
            state = dict(row.state) if row is not None else {}
        proc = procs.ProcessId.from_state(state)
        if proc is not None and procs.exit_status(proc) is None:
            if state.get("fingerprint") == fingerprint(spec):
                log.info("service %s: found its process (pid %d) from before the hub restarted", spec.name, proc.pid)
                return proc
            log.info("service %s: its settings changed; stopping the old process (pid %d)", spec.name, proc.pid)
            await procs.terminate(proc, STOP_GRACE_SECONDS)
        return await self._launch(spec, rotate=True)

    async def _launch(self, spec: ServiceConfig, rotate: bool) -> procs.ProcessId:
        run_as, home = account_for(spec)
        async with self.sessions() as db:
            row = await registry.find(db, spec.name)
            assert row is not None, "services are synced from the config before they start"
            token = spec.api_token or await registry.launch_token(db, row)
            env = {k: os.environ[k] for k in KEPT_ENV if k in os.environ}
            env.update(HOME=home, USER=spec.user or pwd.getpwuid(os.geteuid()).pw_name)
            env.update(service_env(self.config, spec, token))
            env.update(spec.environment)
            log_fd = procs.open_log(self.log_path(spec.name), rotate)
            try:
                proc = procs.launch(spec.command, env=env, cwd=spec.cwd or (Path(home) if run_as else self.cwd),
                                    log_fd=log_fd, run_as=run_as)  # fmt: skip
            except OSError as exc:
                raise ServiceStartError(f"services.{spec.name}.command {spec.command!r} cannot run: "
                                        f"{exc.strerror or exc}. Fix the command (an absolute path is safest).") from None  # fmt: skip
            finally:
                os.close(log_fd)
            row.state = {**proc.to_state(), "fingerprint": fingerprint(spec)}
            await db.commit()
        log.info("service %s: started (pid %d), output in %s", spec.name, proc.pid, self.log_path(spec.name))
        return proc

    async def _watch(self, spec: ServiceConfig) -> None:
        """Start the service again whenever it dies, waiting longer after each quick death."""
        loop = asyncio.get_running_loop()
        failures, since = 0, loop.time()
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            proc = self._procs.get(spec.name)
            status = procs.exit_status(proc) if proc is not None else 0
            if status is None:
                continue
            failures = 0 if loop.time() - since >= STABLE_SECONDS else failures
            delay = restart_delay(failures)
            ended = f"{procs.describe_exit(status)}" if proc is not None else "could not be started"
            log.warning("service %s %s; starting it again in %g s", spec.name, ended, delay)
            self._note(spec.name, f"--- the hub: this service {ended}; starting it again in {delay:g} s ---\n")
            self._procs.pop(spec.name, None)
            await asyncio.sleep(delay)
            failures, since = failures + 1, loop.time()
            try:
                self._procs[spec.name] = await self._launch(spec, rotate=False)
            except ServiceStartError as exc:
                log.error("%s", exc)

    def _note(self, name: str, line: str) -> None:
        """A line in the service's own log, so whoever reads it sees where one run ended and the next began."""
        log_fd = procs.open_log(self.log_path(name), rotate=False)
        try:
            os.write(log_fd, line.encode())
        finally:
            os.close(log_fd)

    async def _probe(self, spec: ServiceConfig) -> None:
        """Tell in the hub's log whether the service answers at its url (any status below 500 counts)."""
        parts = urlsplit(spec.url)
        url = f"{parts.scheme}://{parts.netloc}{urls.service_prefix(self.config.hub.base_url, spec.name)}"

        async def alive() -> bool:
            return self.pid(spec.name) != 0

        async with httpx.AsyncClient() as client:
            try:
                await wait_until_up(client, url, PROBE_SECONDS, alive)
            except ProbeFailed as exc:
                log.error("service %s: %s at %s; its log is %s", spec.name, str(exc).replace("server", "service"),
                          url, self.log_path(spec.name))  # fmt: skip
                return
        log.info("service %s answers at %s", spec.name, url)
