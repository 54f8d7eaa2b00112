"""Services in the API: list, look at, add an external one at runtime, remove a runtime one.

Managed services (with a command) exist only in the config file: the hub runs them, so the API cannot add them,
and services from the config cannot be removed through the API (405), as in JupyterHub.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from commonroom import urls
from commonroom.api.deps import DB, CallerDep, HubDep, require
from commonroom.auth.roles import role_names
from commonroom.auth.scopes import ADMIN_ROLE_SCOPES, Access, Target
from commonroom.config.models import ServiceConfig
from commonroom.db.models import OAuthClient, Service
from commonroom.servers import routes
from commonroom.services import registry
from commonroom.web.errors import NOT_FOUND_OR_NO_ACCESS, APIError
from commonroom.web.identity import Caller

if TYPE_CHECKING:
    from commonroom.hub import Hub

router = APIRouter()
log = logging.getLogger(__name__)

READ_ANY = ("read:services", "read:services:name", "read:roles:services")


class ServiceRequest(BaseModel):
    """An external service added at runtime. Managed services (a command) are defined in the config file."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field("", description="Where the service listens; the proxy routes /services/<name>/ there.")
    api_token: str = Field("", description="Its API token (8-255 characters); empty: one is made and returned once.")
    oauth_client_id: str = Field("", description="Must start with 'service-'; empty: service-<name>.")
    oauth_redirect_uri: str = Field("", description="Empty: /services/<name>/oauth_callback.")
    oauth_no_confirm: bool = False
    display: bool = True
    info: dict[str, str] = Field(default_factory=dict)
    admin: bool = Field(False, description="Deprecated: gives the admin role; only someone who holds it all may.")
    command: list[str] = Field(default_factory=list, description="Must be empty: managed services live in the config.")


def service_model(caller: Caller, row: Service, hub: Hub) -> dict[str, Any]:
    """The fields the caller's scopes allow (JupyterHub's access map)."""
    target = Target(service=row.name)
    model: dict[str, Any] = {"kind": "service", "name": row.name, "admin": row.admin}
    if caller.check("read:roles:services", target) is Access.GRANTED:
        model["roles"] = role_names(row)
    if caller.check("read:services", target) is Access.GRANTED:
        spec = hub.services.specs.get(row.name)
        model.update(
            url=row.url,
            prefix=urls.service_prefix(hub.config.hub.base_url, row.name) if row.url else "",
            command=spec.command if spec else [],
            pid=hub.services.pid(row.name),
            info=row.info,
            display=row.display,
        )
    return model


async def _find(db: DB, name: str) -> Service:
    row = await registry.find(db, name)
    if row is None:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)
    return row


async def _sync_routes(hub: Hub) -> None:
    """Route a new service, or drop a removed one's route, now rather than at the next check."""
    try:
        await routes.sync(hub.servers, hub.hub_target)
    except Exception:
        log.exception("could not sync proxy routes after a service change; the periodic check will retry")


@router.get("/services")
async def list_services(caller: CallerDep, db: DB, hub: HubDep) -> dict[str, dict[str, Any]]:
    if caller.check("list:services") is Access.MISSING:
        require(caller, "list:services")  # 403; a filtered list:services lists just the services it names
    rows = (await db.execute(select(Service).order_by(Service.name))).scalars()
    listed = (r for r in rows if caller.check("list:services", Target(service=r.name)) is Access.GRANTED)
    return {row.name: service_model(caller, row, hub) for row in listed}


@router.get("/services/{name}")
async def get_service(name: str, caller: CallerDep, db: DB, hub: HubDep) -> dict[str, Any]:
    require(caller, READ_ANY, Target(service=name))
    return service_model(caller, await _find(db, name), hub)


@router.post("/services/{name}", status_code=201)
async def add_service(name: str, body: ServiceRequest, caller: CallerDep, db: DB, hub: HubDep) -> JSONResponse:
    require(caller, "admin:services", Target(service=name))
    if body.command:
        raise APIError(400, f"Service {name} cannot be managed (have a command) when added at runtime: define "
                            "managed services in the config file's [[services]].")  # fmt: skip
    try:
        spec = ServiceConfig.model_validate({"name": name, **body.model_dump(exclude={"command"})})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "name"
        raise APIError(400, f"Invalid service {where}: {first['msg'].removeprefix('Value error, ')}") from None
    if spec.admin and any(caller.check(s) is not Access.GRANTED for s in ADMIN_ROLE_SCOPES):
        raise APIError(400, "Not creating an admin service: you do not hold every scope of the admin role.")
    if await registry.find(db, name) is not None:
        raise APIError(409, f"Service {name} already exists")
    taken = await db.get(OAuthClient, spec.client_id)
    if taken is not None and (spec.url or spec.oauth_redirect_uri):
        raise APIError(409, f"OAuth client {spec.client_id} already exists; choose another oauth_client_id.")
    row, token = await registry.add(db, spec, hub.config.hub.base_url)
    await db.commit()
    await _sync_routes(hub)
    return JSONResponse({**service_model(caller, row, hub), "api_token": token}, status_code=201)


@router.delete("/services/{name}")
async def remove_service(name: str, caller: CallerDep, db: DB, hub: HubDep) -> Response:
    require(caller, "admin:services", Target(service=name))
    row = await _find(db, name)
    if row.from_config:
        raise APIError(405, f"Service {name} is defined in the config file: remove it there and restart the hub.")
    await registry.remove(db, row)
    await db.commit()
    await _sync_routes(hub)
    return Response(status_code=200)

