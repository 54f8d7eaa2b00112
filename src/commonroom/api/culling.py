"""When the culler will stop a server, and "keep it running": for the home page's script, JupyterLab's
banner (through the server, with its token) and any API client."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from commonroom.api.deps import DB, CallerDep, HubDep, require
from commonroom.api.servers import _row
from commonroom.auth.scopes import Target
from commonroom.culling.decide import Verdict
from commonroom.servers.manager import display_name
from commonroom.timeutil import isoformat, utcnow
from commonroom.web.errors import APIError

router = APIRouter()

MIN_POLL_SECONDS, MAX_POLL_SECONDS = 2.0, 30.0
"""How often a page showing the status should ask again: a fifth of the warning time, within these bounds."""


def status_model(verdict: Verdict, warning_before: float) -> dict[str, Any]:
    now = utcnow()
    poll = min(MAX_POLL_SECONDS, max(MIN_POLL_SECONDS, warning_before / 5))
    return {
        "action": verdict.action,
        "cause": verdict.cause,
        "cull_at": isoformat(verdict.deadline),
        "seconds_left": verdict.seconds_left(now),
        "warning": verdict.warning(now),
        "poll_seconds": poll,
    }


@router.get("/users/{name}/server/cull")
@router.get("/users/{name}/servers/{server}/cull")
async def cull_status(name: str, caller: CallerDep, db: DB, hub: HubDep, server: str = "") -> dict[str, Any]:
    require(caller, ("read:servers", "users:activity"), Target(user=name, server=f"{name}/{server}"))
    row = await _row(db, name, server)
    return status_model(hub.culler.verdict(row, utcnow()), hub.config.culler.warning_before)


@router.post("/users/{name}/server/cull")
@router.post("/users/{name}/servers/{server}/cull")
async def keep_running(name: str, caller: CallerDep, db: DB, hub: HubDep, server: str = "") -> dict[str, Any]:
    """Postpone an idle stop: counts as activity now (a maximum age is not postponed)."""
    require(caller, ("servers", "users:activity"), Target(user=name, server=f"{name}/{server}"))
    row = await _row(db, name, server)
    if not row.running:
        raise APIError(400, f"{display_name(name, server)} is not running, so there is nothing to keep running.")
    return status_model(await hub.culler.keep_alive(db, row), hub.config.culler.warning_before)
