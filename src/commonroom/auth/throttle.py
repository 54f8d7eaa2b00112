"""Slows down password guessing: failed sign-ins are counted per account and per address, and once either
reaches the limit within the window, sign-in is refused for a while whatever the password.

Counting both keys stops one address trying many accounts and many addresses trying one account. The
address limit is higher, since a whole class may sign in from behind one NAT address. The counts
live in the database so a hub restart does not reset them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.config.models import ThrottleConfig
from commonroom.db.models import LoginFailure
from commonroom.timeutil import utcnow


def keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username}", f"ip:{address}"


async def locked_until(db: AsyncSession, username: str, address: str) -> datetime | None:
    """When sign-in is possible again for this account or address, or None if it is now."""
    now = utcnow()
    latest: datetime | None = None
    for key in keys(username, address):
        row = await db.get(LoginFailure, key)
        if row and row.locked_until and row.locked_until > now:
            latest = max(latest or row.locked_until, row.locked_until)
    return latest


async def record_failure(db: AsyncSession, cfg: ThrottleConfig, username: str, address: str) -> None:
    now = utcnow()
    account, place = keys(username, address)
    for key, limit in ((account, cfg.max_failures), (place, cfg.max_failures_per_address)):
        row = await db.get(LoginFailure, key)
        if row is None:
            row = LoginFailure(key=key, count=0, window_start=now)
            db.add(row)
        if now - row.window_start > timedelta(seconds=cfg.window_seconds):
            row.count, row.window_start = 0, now
        row.count += 1
        if row.count >= limit:
            row.locked_until = now + timedelta(seconds=cfg.lockout_seconds)
            row.count, row.window_start = 0, now


async def record_success(db: AsyncSession, username: str) -> None:
    """A correct password clears the account's count (not the address's: that one may be guessing others)."""
    await db.execute(delete(LoginFailure).where(LoginFailure.key == keys(username, "")[0]))
