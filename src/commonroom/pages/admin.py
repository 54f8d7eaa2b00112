"""The admin page: everyone's accounts and servers, approval of sign-ups, admin rights."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commonroom.api.deps import DB
from commonroom.auth import mfa
from commonroom.auth.scopes import Access
from commonroom.db.models import User
from commonroom.limits import detect
from commonroom.pages.render import checked_form, hub_of, hub_url, render, signed_in

log = logging.getLogger(__name__)
router = APIRouter()

ACTIONS = ("approve", "grant-admin", "remove-admin", "reset-mfa")


@router.get("/admin")
async def admin_page(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    if caller.check("admin-ui") is not Access.GRANTED:
        return render(request, "error.html", status=403, caller=caller, code=403, message="Only administrators may open the admin page.")
    users = list((await db.execute(select(User).order_by(User.approved, User.name))).scalars())
    spawner = hub_of(request).config.spawner
    limits = detect.active(spawner.enforcement) if spawner.profiles else None
    return render(request, "admin.html", caller=caller, users=users, notice=request.query_params.get("notice"), limits=limits)


@router.post("/admin/users/{name}/{action}")
async def admin_action(name: str, action: str, request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    await checked_form(request)
    if caller.check("admin:users") is not Access.GRANTED or action not in ACTIONS:
        return render(request, "error.html", status=403, caller=caller, code=403, message="Only administrators may do that.")
    user = (await db.execute(select(User).where(User.name == name))).scalar_one_or_none()
    if user is None:
        return render(request, "error.html", status=404, caller=caller, code=404, message=f"No user named {name}.")
    if action == "remove-admin" and user.id == caller.user.id:
        return RedirectResponse(hub_url(request, "admin?notice=You+cannot+remove+your+own+admin+rights."), status_code=302)
    if action == "approve":
        user.approved = True
    elif action == "reset-mfa":
        await mfa.reset(db, user)
    else:
        user.admin = action == "grant-admin"
    await db.commit()
    log.info("admin %s: %s %s", caller.user.name, action, name)
    return RedirectResponse(hub_url(request, "admin"), status_code=302)
