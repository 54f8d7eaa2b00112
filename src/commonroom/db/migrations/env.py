"""Alembic environment: runs on the connection the hub hands over (see commonroom.db.engine.migrate)."""

from alembic import context

from commonroom.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
