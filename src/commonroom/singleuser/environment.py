"""The JUPYTERHUB_* environment a hub gives a single-user server, read once into one typed object.

The hub passes no command-line flags, so this environment is the whole contract. A missing or malformed
variable stops the start with the variable's name, what it held and what is expected, because a server
that starts half-configured fails later in ways that are much harder to trace.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

DEFAULT_ACTIVITY_INTERVAL = 300


class HubEnvironmentError(Exception):
    """The environment cannot run a single-user server; the message names the variable and the fix."""


@dataclass(frozen=True)
class HubEnvironment:
    """Everything the single-user server needs to know about its hub and its owner."""

    api_url: str
    """The hub's REST API as this server reaches it, without a trailing slash."""
    api_token: str
    """This server's own token; also its OAuth client secret."""
    client_id: str
    """OAuth client id, also the name of the login cookie."""
    user: str
    server_name: str
    base_url: str
    """The hub's global base URL, e.g. "/"."""
    prefix: str
    """This server's URL prefix, e.g. /user/alice/; jupyter_server's base_url."""
    hub_host: str
    """The hub's public origin, or "" when URLs are host-relative."""
    callback_url: str
    access_scopes: frozenset[str]
    """A request is allowed when its identity holds any of these."""
    activity_url: str
    activity_interval: int
    bind_host: str | None
    """Interface to listen on: None for jupyter_server's default, "" for all interfaces."""
    bind_port: int | None
    default_url: str
    root_dir: str | None
    allow_token_in_url: bool
    debug: bool
    cookie_options: Mapping[str, object]

    @property
    def hub_prefix(self) -> str:
        """Where the hub's pages live, e.g. /hub/."""
        return self.base_url + "hub/"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> HubEnvironment:
        """Read and check the environment; HubEnvironmentError names the first variable that is wrong."""
        api_url = _required(environ, "JUPYTERHUB_API_URL").rstrip("/")
        token = _required(environ, "JUPYTERHUB_API_TOKEN", legacy="JPY_API_TOKEN")
        user = _required(environ, "JUPYTERHUB_USER")
        server_name = environ.get("JUPYTERHUB_SERVER_NAME", "")
        prefix = _slashed(environ.get("JUPYTERHUB_SERVICE_PREFIX", "/"))
        host, port = _bind_address(environ.get("JUPYTERHUB_SERVICE_URL", ""))
        return cls(
            api_url=api_url,
            api_token=token,
            client_id=environ.get("JUPYTERHUB_CLIENT_ID") or _default_client_id(user, server_name),
            user=user,
            server_name=server_name,
            base_url=_slashed(environ.get("JUPYTERHUB_BASE_URL", "/")),
            prefix=prefix,
            hub_host=environ.get("JUPYTERHUB_HOST", "").rstrip("/"),
            callback_url=environ.get("JUPYTERHUB_OAUTH_CALLBACK_URL") or prefix + "oauth_callback",
            access_scopes=_access_scopes(environ, user, server_name),
            activity_url=environ.get("JUPYTERHUB_ACTIVITY_URL", ""),
            activity_interval=_activity_interval(environ),
            bind_host=host,
            bind_port=port,
            default_url=environ.get("JUPYTERHUB_DEFAULT_URL") or "/lab",
            root_dir=_root_dir(environ),
            allow_token_in_url=_flag(environ, "JUPYTERHUB_ALLOW_TOKEN_IN_URL"),
            debug=_flag(environ, "JUPYTERHUB_DEBUG"),
            cookie_options=_json_object(environ, "JUPYTERHUB_COOKIE_OPTIONS"),
        )


def current() -> HubEnvironment:
    """This process's hub environment."""
    return HubEnvironment.from_environ(os.environ)


def _required(environ: Mapping[str, str], name: str, legacy: str = "") -> str:
    value = environ.get(name) or environ.get(legacy) or ""
    if not value:
        raise HubEnvironmentError(
            f"{name} is not set. A hub sets it when it starts this server; to run the server by hand, "
            "export the JUPYTERHUB_* variables the hub would give it."
        )
    return value


def _slashed(path: str) -> str:
    return "/" + path.strip("/") + "/" if path.strip("/") else "/"


def _default_client_id(user: str, server_name: str) -> str:
    client_id = "jupyterhub-user-" + quote(user, safe="")
    return client_id + "-" + quote(server_name, safe="") if server_name else client_id


def _bind_address(service_url: str) -> tuple[str | None, int | None]:
    if not service_url:
        return None, None
    parts = urlsplit(service_url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or port == -1:
        raise HubEnvironmentError(
            f"JUPYTERHUB_SERVICE_URL is {service_url!r}; expected http[s]://HOST:PORT/PREFIX/, "
            "the address this server should listen on."
        )
    return parts.hostname or "", port


def _access_scopes(environ: Mapping[str, str], user: str, server_name: str) -> frozenset[str]:
    names = [n for n in ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "JUPYTERHUB_OAUTH_SCOPES") if n in environ]
    if not names:
        return frozenset({f"access:servers!server={user}/{server_name}", f"access:servers!user={user}"})
    name = names[0]
    raw = environ[name]
    try:
        scopes = json.loads(raw)
    except ValueError:
        scopes = None
    if not isinstance(scopes, list) or not scopes or not all(isinstance(s, str) for s in scopes):
        raise HubEnvironmentError(
            f'{name} is {raw!r}; expected a non-empty JSON list of scopes, e.g. ["access:servers!user={user}"].'
        )
    return frozenset(scopes)


def _activity_interval(environ: Mapping[str, str]) -> int:
    raw = environ.get("JUPYTERHUB_ACTIVITY_INTERVAL", "")
    if not raw:
        return DEFAULT_ACTIVITY_INTERVAL
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise HubEnvironmentError(
            f"JUPYTERHUB_ACTIVITY_INTERVAL is {raw!r}; expected whole seconds (0 turns activity reports off)."
        )
    return value


def _root_dir(environ: Mapping[str, str]) -> str | None:
    raw = environ.get("JUPYTERHUB_ROOT_DIR", "")
    return os.path.expanduser(raw) if raw else None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "") not in ("", "0")


def _json_object(environ: Mapping[str, str], name: str) -> Mapping[str, object]:
    raw = environ.get(name, "")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise HubEnvironmentError(f"{name} is {raw!r}; expected a JSON object of cookie attributes.")
    return value
