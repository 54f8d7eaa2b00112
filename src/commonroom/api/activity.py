"""Activity reports from servers and other clients (validated as JupyterHub does)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Update, bindparam, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from commonroom.api.deps import DB, CallerDep, require
from commonroom.auth.scopes import Target
from commonroom.db.models import SERVERS, USERS
from commonroom.timeutil import parse_iso, utcnow
from commonroom.web.errors import NOT_FOUND_OR_NO_ACCESS, APIError

router = APIRouter()


class ServerActivity(BaseModel):
    model_config = ConfigDict(extra="allow")
    last_activity: str


class ActivityReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    last_activity: str | None = None
    servers: dict[str, ServerActivity] = {}


def _timestamp(text: str, what: str) -> datetime:
    try:
        value = parse_iso(text)
    except ValueError:
        raise APIError(400, f"{what}: {text!r} is not an ISO-8601 timestamp") from None
    if value - utcnow() > timedelta(minutes=59):
        raise APIError(400, f"{what}: {text} is in the future")
    return value


def _checked(body: bytes) -> tuple[datetime | None, dict[str, datetime]]:
    """The report's own time and its servers' times, every one checked before anything is written."""
    try:
        report = ActivityReport.model_validate_json(body)
    except ValidationError as exc:
        raise APIError(400, f"Invalid activity report: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}") from None
    if report.last_activity is None and not report.servers:
        raise APIError(400, "An activity report needs last_activity and/or servers.")
    servers = {n: _timestamp(e.last_activity, f"servers.{n}.last_activity") for n, e in report.servers.items()}
    return (_timestamp(report.last_activity, "last_activity") if report.last_activity else None), servers


def _later(column: Any) -> Any:
    """The column's time or the reported one, whichever is later: a late report never moves activity back."""
    when = bindparam("when", type_=column.type)
    return case((or_(column.is_(None), column < when), when), else_=column)


# Built once, on the tables: these run for every report, and building an ORM statement costs more than running it.
_users, _servers = USERS.c, SERVERS.c
_USER_ID = select(_users.id).where(_users.name == bindparam("user_name"))
_USER_SEEN = update(USERS).where(_users.name == bindparam("user_name"))
_USER_SEEN = _USER_SEEN.values(last_activity=_later(_users.last_activity))
_SERVER_SEEN = update(SERVERS).where(
    _servers.user_id == _USER_ID.scalar_subquery(), _servers.name == bindparam("server_name")
).values(last_activity=_later(_servers.last_activity))


async def _require_user(db: AsyncSession, name: str) -> None:
    if await db.scalar(_USER_ID, {"user_name": name}) is None:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)


@router.post("/users/{name}/activity")
async def activity(name: str, request: Request, caller: CallerDep, db: DB) -> Response:
    """One UPDATE per time reported, without loading the user: every running server reports every few
    minutes, so a large hub receives these all day. An unknown user is a 404 before any problem in the body."""
    require(caller, "users:activity", Target(user=name))
    try:
        last_activity, servers = _checked(await request.body())
    except APIError:
        await _require_user(db, name)
        raise
    for server_name, when in servers.items():
        if not await _changed(db, _SERVER_SEEN, {"user_name": name, "server_name": server_name, "when": when}):
            await _require_user(db, name)
            raise APIError(400, f"No such server '{server_name}' for user {name}")
    if last_activity is not None and not await _changed(db, _USER_SEEN, {"user_name": name, "when": last_activity}):
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)
    await db.commit()
    return Response(status_code=200)


async def _changed(db: AsyncSession, statement: Update, values: dict[str, Any]) -> bool:
    """Whether the UPDATE found its row (a table statement: the session's objects are left as they are)."""
    result = await db.execute(statement, values)
    return bool(result.rowcount)  # type: ignore[attr-defined]
