"""Who is calling: a token in the Authorization header, or a signed-in browser's session cookie.

The hub never reads tokens from the URL. A request that presents a token is judged by the token alone, even
if it also carries a cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from commonroom.auth import scopes as scope_rules
from commonroom.auth import tokens
from commonroom.auth.secrets import hash_secret, new_url_secret
from commonroom.db.models import APIToken, BrowserSession, User
from commonroom.timeutil import utcnow

SESSION_COOKIE = "commonroom-session"


@dataclass(frozen=True)
class Caller:
    user: User
    scopes: frozenset[str]
    via: Literal["token", "cookie"]
    token: APIToken | None = None

    def check(self, required: str | tuple[str, ...], target: scope_rules.Target | None = None) -> scope_rules.Access:
        wanted = (required,) if isinstance(required, str) else required
        return scope_rules.check_any(self.scopes, wanted, target)


def user_target(user: User, server: str | None = None) -> scope_rules.Target:
    return scope_rules.Target(user=user.name, server=f"{user.name}/{server}" if server is not None else None)


def owner_scopes(user: User) -> frozenset[str]:
    return scope_rules.expand(scope_rules.role_scopes(user.admin), user.name)


def header_token(request: Request) -> str | None:
    """The token of an `Authorization: token|bearer <t>` header, or None."""
    value = request.headers.get("authorization", "")
    parts = value.split()
    if len(parts) == 2 and parts[0].lower() in ("token", "bearer"):
        return parts[1]
    return None


async def from_token(db: AsyncSession, token: str) -> Caller | None:
    row = await tokens.find(db, token)
    if row is None:
        return None
    now = utcnow()
    if row.last_activity is None or now - row.last_activity > timedelta(seconds=30):
        row.last_activity = now
        if not row.note.startswith(tokens.SERVER_TOKEN_NOTE):
            row.user.last_activity = now
        await db.commit()
    return Caller(row.user, tokens.effective_scopes(row), "token", row)


async def from_cookie(db: AsyncSession, request: Request) -> Caller | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    query = select(BrowserSession).where(BrowserSession.hashed == hash_secret(secret))
    session = (await db.execute(query)).scalar_one_or_none()
    if session is None or session.expires_at <= utcnow():
        return None
    user = await db.get(User, session.user_id)
    if user is None or not user.approved:
        return None
    return Caller(user, owner_scopes(user), "cookie")


async def identify(db: AsyncSession, request: Request) -> Caller | None:
    token = header_token(request)
    if token is not None:
        return await from_token(db, token)
    return await from_cookie(db, request)


async def open_session(db: AsyncSession, response: Response, user: User, path: str, days: float, secure: bool) -> None:
    """Sign a browser in: a new random session id, stored hashed, sent as an http-only cookie."""
    secret = new_url_secret()
    db.add(BrowserSession(hashed=hash_secret(secret), user_id=user.id, expires_at=utcnow() + timedelta(days=days)))
    user.last_activity = utcnow()
    await db.commit()
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=int(days * 86400), path=path, httponly=True, samesite="lax", secure=secure
    )


async def close_session(db: AsyncSession, request: Request, response: Response, path: str) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await db.execute(delete(BrowserSession).where(BrowserSession.hashed == hash_secret(secret)))
        await db.commit()
    response.delete_cookie(SESSION_COOKIE, path=path)
