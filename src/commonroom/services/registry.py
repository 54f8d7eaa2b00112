"""Service rows with their tokens and OAuth clients: rewritten from the config at each start, or added and
removed at runtime through the API.

A service's token is also its OAuth client secret (as in JupyterHub). A token from the config was chosen by a
person, so it is stored with the slow salted hash; tokens the hub makes are random and get the fast one.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom import urls
from commonroom.auth import tokens
from commonroom.auth.secrets import hash_chosen, matches
from commonroom.config.models import Config, ServiceConfig
from commonroom.db.models import APIToken, OAuthClient, Service

CONFIG_TOKEN_NOTE = "Service token from the config"
LAUNCH_TOKEN_NOTE = "Managed service token"
"""A token the hub made for one launch of a managed service that has no api_token; the next launch replaces it."""
RUNTIME_TOKEN_NOTE = "Service token"
NO_SECRET = "!"
"""The OAuth client secret hash of a managed service before its first launch: matches no secret."""


def access_scope(name: str) -> str:
    """What a person must hold to be signed in to the service."""
    return f"access:services!service={name}"


def redirect_uri(base_url: str, spec: ServiceConfig) -> str:
    return spec.oauth_redirect_uri or f"{urls.service_prefix(base_url, spec.name)}oauth_callback"


def uses_oauth(spec: ServiceConfig, runtime: bool = False) -> bool:
    """Only a service people open (a url or a redirect uri) that has a token (its client secret) signs them in;
    managed and runtime services always get one."""
    return bool((spec.url or spec.oauth_redirect_uri) and (spec.api_token or spec.command or runtime))


async def find(db: AsyncSession, name: str) -> Service | None:
    return (await db.execute(select(Service).where(Service.name == name))).scalar_one_or_none()


async def displayed(db: AsyncSession) -> list[Service]:
    """Services people open in their browser (a url, and display on), by name."""
    query = select(Service).where(Service.url != "", Service.display.is_(True)).order_by(Service.name)
    return list((await db.execute(query)).scalars())


async def sync_config(db: AsyncSession, config: Config) -> None:
    """Make the config's services rows exactly as it says; services removed from it are deleted (with their
    tokens and OAuth client). A runtime service of the same name becomes the config's."""
    specs = {spec.name: spec for spec in config.services}
    rows = {row.name: row for row in (await db.execute(select(Service))).scalars()}
    for name, row in rows.items():
        if row.from_config and name not in specs:
            await remove(db, row)
    for spec in config.services:
        row = rows.get(spec.name) or Service(name=spec.name, roles=[])
        if row.id is not None and not row.from_config:  # the token it was given at runtime is not the config's
            await db.execute(delete(APIToken).where(APIToken.service_id == row.id, APIToken.note == RUNTIME_TOKEN_NOTE))
        row.from_config = True
        await _apply(db, row, spec, config.hub.base_url)
        await _keep_config_token(db, row, spec.api_token)


async def add(db: AsyncSession, spec: ServiceConfig, base_url: str) -> tuple[Service, str]:
    """A runtime (external) service and its token, which is returned in clear this once."""
    row = Service(name=spec.name, roles=[], from_config=False)
    await _apply(db, row, spec, base_url, runtime=True)
    stored, token = await tokens.issue(db, row, note=RUNTIME_TOKEN_NOTE, chosen=spec.api_token or None)
    await _set_client_secret(db, row, stored.hashed)
    return row, token


async def remove(db: AsyncSession, row: Service) -> None:
    """The service, its tokens and its OAuth client (and so the tokens people got through it)."""
    if row.oauth_client_id:
        await db.execute(delete(OAuthClient).where(OAuthClient.identifier == row.oauth_client_id))
    await db.execute(delete(APIToken).where(APIToken.service_id == row.id))
    await db.delete(row)


async def launch_token(db: AsyncSession, row: Service) -> str:
    """A new token for a new process of a managed service without api_token (the previous one stops working);
    it is the OAuth client secret from now on."""
    await db.execute(delete(APIToken).where(APIToken.service_id == row.id, APIToken.note == LAUNCH_TOKEN_NOTE))
    stored, token = await tokens.issue(db, row, note=LAUNCH_TOKEN_NOTE)
    await _set_client_secret(db, row, stored.hashed)
    return token


async def _set_client_secret(db: AsyncSession, row: Service, hashed: str) -> None:
    client = await db.get(OAuthClient, row.oauth_client_id) if row.oauth_client_id else None
    if client is not None:
        client.hashed_secret = hashed


async def _apply(db: AsyncSession, row: Service, spec: ServiceConfig, base_url: str, runtime: bool = False) -> None:
    """Copy the spec's fields onto the row and make its OAuth client match (a config token is its secret)."""
    row.url, row.display, row.info, row.admin = spec.url, spec.display, dict(spec.info), spec.admin
    db.add(row)
    await db.flush()
    old = row.oauth_client_id
    row.oauth_client_id = spec.client_id if uses_oauth(spec, runtime) else None
    if old and old != row.oauth_client_id:
        await db.execute(delete(OAuthClient).where(OAuthClient.identifier == old))
    if row.oauth_client_id is None:
        return
    client = await db.get(OAuthClient, row.oauth_client_id)
    if client is None:
        client = OAuthClient(identifier=row.oauth_client_id, hashed_secret=NO_SECRET)
        db.add(client)
    client.description = f"the service {spec.name}"
    client.redirect_uri = redirect_uri(base_url, spec)
    client.access_scopes = [access_scope(spec.name)]
    client.server_id = None
    if spec.api_token and not matches(client.hashed_secret, spec.api_token):
        client.hashed_secret = hash_chosen(spec.api_token)
    await db.flush()


async def _keep_config_token(db: AsyncSession, row: Service, token: str) -> None:
    """The config's api_token as the service's only config token (the stored one is kept while it matches)."""
    query = select(APIToken).where(APIToken.service_id == row.id, APIToken.note == CONFIG_TOKEN_NOTE)
    stored = list((await db.execute(query)).scalars())
    if token and any(matches(t.hashed, token) for t in stored):
        return
    for old in stored:
        await db.delete(old)
    if token:
        await tokens.issue(db, row, note=CONFIG_TOKEN_NOTE, chosen=token)
