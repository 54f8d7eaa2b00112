"""Who is calling: a token in the Authorization header, or a signed-in browser's session cookie.

The hub never reads tokens from the URL. A request that presents a token is judged by the token alone, even
if it also carries a cookie.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from starlette.requests import Request
from starlette.responses import Response

from commonroom.auth import roles, tokens
from commonroom.auth import scopes as scope_rules
from commonroom.auth.secrets import hash_secret, new_url_secret
from commonroom.db.models import APIToken, BrowserSession, Service, User
from commonroom.timeutil import utcnow
from commonroom.web.errors import APIError
from commonroom.web.token_cache import TokenCache

SESSION_COOKIE = "commonroom-session"
# How the caller proved who it is: an API token, a browser session, or a name and password in the request.
Via = Literal["token", "cookie", "password"]
ACTIVITY_STEP = timedelta(seconds=30)


@dataclass(frozen=True)
class Caller:
    """A user or a service (through its own token), with what it may do on this request.

    `members` holds the members of the groups named in the caller's !group= filters, so checks need no query.
    """

    owner: User | Service
    scopes: frozenset[str]
    via: Via
    token: APIToken | None = None
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def user(self) -> User:
        """The person calling. A service reaching an action only people can take gets a 403, never a crash."""
        if isinstance(self.owner, User):
            return self.owner
        raise APIError(403, f"Service {self.owner.name} cannot do this: it needs a user's token.")

    @property
    def service(self) -> Service | None:
        return self.owner if isinstance(self.owner, Service) else None

    @property
    def name(self) -> str:
        return self.owner.name

    @property
    def admin(self) -> bool:
        return self.owner.admin

    def is_user(self, user: User) -> bool:
        return isinstance(self.owner, User) and self.owner.id == user.id

    def check(self, required: str | tuple[str, ...], target: scope_rules.Target | None = None) -> scope_rules.Access:
        wanted = (required,) if isinstance(required, str) else required
        return scope_rules.check_any(self.scopes, wanted, target, self.members)


async def _caller(
    db: AsyncSession, owner: User | Service, via: Via, token: APIToken | None = None
) -> Caller:
    held = await roles.scopes_of(db, owner)
    scopes = tokens.effective_scopes(token, held) if token is not None else held
    return Caller(owner, scopes, via, token, await roles.members_of(db, scope_rules.filtered_groups(scopes)))


def header_token(request: Request) -> str | None:
    """The token of an `Authorization: token|bearer <t>` header, or None."""
    value = request.headers.get("authorization", "")
    parts = value.split()
    if len(parts) == 2 and parts[0].lower() in ("token", "bearer"):
        return parts[1]
    return None


async def from_token(db: AsyncSession, token: str, cache: TokenCache | None = None) -> Caller | None:
    key = hash_secret(token)
    caller = cache.get(key) if cache is not None else None
    if caller is None:
        counter_before = cache.counter.value if cache is not None else 0
        caller = await _verify_token(db, token)
        if caller is None:
            return None
        # Cached or not, a token's caller is detached from the request's session: it is the first thing the
        # session loaded, and so handlers that expire or reload objects never touch an object others share.
        db.expunge_all()
        if cache is not None:
            cache.put(key, caller, counter_before)
    assert caller.token is not None
    await _note_use(db, caller.token)
    return caller


async def _verify_token(db: AsyncSession, token: str) -> Caller | None:
    row = await tokens.find(db, token)
    if row is None:
        return None
    owner: User | Service | None = row.user if row.user_id is not None else row.service
    if owner is None:
        return None
    return await _caller(db, owner, "token", row)


async def _note_use(db: AsyncSession, row: APIToken) -> None:
    """Record when a token (and a person, through a token of theirs that is no server's) was last used, at
    most every ACTIVITY_STEP: an UPDATE of activity times only, which leaves cached tokens valid."""
    now = utcnow()
    if row.last_activity is not None and now - row.last_activity <= ACTIVITY_STEP:
        return
    set_committed_value(row, "last_activity", now)  # the cached copy's too: the next request does not write
    await db.execute(update(APIToken).where(APIToken.id == row.id).values(last_activity=now))
    if row.user_id is not None and not row.note.startswith(tokens.SERVER_TOKEN_NOTE):
        await db.execute(update(User).where(User.id == row.user_id).values(last_activity=now))
    await db.commit()


async def session_user(db: AsyncSession, secret: str) -> User | None:
    """The signed-in, approved person a session cookie's value belongs to, if the session is still valid."""
    query = select(BrowserSession).where(BrowserSession.hashed == hash_secret(secret))
    session = (await db.execute(query)).scalar_one_or_none()
    if session is None or session.expires_at <= utcnow():
        return None
    user = await db.get(User, session.user_id)
    return user if user is not None and user.approved else None


async def from_cookie(db: AsyncSession, request: Request) -> Caller | None:
    secret = request.cookies.get(SESSION_COOKIE)
    user = await session_user(db, secret) if secret else None
    return await _caller(db, user, "cookie") if user else None


async def from_password(db: AsyncSession, user: User) -> Caller:
    """A person who just gave their name and password in the request itself (a token request's "auth")."""
    return await _caller(db, user, "password")


def client_address(request: Request) -> str:
    """The caller's address: the proxy's X-Forwarded-For when it comes through the proxy on loopback."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in ("127.0.0.1", "::1"):
        return forwarded.split(",")[-1].strip()
    return peer


async def identify(db: AsyncSession, request: Request, cache: TokenCache | None = None) -> Caller | None:
    token = header_token(request)
    if token is not None:
        return await from_token(db, token, cache)
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
