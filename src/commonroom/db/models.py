"""The tables. Secrets (passwords, tokens, OAuth codes and client secrets) are only ever stored hashed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from commonroom.timeutil import utcnow


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: DateTime()}


def _link(name: str, left: str, right: str) -> Table:
    """A many-to-many link table whose rows go with either end."""
    return Table(
        name,
        Base.metadata,
        Column(f"{left}_id", ForeignKey(f"{left}s.id", ondelete="CASCADE"), primary_key=True),
        Column(f"{right}_id", ForeignKey(f"{right}s.id", ondelete="CASCADE"), primary_key=True, index=True),
    )


group_members = _link("group_members", "group", "user")
user_roles = _link("user_roles", "role", "user")
group_roles = _link("group_roles", "role", "group")
service_roles = _link("service_roles", "role", "service")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity: Mapped[datetime | None] = mapped_column(default=None, index=True)
    user_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What the identity provider returned (tokens, claims), Fernet-encrypted with the hub's encryption key.
    auth_state: Mapped[str | None] = mapped_column(Text, default=None)
    # The TOTP secret, encrypted the same way; set once enrolment is confirmed with a code.
    totp_secret: Mapped[str | None] = mapped_column(Text, default=None)
    # The 30-second step of the last code accepted at sign-in: a code works once, even within its window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)

    servers: Mapped[list[Server]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    groups: Mapped[list[Group]] = relationship(secondary=group_members, back_populates="users", lazy="selectin")
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, back_populates="users", lazy="selectin")


class Group(Base):
    """A named set of people; roles and shares given to a group reach every member."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Members are loaded only when asked for (selectinload), so that loading a person does not load everyone.
    users: Mapped[list[User]] = relationship(secondary=group_members, back_populates="groups", lazy="raise")
    roles: Mapped[list[Role]] = relationship(secondary=group_roles, back_populates="groups", lazy="selectin")


class Role(Base):
    """A named list of scopes, held by users, groups and services.

    managed_by tells where a role comes from: "config" roles are rewritten from the config file at each start,
    "api" roles were made at runtime and persist until deleted through the API.
    """

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str] = mapped_column(String(1023), default="")
    scopes: Mapped[list[str]] = mapped_column(default=list)
    managed_by: Mapped[str] = mapped_column(String(16), default="api")

    # Holders are loaded only when asked for (selectinload): a role may be held by thousands.
    users: Mapped[list[User]] = relationship(secondary=user_roles, back_populates="roles", lazy="raise")
    groups: Mapped[list[Group]] = relationship(secondary=group_roles, back_populates="roles", lazy="raise")
    services: Mapped[list[Service]] = relationship(secondary=service_roles, back_populates="roles", lazy="raise")


class Service(Base):
    """An external program that uses the hub's API (and may sign people in through it), or one the hub runs.

    from_config services are rewritten from the config file at each start; the others were added through the
    API and persist. state holds what the hub needs to find a managed service's process again after a restart.
    """

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    url: Mapped[str] = mapped_column(String(1023), default="")
    display: Mapped[bool] = mapped_column(Boolean, default=True)
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    oauth_client_id: Mapped[str | None] = mapped_column(String(255), default=None)
    from_config: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    roles: Mapped[list[Role]] = relationship(secondary=service_roles, back_populates="services", lazy="selectin")


class Server(Base):
    """One named (or the default, name "") server of a user, whether running or stopped."""

    __tablename__ = "servers"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    # None when stopped; "spawn", "stop" or "check" while an action is under way.
    pending: Mapped[str | None] = mapped_column(String(16), default=None)
    # Where the proxy sends traffic (scheme://host:port), set once the server answered its readiness probe.
    target: Mapped[str | None] = mapped_column(String(255), default=None)
    # What the spawner needs to find the server again after a hub restart (pid, port, job id ...).
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # What people see instead of the name (JupyterHub 6: 1-255 printable characters); None shows the name.
    display_name: Mapped[str | None] = mapped_column(String(255), default=None)
    started: Mapped[datetime | None] = mapped_column(default=None)
    last_activity: Mapped[datetime | None] = mapped_column(default=None)
    # Why the last start failed or the server died, shown to its owner the next time they look.
    failure: Mapped[str | None] = mapped_column(Text, default=None)
    # Why the hub stopped the server on purpose (idle for too long, too old): news for its owner, not a failure.
    notice: Mapped[str | None] = mapped_column(Text, default=None)

    user: Mapped[User] = relationship(back_populates="servers", lazy="joined")

    @property
    def running(self) -> bool:
        return self.pending is None and self.target is not None


class BrowserSession(Base):
    """A signed-in browser. The cookie carries the random id; the row keeps only its hash."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hashed: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class APIToken(Base):
    """An API token, OAuth access token or server token. Looked up by prefix, compared by hash.

    Owned by a user or, for a service's own token, by a service (exactly one of user_id and service_id is set;
    user-owned code paths can rely on user_id because service tokens are looked up through service_id).
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), default=None, index=True
    )
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    hashed: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(String(1023), default="")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_activity: Mapped[datetime | None] = mapped_column(default=None)
    session_id: Mapped[str | None] = mapped_column(String(255), default=None)
    oauth_client_id: Mapped[str | None] = mapped_column(
        ForeignKey("oauth_clients.identifier", ondelete="CASCADE"), default=None, index=True
    )
    server_id: Mapped[int | None] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), default=None)

    user: Mapped[User] = relationship(lazy="joined")
    service: Mapped[Service | None] = relationship(lazy="joined")


class OAuthClient(Base):
    """A single-user server or service that signs people in through the hub."""

    __tablename__ = "oauth_clients"

    identifier: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(String(1023), default="")
    hashed_secret: Mapped[str] = mapped_column(String(255))
    redirect_uri: Mapped[str] = mapped_column(String(1023))
    # Scopes a person must hold to be let in (e.g. access:servers!server=alice/).
    access_scopes: Mapped[list[str]] = mapped_column(default=list)
    server_id: Mapped[int | None] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), default=None)


class OAuthCode(Base):
    __tablename__ = "oauth_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hashed: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_clients.identifier", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(String(1023))
    code_challenge: Mapped[str | None] = mapped_column(String(255), default=None)
    code_challenge_method: Mapped[str | None] = mapped_column(String(16), default=None)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    session_id: Mapped[str | None] = mapped_column(String(255), default=None)
    expires_at: Mapped[datetime] = mapped_column()


class LoginFailure(Base):
    """Failed sign-ins counted per account ("user:NAME") and per address ("ip:ADDR")."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class OneTimeLink(Base):
    """A link that does one thing once before it expires (the first administrator's sign-up)."""

    __tablename__ = "one_time_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hashed: Mapped[str] = mapped_column(String(128), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class RecoveryCode(Base):
    """A single-use MFA recovery code, stored hashed; used_at is set when it is spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    hashed: Mapped[str] = mapped_column(String(128))
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class Share(Base):
    """Access to one server given by its owner to another user or to a group (exactly one of the two)."""

    __tablename__ = "shares"
    __table_args__ = (UniqueConstraint("server_id", "user_id"), UniqueConstraint("server_id", "group_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), default=None, index=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), default=None, index=True
    )
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    server: Mapped[Server] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(lazy="joined")
    group: Mapped[Group | None] = relationship(lazy="joined")


class ShareCode(Base):
    """A link that turns into a share for whoever accepts it; the row keeps only the code's hash."""

    __tablename__ = "share_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), index=True)
    hashed: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    exchange_count: Mapped[int] = mapped_column(Integer, default=0)
    last_exchanged_at: Mapped[datetime | None] = mapped_column(default=None)

    server: Mapped[Server] = relationship(lazy="joined")


# Two tables as Core sees them, for the hot paths that run prebuilt statements (api/activity.py, users/views.py).
USERS: Table = Base.metadata.tables["users"]
SERVERS: Table = Base.metadata.tables["servers"]
