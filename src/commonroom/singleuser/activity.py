"""Tell the hub when this server was last used, so its idle culler stops only servers nobody is using.

jupyter_server already records web requests, kernel messages and terminal output. That misses work that is
silent: a kernel computing for an hour without printing, or a build running in a terminal. So a kernel whose
state is "busy", or a terminal whose foreground process is not its shell, counts as activity right now.
Reports go out every JUPYTERHUB_ACTIVITY_INTERVAL seconds (±10 %, so many servers started together do not
report in lockstep), only when something happened since the last one.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from commonroom.singleuser.hubapi import HubAPI, HubError
from commonroom.timeutil import isoformat

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from commonroom.singleuser.environment import HubEnvironment

RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0)
"""Back-off between tries of one report: from 1 s up to 15 s, a minute in all, as JupyterHub's servers do."""


def activity_body(server_name: str, when: datetime) -> dict[str, Any]:
    """The hub's activity payload for one server."""
    stamp = isoformat(when)
    return {"servers": {server_name: {"last_activity": stamp}}, "last_activity": stamp}


def jittered(interval: float) -> float:
    return interval * random.uniform(0.9, 1.1)


def kernel_busy(states: Iterable[str]) -> bool:
    return any(state == "busy" for state in states)


def foreground_job(ptys: Iterable[tuple[int, int]]) -> bool:
    """Whether any terminal, given as (pty master fd, shell pid), runs something other than its shell.

    The pty's foreground process group is the shell's own pid while it waits at a prompt and the job's
    group while a command runs, so one tcgetpgrp call per terminal tells them apart.
    """
    for fd, shell_pid in ptys:
        try:
            if os.tcgetpgrp(fd) != shell_pid:
                return True
        except OSError:
            continue
    return False


class ActivityReporter:
    """Collects this server's latest activity and posts it to the hub."""

    def __init__(self, serverapp: ServerApp, hub: HubAPI, env: HubEnvironment) -> None:
        self._serverapp = serverapp
        self._hub = hub
        self._env = env
        self._last_sent: datetime | None = None

    def latest(self, now: datetime) -> datetime:
        """When this server was last used; `now` while a kernel or terminal job is running."""
        if kernel_busy(self._kernel_states()) or foreground_job(self._terminal_ptys()):
            return now
        recorded: datetime = self._serverapp.web_app.last_activity()  # type: ignore[no-untyped-call]
        return recorded

    async def report_once(self) -> bool:
        """Post the latest activity if it is newer than the last report; whether a report was sent."""
        latest = self.latest(datetime.now(UTC))
        if self._last_sent is not None and latest <= self._last_sent:
            return False
        if await self._post(activity_body(self._env.server_name, latest)):
            self._last_sent = latest
            return True
        return False

    async def _post(self, body: dict[str, Any]) -> bool:
        delays = iter(RETRY_DELAYS)
        while True:
            try:
                await self._hub.post_activity(self._env.activity_url, body)
                return True
            except HubError as exc:
                delay = next(delays, None)
                if delay is None:
                    self._serverapp.log.error("Gave up reporting activity to the hub: %s", exc)
                    return False
                self._serverapp.log.warning("Activity report failed, retrying in %.0f s: %s", delay, exc)
                await asyncio.sleep(delay)

    async def run(self) -> None:
        """Report forever; nothing that goes wrong here may stop the server."""
        interval = self._env.activity_interval
        self._serverapp.log.info("Reporting activity to the hub every %s s", interval)
        while True:
            try:
                await self.report_once()
            except Exception:
                self._serverapp.log.exception("Activity report failed")
            await asyncio.sleep(jittered(interval))

    def _kernel_states(self) -> list[str]:
        kernels = self._serverapp.kernel_manager
        models = [kernels.kernel_model(kid) for kid in kernels.list_kernel_ids()]  # type: ignore[no-untyped-call]
        return [str(model.get("execution_state", "")) for model in models]

    def _terminal_ptys(self) -> list[tuple[int, int]]:
        terminals = self._serverapp.web_app.settings.get("terminal_manager")
        if terminals is None:
            return []
        return [(term.ptyproc.fd, term.ptyproc.pid) for term in terminals.terminals.values()]
