"""The REST API under {base_url}hub/api, wire-compatible with JupyterHub's."""

from fastapi import APIRouter

from commonroom.api import (
    activity,
    culling,
    groups,
    hubcontrol,
    oauth,
    roles,
    root,
    servers,
    services,
    shares,
    tokens,
    users,
)

router = APIRouter()
for module in (root, users, activity, servers, culling, tokens, oauth, hubcontrol, services, groups, roles, shares):
    router.include_router(module.router)
