"""Building the site's URLs in one place, so escaping is done once and done right.

URLs are built from the percent-encoded base_url, as they appear on the wire. Starlette matches routes on
the decoded path, so only route declarations use `route_prefix`; a request's own path is read raw.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote


def user_prefix(base_url: str, user: str, server: str = "") -> str:
    """/user/alice/ or /user/alice/gpu/ under base_url (segments URL-escaped)."""
    prefix = f"{base_url}user/{quote(user, safe='')}/"
    return f"{prefix}{quote(server, safe='')}/" if server else prefix


def service_prefix(base_url: str, name: str) -> str:
    """/services/<name>/ under base_url, where the proxy routes a service that has a url."""
    return f"{base_url}services/{quote(name, safe='')}/"


def hub_path(base_url: str, path: str = "") -> str:
    """A hub page or API path: hub_path("/", "api/users") -> /hub/api/users."""
    return f"{base_url}hub/{path.lstrip('/')}"


def server_api_path(base_url: str, user: str, server: str, suffix: str = "") -> str:
    """The REST path of a server: /hub/api/users/alice/server or .../servers/gpu."""
    base = f"{base_url}hub/api/users/{quote(user, safe='')}/"
    tail = f"servers/{quote(server, safe='')}" if server else "server"
    return base + tail + suffix


def client_id(user: str, server: str = "") -> str:
    """The OAuth client id (and cookie name) of a user's server, as JupyterHub names it."""
    cid = f"jupyterhub-user-{quote(user, safe='')}"
    return f"{cid}-{quote(server, safe='')}" if server else cid


def route_prefix(base_url: str) -> str:
    """base_url as Starlette matches it: decoded."""
    return unquote(base_url)


def raw_path(scope: Any) -> str:
    """The request's path exactly as the client sent it (still percent-encoded), with its query."""
    raw: bytes = scope.get("raw_path") or quote(scope["path"]).encode()
    query: bytes = scope.get("query_string", b"")
    return raw.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
