"""API tokens: issue, look up, revoke. Only the SHA-256 of a token is stored (see auth/secrets.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth import scopes as scope_rules
from commonroom.auth.secrets import CHOSEN_SCHEME, hash_chosen, hash_secret, matches, new_token
from commonroom.db.loading import user_joined
from commonroom.db.models import APIToken, Service, User
from commonroom.timeutil import utcnow

SERVER_TOKEN_NOTE = "Server at "


async def issue(
    db: AsyncSession,
    owner: User | Service,
    scopes: Sequence[str] = ("inherit",),
    *,
    note: str = "",
    expires_in: float | None = None,
    server_id: int | None = None,
    oauth_client_id: str | None = None,
    session_id: str | None = None,
    chosen: str | None = None,
) -> tuple[APIToken, str]:
    """Store a new token for a user or a service and return its row and its only clear copy.

    chosen: a token a person picked (a service's api_token in the config), stored with the slow salted hash.
    """
    for scope in scopes:
        if scope != "inherit":
            scope_rules.validate(scope)
    token = chosen or new_token()
    row = APIToken(
        user_id=owner.id if isinstance(owner, User) else None,
        service_id=owner.id if isinstance(owner, Service) else None,
        prefix=token[:4],
        hashed=hash_chosen(token) if chosen else hash_secret(token),
        scopes=list(scopes),
        note=note,
        expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None,
        server_id=server_id,
        oauth_client_id=oauth_client_id,
        session_id=session_id,
    )
    db.add(row)
    await db.flush()
    return row, token


async def find(db: AsyncSession, token: str) -> APIToken | None:
    """The unexpired token row for a presented token, or None."""
    if not 8 <= len(token) <= 255:
        return None
    query = select(APIToken).where(APIToken.hashed == hash_secret(token)).options(*user_joined(APIToken.user))
    row = (await db.execute(query)).unique().scalar_one_or_none()
    if row is None:
        row = await _find_chosen(db, token)
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    return row


async def _find_chosen(db: AsyncSession, token: str) -> APIToken | None:
    """A token a person picked is salted, so it is found by its first characters and then compared."""
    query = select(APIToken).where(APIToken.prefix == token[:4], APIToken.hashed.startswith(CHOSEN_SCHEME + ":"))
    for row in (await db.execute(query)).scalars():
        if await asyncio.to_thread(matches, row.hashed, token):
            return row
    return None


def effective_scopes(row: APIToken, owner: frozenset[str]) -> frozenset[str]:
    """What a token may do: its scopes, cut to what its owner holds (`owner`, expanded), plus the owner's
    identify scopes."""
    if row.user_id is None and row.service is not None:
        name, service = None, row.service.name
        identify = scope_rules.expand([f"read:services:name!service={service}"])
    else:
        name, service = row.user.name, None
        identify = scope_rules.expand([f"read:users:name!user={name}", f"read:users:groups!user={name}"])
    if "inherit" in row.scopes:
        return owner | identify
    return scope_rules.intersect(scope_rules.expand(row.scopes, name, service), owner) | identify


async def revoke_server_tokens(db: AsyncSession, server_id: int) -> None:
    await db.execute(delete(APIToken).where(APIToken.server_id == server_id))
