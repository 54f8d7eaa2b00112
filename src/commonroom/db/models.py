"""The tables. Secrets (passwords, tokens, OAuth codes and client secrets) are only ever stored hashed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from commonroom.timeutil import utcnow


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: DateTime()}


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
    started: Mapped[datetime | None] = mapped_column(default=None)
    last_activity: Mapped[datetime | None] = mapped_column(default=None)
    # Why the last start failed or the server died, shown to its owner the next time they look.
    failure: Mapped[str | None] = mapped_column(Text, default=None)

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
    """An API token, OAuth access token or server token. Looked up by prefix, compared by hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
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
