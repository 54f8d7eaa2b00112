"""/hub/accept-share?code=...: someone opened a share link; one click (a CSRF-protected form) accepts it."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commonroom import urls
from commonroom.api.deps import DB
from commonroom.db.models import ShareCode
from commonroom.pages.render import checked_form, hub_of, hub_url, render, signed_in
from commonroom.sharing import store
from commonroom.users.directory import DirectoryError
from commonroom.web.identity import Caller

router = APIRouter()

EXPIRED = "This share link is unknown or has expired. Ask the person who shared it for a new one."


def _refuse(request: Request, caller: Caller, status: int, message: str) -> Response:
    return render(request, "error.html", status=status, caller=caller, code=status, title="Cannot accept", message=message)


async def _code(db: DB, code: str) -> ShareCode | None:
    return await store.find_code(db, code) if code else None


@router.get("/accept-share")
async def accept_page(request: Request, db: DB, code: str = "") -> Response:
    caller = await signed_in(request, db)
    row = await _code(db, code)
    if row is None:
        return _refuse(request, caller, 404, EXPIRED)
    return render(request, "accept_share.html", caller=caller, code=code, owner=row.server.user.name,
                  server=row.server.name, scopes=row.scopes)  # fmt: skip


@router.post("/accept-share")
async def accept(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    form = await checked_form(request)
    row = await _code(db, form.get("code", ""))
    if row is None:
        return _refuse(request, caller, 404, EXPIRED)
    try:
        await store.exchange(db, row, caller.user)
    except DirectoryError as exc:
        return _refuse(request, caller, exc.status, exc.message)
    await db.commit()
    if row.server.running:
        base = hub_of(request).config.hub.base_url
        return RedirectResponse(urls.user_prefix(base, row.server.user.name, row.server.name), status_code=302)
    return RedirectResponse(hub_url(request, "home"), status_code=302)
