"""Copying the hub's database into another: how a site moves from SQLite to PostgreSQL (or back, or takes a copy).

The target is brought to the current schema by the migrations and must hold no rows. Rows go over table by
table in foreign-key order, in one transaction on the target, so a copy that fails leaves the target empty.
Then PostgreSQL's id sequences are moved past the copied ids; otherwise the next insert would collide.
"""

from __future__ import annotations

from sqlalchemy import Integer, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from commonroom.db.engine import migrate
from commonroom.db.models import Base

BATCH = 1000


class CopyRefused(Exception):
    """The copy cannot be made; the message says why and what to do."""


async def copy(source: AsyncEngine, target: AsyncEngine) -> dict[str, int]:
    """Copy every row of the hub's tables; the number of rows per table."""
    await migrate(source)
    await migrate(target)
    tables = Base.metadata.sorted_tables
    copied: dict[str, int] = {}
    async with source.connect() as read, target.begin() as write:
        holding = [table.name for table in tables if await write.scalar(select(func.count()).select_from(table))]
        if holding:
            where = target.url.render_as_string(hide_password=True)
            raise CopyRefused(f"{where} already holds data (in {', '.join(holding)}); copy into a new, empty database.")
        for table in tables:
            rows = [row._asdict() for row in await read.execute(select(table).order_by(*table.primary_key))]
            for start in range(0, len(rows), BATCH):
                await write.execute(insert(table), rows[start : start + BATCH])
            copied[table.name] = len(rows)
            if write.dialect.name == "postgresql":
                await _move_id_sequence(write, table)
    return copied


async def _move_id_sequence(write: AsyncConnection, table: Table) -> None:
    key = list(table.primary_key)
    if len(key) != 1 or not isinstance(key[0].type, Integer):
        return
    quote = write.dialect.identifier_preparer
    column, name = quote.quote(key[0].name), quote.format_table(table)
    await write.execute(
        text(f"SELECT setval(pg_get_serial_sequence(:table, :column), COALESCE(MAX({column}), 0) + 1, false) FROM {name}"),
        {"table": table.name, "column": key[0].name},
    )
