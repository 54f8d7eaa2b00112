"""What a starting hub does with servers the previous hub left behind.

Running servers are kept: the spawner finds them from their persisted state. A spawn or stop the old hub
was in the middle of is finished cleanly: a half-started server is stopped (its owner is told to start it
again) and a half-stopped one is stopped. Only servers with a target or a pending action are read, so start-up
cost follows the number of active servers, not of users.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import or_, select

from commonroom.db.models import Server
from commonroom.servers.manager import ServerManager

log = logging.getLogger(__name__)

RESTARTED_MID_SPAWN = "The hub restarted while your server was starting, so the start was cancelled. Start it again."


async def reattach(manager: ServerManager) -> None:
    async with manager.sessions() as db:
        query = select(Server).where(or_(Server.target.is_not(None), Server.pending.is_not(None)))
        rows = list((await db.execute(query)).scalars())
    await asyncio.gather(*(_one(manager, row) for row in rows))


async def _one(manager: ServerManager, row: Server) -> None:
    user, name = row.user.name, row.name
    if row.pending is None:
        await manager.check(row)
        return
    log.info("finishing the %s the previous hub left pending for %s/%s", row.pending, user, name)
    spawner = manager.spawner_for(row)
    await manager.proxy.delete_route(manager.prefix(user, name))
    await spawner.stop(now=row.pending == "spawn")
    await manager.mark_stopped(row.id, failure=RESTARTED_MID_SPAWN if row.pending == "spawn" else None)
