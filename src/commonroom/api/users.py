"""Who am I, users, and activity reports from servers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from commonroom.api.deps import DB, CallerDep, HubDep, find_user, require
from commonroom.api.models import user_model
from commonroom.auth.scopes import Target
from commonroom.db.models import User
from commonroom.timeutil import parse_iso, utcnow
from commonroom.web.errors import APIError

router = APIRouter()


@router.get("/user")
async def whoami(hub: HubDep, caller: CallerDep) -> dict[str, Any]:
    model = user_model(caller, caller.user, hub.config.hub.base_url)
    model["scopes"] = sorted(caller.scopes)
    model["token_id"] = f"a{caller.token.id}" if caller.token else None
    model["session_id"] = caller.token.session_id if caller.token else None
    return model


@router.get("/users")
async def list_users(hub: HubDep, caller: CallerDep, db: DB, offset: int = 0, limit: int = 200) -> list[dict[str, Any]]:
    require(caller, "list:users")
    if offset < 0 or not 1 <= limit <= 200:
        raise APIError(400, "offset must be >= 0 and limit between 1 and 200")
    users = (await db.execute(select(User).order_by(User.id).offset(offset).limit(limit))).scalars()
    return [user_model(caller, u, hub.config.hub.base_url) for u in users]


@router.get("/users/{name}")
async def get_user(name: str, hub: HubDep, caller: CallerDep, db: DB) -> dict[str, Any]:
    readers = ("read:users", "read:users:name", "read:servers", "read:users:groups", "read:users:activity")
    require(caller, readers, Target(user=name))
    return user_model(caller, await find_user(db, name), hub.config.hub.base_url)


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

