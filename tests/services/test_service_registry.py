"""Service rows from the config and at runtime, in a real SQLite database (no hub process needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commonroom.auth.secrets import CHOSEN_SCHEME, matches
from commonroom.config.loader import validate
from commonroom.config.models import Config, ServiceConfig
from commonroom.db.engine import make_engine, migrate, session_factory, sqlite_url
from commonroom.db.models import APIToken, OAuthClient, Service
from commonroom.services import registry

TOKEN = "chosen-by-a-person-0123"


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(sqlite_url(tmp_path))
    await migrate(engine)
    yield session_factory(engine)
    await engine.dispose()


def config(*entries: dict[str, Any]) -> Config:
    return validate({"services": list(entries)}, "test")


async def tokens_of(db: AsyncSession, name: str) -> list[APIToken]:
    row = await registry.find(db, name)
    assert row is not None
    return list((await db.execute(select(APIToken).where(APIToken.service_id == row.id))).scalars())


async def sync(sessions: async_sessionmaker[AsyncSession], cfg: Config) -> None:
    async with sessions() as db:
        await registry.sync_config(db, cfg)
        await db.commit()


async def test_config_services_become_rows_with_a_slow_hashed_token_and_an_oauth_client(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await sync(sessions, config({"name": "whoami", "url": "http://127.0.0.1:9", "api_token": TOKEN}, {"name": "bare"}))
    async with sessions() as db:
        whoami = await registry.find(db, "whoami")
        assert whoami is not None and whoami.from_config and whoami.oauth_client_id == "service-whoami"
        (token,) = await tokens_of(db, "whoami")
        assert token.hashed.startswith(CHOSEN_SCHEME + ":16384:") and TOKEN not in token.hashed
        assert matches(token.hashed, TOKEN) and not matches(token.hashed, TOKEN + "x")
        client = await db.get(OAuthClient, "service-whoami")
        assert client is not None and matches(client.hashed_secret, TOKEN)
        assert client.redirect_uri == "/services/whoami/oauth_callback"
        assert client.access_scopes == ["access:services!service=whoami"]
        assert await tokens_of(db, "bare") == []  # external, no token, no OAuth: nothing to sign in with


async def test_a_second_start_keeps_the_token_row_and_a_changed_token_replaces_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await sync(sessions, config({"name": "svc", "api_token": TOKEN}))
    async with sessions() as db:
        (first,) = await tokens_of(db, "svc")
    await sync(sessions, config({"name": "svc", "api_token": TOKEN}))
    async with sessions() as db:
        assert [t.id for t in await tokens_of(db, "svc")] == [first.id]
    await sync(sessions, config({"name": "svc", "api_token": "another-token-4567"}))
    async with sessions() as db:
        (second,) = await tokens_of(db, "svc")
        assert second.id != first.id and matches(second.hashed, "another-token-4567")


async def test_services_gone_from_the_config_are_deleted_but_runtime_ones_stay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await sync(sessions, config({"name": "old", "url": "http://127.0.0.1:9", "api_token": TOKEN}))
    async with sessions() as db:
        row, token = await registry.add(db, ServiceConfig(name="runtime", url="http://127.0.0.1:8"), "/")
        await db.commit()
        assert len(token) == 32 and not row.from_config
    await sync(sessions, config())
    async with sessions() as db:
        names = set((await db.execute(select(Service.name))).scalars())
        assert names == {"runtime"}
        assert await db.get(OAuthClient, "service-old") is None
        assert (await db.execute(select(APIToken).where(APIToken.note == registry.CONFIG_TOKEN_NOTE))).first() is None
        client = await db.get(OAuthClient, "service-runtime")
        assert client is not None and matches(client.hashed_secret, token)


async def test_each_launch_of_a_managed_service_gets_a_new_token_that_is_also_its_client_secret(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await sync(sessions, config({"name": "app", "url": "http://127.0.0.1:9", "command": ["true"]}))
    async with sessions() as db:
        client = await db.get(OAuthClient, "service-app")
        assert client is not None and client.hashed_secret == registry.NO_SECRET  # no secret before a launch
        row = await registry.find(db, "app")
        assert row is not None
        first = await registry.launch_token(db, row)
        second = await registry.launch_token(db, row)
        await db.commit()
        (stored,) = await tokens_of(db, "app")
        assert matches(stored.hashed, second) and not matches(stored.hashed, first)
        assert matches(client.hashed_secret, second)


async def test_a_config_service_replacing_a_runtime_one_drops_the_runtime_token(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as db:
        await registry.add(db, ServiceConfig(name="taken"), "/")
        await db.commit()
    await sync(sessions, config({"name": "taken", "api_token": TOKEN}))
    async with sessions() as db:
        (only,) = await tokens_of(db, "taken")
        assert only.note == registry.CONFIG_TOKEN_NOTE and matches(only.hashed, TOKEN)
