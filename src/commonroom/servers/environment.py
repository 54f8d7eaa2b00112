"""The JUPYTERHUB_* environment a single-user server gets (the contract stock jupyterhub-singleuser expects)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from commonroom import urls
from commonroom.auth import scopes
from commonroom.config.models import Config, split_hostport
from commonroom.culling.decide import report_interval


def hub_api_url(config: Config) -> str:
    """The hub API as servers reach it: the hub's internal address, not the public one."""
    host, port = split_hostport(config.hub.internal_bind)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{urls.hub_path(config.hub.base_url, 'api')}"


def public_host(config: Config) -> str:
    """Origin of the public site ("https://hub.example.org"), or "" to keep URLs host-relative."""
    if not config.hub.public_url:
        return ""
    parts = urlsplit(config.hub.public_url)
    return f"{parts.scheme}://{parts.netloc}"


def hub_client_env(config: Config, api_token: str, client_id: str, callback: str, access: list[str]) -> dict[str, str]:
    """What every program that uses the hub's API and signs people in through it gets: servers and services."""
    access_json = json.dumps(access)
    env = {
        "JUPYTERHUB_API_TOKEN": api_token,
        "JPY_API_TOKEN": api_token,
        "JUPYTERHUB_CLIENT_ID": client_id,
        "JUPYTERHUB_API_URL": hub_api_url(config),
        "JUPYTERHUB_BASE_URL": config.hub.base_url,
        "JUPYTERHUB_OAUTH_CALLBACK_URL": callback,
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": access_json,
        "JUPYTERHUB_OAUTH_SCOPES": access_json,
        "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
        "JUPYTERHUB_HOST": public_host(config),
        "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "0",
    }
    if config.hub.public_url:
        env["JUPYTERHUB_PUBLIC_URL"] = config.hub.public_url
        env["JUPYTERHUB_PUBLIC_HUB_URL"] = config.hub.public_url.rstrip("/") + urls.hub_path(config.hub.base_url)
    return env


def server_env(config: Config, user: str, server: str, api_token: str) -> dict[str, str]:
    prefix = urls.user_prefix(config.hub.base_url, user, server)
    access = scopes.access_scopes(user, server)
    env = hub_client_env(config, api_token, urls.client_id(user, server), f"{prefix}oauth_callback", access)
    env.update(
        JUPYTERHUB_ACTIVITY_URL=f"{env['JUPYTERHUB_API_URL']}/users/{quote(user, safe='')}/activity",
        JUPYTERHUB_ACTIVITY_INTERVAL=str(report_interval(config)),
        JUPYTERHUB_SERVICE_PREFIX=prefix,
        JUPYTERHUB_USER=user,
        JUPYTERHUB_SERVER_NAME=server,
        JUPYTERHUB_DEFAULT_URL=config.spawner.default_url,
    )
    return env


def auth_state_env(mapping: Mapping[str, str], auth_state: Mapping[str, Any]) -> dict[str, str]:
    """Variables from the person's auth state, per auth.auth_state_env (VARIABLE = key); a key not at the top
    is looked up among the provider's claims. Lists and tables become JSON; missing keys are left out."""
    claims = auth_state.get("claims")
    env = {}
    for variable, key in mapping.items():
        value = auth_state.get(key, claims.get(key) if isinstance(claims, dict) else None)
        if value is not None:
            env[variable] = value if isinstance(value, str) else json.dumps(value)
    return env
