"""The REST API under {base_url}hub/api, wire-compatible with JupyterHub's."""

from fastapi import APIRouter

from commonroom.api import activity, culling, hubcontrol, oauth, root, servers, services, tokens, users

router = APIRouter()
for module in (root, users, activity, servers, culling, tokens, oauth, hubcontrol, services):
    router.include_router(module.router)
