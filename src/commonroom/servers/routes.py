"""Keeping the proxy's table equal to what the database says should be routed.

The proxy may restart, or be replaced, at any moment; the hub checks the table every few seconds and puts
back what is missing, so people lose at most a few seconds of routing, not minutes as with the incumbent.
Routes of servers with a pending action are left alone: their spawn or stop task owns them. Services with a
url get /services/<name>/ (the proxy keeps the path, so a service serves under that prefix).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from commonroom import urls
from commonroom.db.models import Server, Service
from commonroom.servers.manager import ServerManager

log = logging.getLogger(__name__)


async def expected_routes(manager: ServerManager, hub_target: str) -> tuple[dict[str, tuple[str, dict[str, Any]]], set[str]]:
    """The routes that should exist, and the prefixes of servers whose routes must not be touched now."""
    base = manager.config.hub.base_url
    wanted: dict[str, tuple[str, dict[str, Any]]] = {base: (hub_target, {"hub": True})}
    busy: set[str] = set()
    async with manager.sessions() as db:
        for row in (await db.execute(select(Server).where((Server.target.is_not(None)) | (Server.pending.is_not(None))))).scalars():
            prefix = manager.prefix(row.user.name, row.name)
            if row.pending is not None:
                busy.add(prefix)
            elif row.target:
                wanted[prefix] = (row.target, {"user": row.user.name, "server_name": row.name})
        for service in (await db.execute(select(Service).where(Service.url != ""))).scalars():
            parts = urlsplit(service.url)
            wanted[urls.service_prefix(base, service.name)] = (f"{parts.scheme}://{parts.netloc}", {"service": service.name})
    return wanted, busy


async def sync(manager: ServerManager, hub_target: str) -> int:
    """Add missing or wrong routes and remove stale ones we own; returns how many changes were made."""
    wanted, busy = await expected_routes(manager, hub_target)
    current = await manager.proxy.get_routes()
    changes = 0
    for spec, (target, data) in wanted.items():
        have = current.get(spec)
        if have is None or have.get("target") != target:
            await manager.proxy.add_route(spec, target, data)
            changes += 1
    for spec, have in current.items():
        owned = bool(have.get("data", have).get("jupyterhub"))
        if owned and spec not in wanted and spec not in busy:
            await manager.proxy.delete_route(spec)
            changes += 1
    if changes:
        log.info("proxy routes synced: %d change(s)", changes)
    return changes
