"""groups, roles, services, shares

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LINKS = (("group_members", "group", "user"), ("user_roles", "role", "user"), ("group_roles", "role", "group"),
         ("service_roles", "role", "service"))  # fmt: skip


def _named(table: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(table, sa.Column("id", sa.Integer(), nullable=False), *columns, sa.PrimaryKeyConstraint("id"))
    op.create_index(f"ix_{table}_name", table, ["name"], unique=True)


def upgrade() -> None:
    _named("groups", sa.Column("name", sa.String(255), nullable=False), sa.Column("properties", sa.JSON(), nullable=False))
    _named(
        "roles",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(1023), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("managed_by", sa.String(16), nullable=False),
    )
    _named(
        "services",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("url", sa.String(1023), nullable=False),
        sa.Column("display", sa.Boolean(), nullable=False),
        sa.Column("info", sa.JSON(), nullable=False),
        sa.Column("oauth_client_id", sa.String(255), nullable=True),
        sa.Column("from_config", sa.Boolean(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    for table, left, right in LINKS:
        op.create_table(
            table,
            sa.Column(f"{left}_id", sa.Integer(), nullable=False),
            sa.Column(f"{right}_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint([f"{left}_id"], [f"{left}s.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint([f"{right}_id"], [f"{right}s.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint(f"{left}_id", f"{right}_id"),
        )
        op.create_index(f"ix_{table}_{right}_id", table, [f"{right}_id"])
    with op.batch_alter_table("servers") as batch:
        batch.add_column(sa.Column("display_name", sa.String(255), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("service_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_api_tokens_service_id", "services", ["service_id"], ["id"], ondelete="CASCADE")
        batch.create_index("ix_api_tokens_service_id", ["service_id"])
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["server_id"], ["servers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["group_id"], ["groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("server_id", "user_id"),
        sa.UniqueConstraint("server_id", "group_id"),
    )
    for column in ("server_id", "user_id", "group_id"):
        op.create_index(f"ix_shares_{column}", "shares", [column])
    op.create_table(
        "share_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("hashed", sa.String(128), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("exchange_count", sa.Integer(), nullable=False),
        sa.Column("last_exchanged_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["server_id"], ["servers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_share_codes_server_id", "share_codes", ["server_id"])
    op.create_index("ix_share_codes_hashed", "share_codes", ["hashed"], unique=True)


def downgrade() -> None:
    op.drop_table("share_codes")
    op.drop_table("shares")
    op.execute("DELETE FROM api_tokens WHERE user_id IS NULL")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_service_id")
        batch.drop_constraint("fk_api_tokens_service_id", type_="foreignkey")
        batch.drop_column("service_id")
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("servers") as batch:
        batch.drop_column("display_name")
    for table, _, _ in reversed(LINKS):
        op.drop_table(table)
    for table in ("services", "roles", "groups"):
        op.drop_table(table)
