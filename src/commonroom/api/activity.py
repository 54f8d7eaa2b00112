"""Activity reports from servers and other clients (validated as JupyterHub does)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from commonroom.api.deps import DB, CallerDep, find_user, require
from commonroom.auth.scopes import Target
from commonroom.timeutil import parse_iso, utcnow
from commonroom.web.errors import APIError

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


@router.post("/users/{name}/activity")
async def activity(name: str, request: Request, caller: CallerDep, db: DB) -> Response:
    require(caller, "users:activity", Target(user=name))
    user = await find_user(db, name)
    try:
        report = ActivityReport.model_validate_json(await request.body())
    except ValidationError as exc:
        raise APIError(400, f"Invalid activity report: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}") from None
    if report.last_activity is None and not report.servers:
        raise APIError(400, "An activity report needs last_activity and/or servers.")
    by_name = {s.name: s for s in user.servers}
    for server_name, entry in report.servers.items():
        if server_name not in by_name:
            raise APIError(400, f"No such server '{server_name}' for user {name}")
        when = _timestamp(entry.last_activity, f"servers.{server_name}.last_activity")
        row = by_name[server_name]
        row.last_activity = max(row.last_activity or when, when)
    if report.last_activity:
        when = _timestamp(report.last_activity, "last_activity")
        user.last_activity = max(user.last_activity or when, when)
    await db.commit()
    return Response(status_code=200)

