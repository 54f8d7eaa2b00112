"""The API's root: version (no auth, the single-user start-up handshake), health and hub info."""

from __future__ import annotations

import sys
from typing import Any

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from commonroom import JUPYTERHUB_COMPAT_VERSION, __version__
from commonroom.api.deps import CallerDep, HubDep, require
from commonroom.config.models import SpawnerConfig
from commonroom.limits import detect

router = APIRouter()


@router.get("/")
async def version() -> JSONResponse:
    body = {"version": JUPYTERHUB_COMPAT_VERSION, "commonroom": __version__}
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})


@router.api_route("/health", methods=["GET", "HEAD"])
async def health() -> Response:
    return Response(status_code=200)


@router.get("/info")
async def info(hub: HubDep, caller: CallerDep) -> dict[str, Any]:
    require(caller, "read:hub")
    return {
        "version": JUPYTERHUB_COMPAT_VERSION,
        "commonroom": __version__,
        "python": sys.version,
        "sys_executable": sys.executable,
        "spawner": {"class": hub.spawner_class.__name__, "version": __version__},
        "authenticator": {"class": type(hub.authenticator).__name__, "version": __version__},
        "resource_limits": _limits(hub.config.spawner),
    }


def _limits(spawner: SpawnerConfig) -> dict[str, str] | None:
    """How profile limits are enforced on this hub; None without profiles."""
    if not spawner.profiles:
        return None
    enforcer = detect.active(spawner.enforcement)
    return {"enforcement": enforcer.kind, "description": enforcer.describe()}
