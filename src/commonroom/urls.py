"""Building the site's URLs in one place, so escaping is done once and done right."""

from __future__ import annotations

from urllib.parse import quote


def user_prefix(base_url: str, user: str, server: str = "") -> str:
    """/user/alice/ or /user/alice/gpu/ under base_url (segments URL-escaped)."""
    prefix = f"{base_url}user/{quote(user, safe='')}/"
    return f"{prefix}{quote(server, safe='')}/" if server else prefix


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
