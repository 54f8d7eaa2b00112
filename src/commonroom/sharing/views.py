"""What the pages show about shares: the servers shared with a person, one entry per server."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from commonroom import urls
from commonroom.db.models import User
from commonroom.sharing import store


@dataclass(frozen=True)
class SharedServer:
    owner: str
    name: str
    url: str
    ready: bool


async def shared_with(db: AsyncSession, user: User, base_url: str) -> list[SharedServer]:
    """Servers shared with `user` directly or through a group, each once."""
    seen: dict[int, SharedServer] = {}
    for share in await store.reachable(db, user):
        server = share.server
        seen.setdefault(server.id, SharedServer(server.user.name, server.name,
                                                urls.user_prefix(base_url, server.user.name, server.name),
                                                server.running))  # fmt: skip
    return list(seen.values())
