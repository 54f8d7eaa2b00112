"""API tokens of a user: create (with scopes, expiry and note) and list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from commonroom.api.deps import DB, CallerDep, find_user, require
from commonroom.auth import scopes as scope_rules
from commonroom.auth import tokens
from commonroom.auth.scopes import Target
from commonroom.db.models import APIToken
from commonroom.timeutil import isoformat
from commonroom.web.errors import APIError
from commonroom.web.identity import owner_scopes

router = APIRouter()


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=1023)
    expires_in: int | None = Field(None, gt=0)
    scopes: list[str] | None = None


def token_model(row: APIToken) -> dict[str, Any]:
    return {
        "kind": "api_token",
        "id": f"a{row.id}",
        "user": row.user.name,
        "roles": [],
        "scopes": row.scopes,
        "note": row.note,
        "created": isoformat(row.created),
        "last_activity": isoformat(row.last_activity),
        "expires_at": isoformat(row.expires_at),
        "session_id": row.session_id,
        "oauth_client": row.oauth_client_id,
    }


@router.post("/users/{name}/tokens", status_code=201)
async def create_token(name: str, body: TokenRequest, caller: CallerDep, db: DB) -> JSONResponse:
    require(caller, "tokens", Target(user=name))
    user = await find_user(db, name)
    wanted = body.scopes if body.scopes is not None else ["inherit"]
    try:
        expanded = scope_rules.expand([s for s in wanted if s != "inherit"], user.name)
    except scope_rules.ScopeError as exc:
        raise APIError(400, str(exc)) from None
    for scope in wanted:
        if scope != "inherit":
            try:
                scope_rules.validate(scope)
            except scope_rules.ScopeError as exc:
                raise APIError(400, str(exc)) from None
    beyond = expanded - scope_rules.intersect(expanded, caller.scopes & owner_scopes(user))
    if beyond or ("inherit" in wanted and caller.via == "token" and caller.token and "inherit" not in caller.token.scopes):
        raise APIError(400, f"Not assigning requested scopes {sorted(beyond) or ['inherit']}: you do not hold them.")
    row, token = await tokens.issue(db, user, wanted, note=body.note, expires_in=body.expires_in)
    await db.commit()
    return JSONResponse({**token_model(row), "token": token}, status_code=201)
