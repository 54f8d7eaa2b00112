"""The culler as a hub duty: every check_interval it takes in the proxy's traffic times, then stops the
servers whose deadline has passed, telling each owner why on their next visit.

Stops go through the ServerManager like any other stop, so the route, the process, the server's tokens and
the database row are all handled one way; people's homes are never touched.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from commonroom.config.models import Config
from commonroom.culling.decide import Verdict, decide, limits_for, profile_named
from commonroom.db.models import Server, User
from commonroom.proxy.client import ProxyApiError
from commonroom.servers.manager import ServerActionError, ServerManager, display_name
from commonroom.timeutil import parse_iso, utcnow

log = logging.getLogger(__name__)


class Culler:
    def __init__(self, config: Config, servers: ServerManager) -> None:
        self.config = config
        self.servers = servers

    def verdict(self, row: Server, now: datetime) -> Verdict:
        """What the culler will do about this server, were it to check at `now`."""
        if not (self.config.culler.enabled and row.running):
            return Verdict("keep")
        profile = profile_named(self.config, (row.user_options or {}).get("profile"))
        return decide(now, row.started, row.last_activity, limits_for(self.config, profile))

    async def check(self) -> int:
        """One pass over the running servers; returns how many it began to stop."""
        seen = await self._proxy_activity()
        now = utcnow()
        due: list[tuple[str, str, Verdict]] = []
        async with self.servers.sessions() as db:
            query = select(Server).where(Server.target.is_not(None), Server.pending.is_(None))
            for row in (await db.execute(query)).scalars():
                traffic = seen.get(self.servers.prefix(row.user.name, row.name))
                if traffic is not None:
                    await _record(db, row, traffic)
                verdict = self.verdict(row, now)
                if verdict.action == "cull":
                    due.append((row.user.name, row.name, verdict))
            await db.commit()
        for user, server, verdict in due:
            log.info("culling %s: %s", display_name(user, server), verdict.notice())
            try:
                await self.servers.stop(user, server, reason=verdict.notice())
            except ServerActionError as exc:
                log.warning("could not cull %s: %s", display_name(user, server), exc.message)
        return len(due)

    async def keep_alive(self, db: AsyncSession, row: Server) -> Verdict:
        """The owner's "keep it running": counts as activity now."""
        now = utcnow()
        await _record(db, row, now)
        await db.commit()
        return self.verdict(row, now)

    async def _proxy_activity(self) -> dict[str, datetime]:
        """When traffic last went through each route (HTTP and websockets), by route prefix."""
        try:
            routes = await self.servers.proxy.get_routes()
        except ProxyApiError as exc:
            log.warning("the culler could not read the proxy's routes (%s); deciding on reported activity only", exc)
            return {}
        seen = {}
        for prefix, route in routes.items():
            try:
                seen[prefix] = parse_iso(str(route["last_activity"]))
            except (KeyError, ValueError):
                continue
        return seen


async def _record(db: AsyncSession, row: Server, when: datetime) -> None:
    """Raise the server's and its owner's last activity to `when`; never lower them, even if a report landed
    in between (hence the conditional UPDATEs rather than a read-modify-write)."""
    for model, key in ((Server, row.id), (User, row.user_id)):
        column = model.last_activity
        raise_to = update(model).where(model.id == key, or_(column.is_(None), column < when)).values(last_activity=when)
        await db.execute(raise_to.execution_options(synchronize_session=False))
    if row.last_activity is None or row.last_activity < when:
        set_committed_value(row, "last_activity", when)
