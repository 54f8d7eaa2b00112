"""JSON models of users and servers, with only the fields the caller's scopes allow (JupyterHub's rules)."""

from __future__ import annotations

from typing import Any

from commonroom import urls
from commonroom.auth.encryption import DecryptionError, decrypt_json
from commonroom.auth.roles import role_names
from commonroom.auth.scopes import Access, Target
from commonroom.db.models import Server, Service
from commonroom.timeutil import isoformat
from commonroom.users.views import ServerView, UserView
from commonroom.web.identity import Caller


def server_model(
    server: Server | ServerView, base_url: str, with_state: bool = False, user: str | None = None
) -> dict[str, Any]:
    """`user`: the owner's name; needed for a view, saves loading server.user for a mapped server."""
    if user is None:
        assert isinstance(server, Server), "a server view needs its owner's name"
        user = server.user.name
    model: dict[str, Any] = {
        "name": server.name,
        "display_name": server.display_name or server.name,
        "full_name": f"{user}/{server.name}",
        "ready": server.running,
        "pending": server.pending,
        "stopped": server.target is None and server.pending is None,
        "url": urls.user_prefix(base_url, user, server.name),
        "progress_url": urls.server_api_path(base_url, user, server.name, "/progress"),
        "full_url": None,
        "full_progress_url": None,
        "started": isoformat(server.started),
        "last_activity": isoformat(server.last_activity),
        "user_options": server.user_options,
    }
    if with_state:
        model["state"] = server.state
    return model


def _granted(caller: Caller, scope: str, user: UserView) -> bool:
    # An unfiltered scope grants every user: answered without building a target (pages of 200 users ask often).
    return scope in caller.scopes or caller.check(scope, Target(user=user.name)) is Access.GRANTED


def user_model(
    caller: Caller, user: UserView, base_url: str, include_stopped: bool = False, auth_state_key: str | None = None
) -> dict[str, Any]:
    """auth_state_key: given (the hub's encryption key) on the single-user model only, as in JupyterHub."""
    model: dict[str, Any] = {"kind": "user", "name": user.name}
    default = next((s for s in user.servers if s.name == ""), None)
    if _granted(caller, "read:users", user) or _granted(caller, "read:users:name", user):
        model.update(admin=user.admin, user_info=user.user_info)
    if _granted(caller, "read:users", user):
        model.update(
            roles=list(user.roles),
            server=urls.user_prefix(base_url, user.name) if default and default.running else None,
            pending=default.pending if default else None,
            created=isoformat(user.created),
            last_activity=isoformat(user.last_activity),
        )
    if _granted(caller, "read:users:groups", user):
        model["groups"] = list(user.groups)
    if _granted(caller, "read:users:activity", user):
        model["last_activity"] = isoformat(user.last_activity)
    if _granted(caller, "read:servers", user):
        state = _granted(caller, "admin:server_state", user)
        active = [s for s in user.servers if include_stopped or s.target is not None or s.pending is not None]
        model["servers"] = {s.name: server_model(s, base_url, state, user.name) for s in active}
    if auth_state_key is not None and _granted(caller, "admin:auth_state", user):
        model["auth_state"] = _auth_state(auth_state_key, user)
    return model


def service_model(service: Service, base_url: str) -> dict[str, Any]:
    """JupyterHub's service model; command and pid come from a managed service's saved state."""
    return {
        "kind": "service",
        "name": service.name,
        "roles": role_names(service),
        "admin": service.admin,
        "url": service.url,
        "prefix": f"{base_url}services/{service.name}/",
        "command": service.state.get("command", []),
        "pid": service.state.get("pid", 0),
        "info": service.info,
        "display": service.display,
    }


def _auth_state(key: str, user: UserView) -> dict[str, Any] | None:
    """The decrypted auth state; None if there is none or the encryption key no longer opens it."""
    try:
        return decrypt_json(key, user.auth_state) or None
    except DecryptionError:
        return None
