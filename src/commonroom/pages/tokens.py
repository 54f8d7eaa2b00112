"""The token page (/hub/token): make an API token with scopes, expiry and a note; see one's tokens with when
each was last used; revoke them. The same rules as the REST API (api/tokens.py) apply."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commonroom.api.deps import DB
from commonroom.api.tokens import grantable, live_tokens
from commonroom.auth import tokens
from commonroom.db.models import APIToken
from commonroom.pages.render import checked_form, hub_url, render, signed_in
from commonroom.web.errors import APIError

router = APIRouter()

# Choices offered for a new token's lifetime, in seconds (0: it never expires).
EXPIRY_CHOICES = {"3600": "1 hour", "86400": "1 day", "604800": "1 week", "2592000": "30 days", "0": "never"}


async def _page(request: Request, db: DB, status: int = 200, **context: object) -> Response:
    caller = await signed_in(request, db)
    rows = [row for row in await live_tokens(db, caller.user.id) if row.server_id is None]
    return render(request, "token.html", status=status, caller=caller, tokens=rows, expiry_choices=EXPIRY_CHOICES, **context)


@router.get("/token")
async def token_page(request: Request, db: DB) -> Response:
    return await _page(request, db)


@router.post("/token")
async def create_token(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    form = await checked_form(request)
    expires = form.get("expires_in", "0")
    if expires not in EXPIRY_CHOICES:
        return await _page(request, db, 400, problem=f"Choose an expiry from the list, not {expires!r}.")
    try:
        scopes = await grantable(db, caller, caller.user, form.get("scopes", "").split() or ["inherit"])
    except APIError as exc:
        return await _page(request, db, 400, problem=exc.message)
    note = form.get("note", "").strip()[:1023] or "Made on the token page"
    row, token = await tokens.issue(db, caller.user, scopes, note=note, expires_in=int(expires) or None)
    await db.commit()
    return await _page(request, db, 200, new_token=token, new_id=row.id)


@router.post("/token/{token_id}/revoke")
async def revoke_token(token_id: int, request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    await checked_form(request)
    row = await db.get(APIToken, token_id)
    if row is not None and row.user_id == caller.user.id:
        await db.delete(row)
        await db.commit()
    return RedirectResponse(hub_url(request, "token"), status_code=302)
