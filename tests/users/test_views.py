"""The two ways to a user's view agree: loaded with plain SELECTs (the API's reads) and made from an ORM user
(after a change); pages keep the listing's order and filters, and activity reports update the times. On both
databases the hub runs on: a real SQLite file and a real PostgreSQL server, brought to the current schema by
the migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from commonroom.api import activity
from commonroom.db.engine import make_engine, migrate, session_factory
from commonroom.db.loading import user_joined
from commonroom.db.models import Group, Role, Server, User
from commonroom.users import directory, views


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").new_database(f"views_{tmp_path.name}".lower())
    engine = make_engine(url)
    await migrate(engine)
    async with session_factory(engine)() as db:
        team, ops = Group(name="team"), Group(name="ops")
        reviewer = Role(name="reviewer", scopes=["read:users"])
        db.add_all([
            User(name="ada", admin=True, user_info={"office": 3}, groups=[team, ops], roles=[reviewer], servers=[
                Server(name="", target="http://127.0.0.1:9999", started=datetime(2026, 1, 2), state={"pid": 7}),
                Server(name="gpu", pending="spawn", display_name="GPU box", user_options={"size": "l"}),
            ]),
            User(name="bob", groups=[team]),
            User(name="cy"),
        ])  # fmt: skip
        await db.commit()
    yield engine
    await engine.dispose()


async def test_loaded_and_converted_views_agree(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as db:
        for name in ("ada", "bob", "cy"):
            query = select(User).where(User.name == name).options(*user_joined())
            orm_user = (await db.execute(query)).unique().scalar_one()
            assert await views.one(db, name) == views.of(orm_user)
        ada = await views.one(db, "ada")
        assert await views.one(db, "nobody") is None
    assert ada is not None
    assert ada.roles == ("admin", "reviewer", "user") and ada.groups == ("ops", "team")
    assert [(s.name, s.running, s.state) for s in ada.servers] == [("", True, {"pid": 7}), ("gpu", False, {})]
    assert ada.user_info == {"office": 3} and ada.servers[1].display_name == "GPU box"


async def test_a_page_keeps_the_listing_order_and_filters(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as db:
        by_name = directory.Listing(sort="-name")
        page, total = await directory.list_users(db, by_name, 0, 2)
        assert ([u.name for u in page], total) == (["cy", "bob"], 3)
        page, total = await directory.list_users(db, by_name, 2, 2)
        assert ([u.name for u in page], total) == (["ada"], 3)
        ready = directory.Listing(state="ready", name_filter="A")
        page, total = await directory.list_users(db, ready, 0, 10)
        assert ([u.name for u in page], total) == (["ada"], 1)
        only = directory.Listing(only=frozenset({"bob", "cy"}), name_filter="_")
        assert await directory.list_users(db, only, 0, 10) == ([], 0)  # "_" is a character, not a wildcard


async def test_activity_reports_only_move_times_forward(engine: AsyncEngine) -> None:
    early, late = datetime(2026, 3, 1), datetime(2026, 4, 1)
    async with session_factory(engine)() as db:
        for when in (late, early):  # the late report first: the early one must not move it back
            assert await activity._changed(db, activity._USER_SEEN, {"user_name": "bob", "when": when})
            values = {"user_name": "ada", "server_name": "gpu", "when": when}
            assert await activity._changed(db, activity._SERVER_SEEN, values)
        assert not await activity._changed(db, activity._USER_SEEN, {"user_name": "nobody", "when": late})
        await db.commit()
        bob, ada = await views.one(db, "bob"), await views.one(db, "ada")
    assert bob is not None and ada is not None
    assert bob.last_activity == late and ada.servers[1].last_activity == late and ada.servers[0].last_activity is None
