"""API tokens of a user: create (with scopes, expiry and note), list, look at and revoke."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from commonroom.api.deps import DB, CallerDep, HubDep, MaybeCallerDep, find_user, require
from commonroom.auth import mfa, roles, signin, throttle, tokens
from commonroom.auth import scopes as scope_rules
from commonroom.auth.scopes import Target
from commonroom.db.models import APIToken, User
from commonroom.timeutil import isoformat, utcnow
from commonroom.web.errors import MISSING_CREDENTIALS, APIError
from commonroom.web.identity import Caller, client_address, from_password

router = APIRouter()


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=1023)
    expires_in: int | None = Field(None, gt=0)
    scopes: list[str] | None = None
    # JupyterHub's way for a script without a token: {"auth": {"username": ..., "password": ...}}.
    auth: dict[str, str] | None = None


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


async def grantable(db: AsyncSession, caller: Caller, user: User, wanted: list[str]) -> list[str]:
    """The scopes to store for a new token of `user`; 400 when one is unknown or beyond what the caller and
    the owner both hold (a token never holds more than its owner, nor more than the token that made it)."""
    try:
        for scope in wanted:
            if scope != "inherit":
                scope_rules.validate(scope)
        expanded = scope_rules.expand([s for s in wanted if s != "inherit"], user.name)
    except scope_rules.ScopeError as exc:
        raise APIError(400, str(exc)) from None
    beyond = expanded - scope_rules.intersect(expanded, caller.scopes & await roles.scopes_of(db, user))
    if beyond or ("inherit" in wanted and caller.via == "token" and caller.token and "inherit" not in caller.token.scopes):
        raise APIError(400, f"Not assigning requested scopes {sorted(beyond) or ['inherit']}: you do not hold them.")
    return wanted


async def _password_caller(request: Request, hub: HubDep, db: DB, name: str, auth: dict[str, str] | None) -> Caller:
    """The person whose name and password came in the body, for a caller with no token or session."""
    if auth is None:
        raise APIError(403, MISSING_CREDENTIALS)
    form = {"username": name, **auth}
    config = hub.config.auth
    try:
        user = await signin.with_form(db, hub.authenticator, config, hub.secrets.encryption_key, form, client_address(request))
    except signin.SignInRefused as exc:
        raise APIError(exc.status, exc.message) from None
    if user.name != name:
        raise APIError(403, f"The password given is {user.name}'s, not {name}'s.")
    if mfa.stage(user, config) is not None:
        raise APIError(403, f"{name} signs in with a one-time code: sign in and make tokens on the token page instead.")
    await throttle.record_success(db, user.name)
    return await from_password(db, user)


@router.post("/users/{name}/tokens", status_code=201)
async def create_token(
    name: str, body: TokenRequest, request: Request, hub: HubDep, maybe: MaybeCallerDep, db: DB
) -> JSONResponse:
    caller = maybe or await _password_caller(request, hub, db, name, body.auth)
    require(caller, "tokens", Target(user=name))
    user = await find_user(db, name)
    wanted = await grantable(db, caller, user, body.scopes if body.scopes is not None else ["inherit"])
    row, token = await tokens.issue(db, user, wanted, note=body.note, expires_in=body.expires_in)
    await db.commit()
    return JSONResponse({**token_model(row), "token": token}, status_code=201)


async def live_tokens(db: AsyncSession, user_id: int) -> list[APIToken]:
    """The user's unexpired tokens; expired ones are deleted on the way (JupyterHub prunes them too)."""
    now = utcnow()
    await db.execute(delete(APIToken).where(APIToken.user_id == user_id, APIToken.expires_at <= now))
    await db.commit()
    return list((await db.execute(select(APIToken).where(APIToken.user_id == user_id).order_by(APIToken.id))).scalars())


async def _token(db: AsyncSession, user_id: int, token_id: str) -> APIToken:
    number = token_id[1:] if token_id.startswith("a") else ""
    row = await db.get(APIToken, int(number)) if number.isdigit() else None
    if row is None or row.user_id != user_id or (row.expires_at is not None and row.expires_at <= utcnow()):
        raise APIError(404, f"Token {token_id} not found")
    return row


@router.get("/users/{name}/tokens")
async def list_tokens(name: str, caller: CallerDep, db: DB) -> dict[str, list[dict[str, Any]]]:
    require(caller, "read:tokens", Target(user=name))
    user = await find_user(db, name)
    return {"api_tokens": [token_model(row) for row in await live_tokens(db, user.id)]}


@router.get("/users/{name}/tokens/{token_id}")
async def get_token(name: str, token_id: str, caller: CallerDep, db: DB) -> dict[str, Any]:
    require(caller, "read:tokens", Target(user=name))
    user = await find_user(db, name)
    return token_model(await _token(db, user.id, token_id))


@router.delete("/users/{name}/tokens/{token_id}", status_code=204)
async def revoke_token(name: str, token_id: str, caller: CallerDep, db: DB) -> Response:
    require(caller, "tokens", Target(user=name))
    user = await find_user(db, name)
    row = await _token(db, user.id, token_id)
    if row.oauth_client_id:
        await db.execute(delete(APIToken).where(APIToken.user_id == user.id, APIToken.oauth_client_id == row.oauth_client_id))
    else:
        await db.delete(row)
    await db.commit()
    return Response(status_code=204)
