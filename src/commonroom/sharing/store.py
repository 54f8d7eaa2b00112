"""Shares and share codes in the database: what they may grant, granting, revoking, exchanging a code.

A share's scopes are always filtered to its server (`access:servers!server=alice/`), so a share can never reach
anything else; they are added to the recipient's scopes (auth/roles.py) on every request, so a revoked share
ends access at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth import scopes as scope_rules
from commonroom.auth.secrets import hash_secret, new_url_secret
from commonroom.db.models import Group, Server, Share, ShareCode, User
from commonroom.timeutil import utcnow
from commonroom.users.directory import DirectoryError

SHAREABLE = ("access:servers", "read:servers", "start:servers", "delete:servers", "servers")
CODE_EXPIRY_RANGE = (60, 31_536_000)


def server_filter(server: Server) -> str:
    return f"server={server.user.name}/{server.name}"


def share_scopes(server: Server, wanted: Sequence[str] | None) -> list[str]:
    """The scopes a share grants, each filtered to the server (an unfiltered one is bound to it); 400 otherwise."""
    if not wanted:
        return [f"access:servers!{server_filter(server)}"]
    bound = []
    for scope in dict.fromkeys(wanted):
        name, flt = scope_rules.split(scope)
        if name not in SHAREABLE or flt not in (None, server_filter(server)):
            raise DirectoryError(400, f"A share cannot grant {scope!r}: use {', '.join(SHAREABLE)}, for this server "
                                      f"only (!{server_filter(server)}).")  # fmt: skip
        bound.append(f"{name}!{server_filter(server)}")
    return bound


async def server_of(db: AsyncSession, owner: User, name: str) -> Server:
    """The server to share; a default server that never ran gets its (stopped) row, a named one must exist."""
    row = next((s for s in owner.servers if s.name == name), None)
    if row is None and name == "":
        row = Server(user_id=owner.id, name="", user=owner)
        db.add(row)
        await db.flush()
    if row is None:
        raise DirectoryError(404, f"{owner.name} has no server named {name!r}.")
    return row


async def grant(db: AsyncSession, server: Server, scopes: Sequence[str], user: User | None, group: Group | None) -> Share:
    """Share `server` with a user or a group; an existing share gets the new scopes added."""
    if user is not None and user.id == server.user_id:
        raise DirectoryError(400, "You cannot share a server with its owner.")
    holder = Share.user_id == user.id if user is not None else Share.group_id == (group.id if group else None)
    share = (await db.execute(select(Share).where(Share.server_id == server.id, holder))).scalar_one_or_none()
    if share is None:
        share = Share(server_id=server.id, server=server, user=user, group=group, scopes=[])
        db.add(share)
    share.scopes = sorted({*share.scopes, *scopes})
    await db.flush()
    return share


async def revoke(db: AsyncSession, share: Share, scopes: Sequence[str] | None) -> Share | None:
    """Take scopes away from a share (all of them when none are named); None when nothing is left."""
    share.scopes = [s for s in share.scopes if scopes and s not in scopes]
    if not share.scopes:
        await db.delete(share)
        await db.flush()
        return None
    return share


async def shares_of(
    db: AsyncSession, *, owner: User | None = None, server: Server | None = None, user: User | None = None,
    group: Group | None = None, offset: int = 0, limit: int = 200,
) -> tuple[list[Share], int]:  # fmt: skip
    """One page of shares of an owner's servers, of one server, or given to a user or a group."""
    query = select(Share).join(Server, Server.id == Share.server_id)
    if owner is not None:
        query = query.where(Server.user_id == owner.id)
    if server is not None:
        query = query.where(Share.server_id == server.id)
    if user is not None:
        query = query.where(Share.user_id == user.id)
    if group is not None:
        query = query.where(Share.group_id == group.id)
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await db.execute(query.order_by(Share.id).offset(offset).limit(limit))).scalars().all()
    return list(rows), total


async def reachable(db: AsyncSession, user: User) -> list[Share]:
    """Every share that reaches `user`, directly or through a group, for the home page."""
    group_ids = [g.id for g in user.groups]
    query = select(Share).where(or_(Share.user_id == user.id, Share.group_id.in_(group_ids))).order_by(Share.id)
    return list((await db.execute(query)).scalars())


async def new_code(db: AsyncSession, server: Server, scopes: Sequence[str], expires_in: int) -> tuple[ShareCode, str]:
    code = new_url_secret()
    row = ShareCode(
        server_id=server.id, server=server, hashed=hash_secret(code), scopes=list(scopes),
        expires_at=utcnow() + timedelta(seconds=expires_in),
    )  # fmt: skip
    db.add(row)
    await db.flush()
    return row, code


async def codes_of(db: AsyncSession, owner: User, server: Server | None = None) -> list[ShareCode]:
    """Unexpired codes of an owner's servers (expired ones are deleted on the way)."""
    await db.execute(delete(ShareCode).where(ShareCode.expires_at <= utcnow()))
    query = select(ShareCode).join(Server, Server.id == ShareCode.server_id).where(Server.user_id == owner.id)
    if server is not None:
        query = query.where(ShareCode.server_id == server.id)
    return list((await db.execute(query.order_by(ShareCode.id))).scalars())


async def find_code(db: AsyncSession, code: str) -> ShareCode | None:
    row = (await db.execute(select(ShareCode).where(ShareCode.hashed == hash_secret(code)))).scalar_one_or_none()
    if row is None or row.expires_at <= utcnow():
        return None
    return row


async def exchange(db: AsyncSession, code: ShareCode, user: User) -> Share:
    """Accept a code: the person gets (or keeps) a share of the code's server. Accepting again changes nothing
    but the count; the owner cannot accept their own code."""
    share = await grant(db, code.server, code.scopes, user, None)
    code.exchange_count += 1
    code.last_exchanged_at = utcnow()
    return share
