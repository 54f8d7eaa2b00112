"""auth.manage_groups: each sign-in sets the person's hub groups to the identity provider's, and the groups'
roles reach them (a real, migrated SQLite database; the provider's answer is the Identity it would give)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth import roles, signin
from commonroom.auth.base import Identity
from commonroom.config.models import AuthConfig
from commonroom.db.models import Group, Role

KEY = "k"  # auth state is not looked at here


async def test_sign_in_sets_groups_from_the_provider(db: AsyncSession) -> None:
    managed = AuthConfig(authenticator="github", manage_groups=True)
    user = await signin.accept(db, Identity("ann", groups=("physics", "staff")), managed, KEY)
    await db.commit()
    assert sorted(g.name for g in user.groups) == ["physics", "staff"]

    physics = (await db.execute(select(Group).where(Group.name == "physics"))).scalar_one()
    db.add(Role(name="lab-readers", scopes=["read:hub"], groups=[physics], users=[], services=[]))
    await db.commit()
    assert "read:hub" in await roles.scopes_of(db, user), "a group's role reaches its member"

    user = await signin.accept(db, Identity("ann", groups=("staff",)), managed, KEY)
    await db.commit()
    assert [g.name for g in user.groups] == ["staff"], "left physics at the provider: left it here"
    assert "read:hub" not in await roles.scopes_of(db, user)
    assert (await db.execute(select(Group.name).order_by(Group.name))).scalars().all() == ["physics", "staff"]


async def test_groups_stay_when_the_hub_does_not_manage_them(db: AsyncSession) -> None:
    managed = AuthConfig(authenticator="github", manage_groups=True)
    user = await signin.accept(db, Identity("bo", groups=("physics",)), managed, KEY)
    await db.commit()
    again = await signin.accept(db, Identity("bo", groups=()), AuthConfig(authenticator="github"), KEY)
    assert again.id == user.id and [g.name for g in again.groups] == ["physics"]
