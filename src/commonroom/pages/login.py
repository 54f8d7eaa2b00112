"""Sign in, sign out, sign up, and the first administrator's one-time link."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commonroom.api.deps import DB
from commonroom.auth import mfa, signin, throttle
from commonroom.auth.base import RedirectAuthenticator
from commonroom.auth.names import normalize
from commonroom.auth.native import NativeAuthenticator, SignupError
from commonroom.auth.secrets import hash_secret
from commonroom.db.models import OneTimeLink, User
from commonroom.pages.mfa import start_second_step
from commonroom.pages.render import checked_form, hub_of, hub_url, render, safe_next
from commonroom.timeutil import utcnow
from commonroom.web.identity import client_address, close_session, from_cookie, open_session

log = logging.getLogger(__name__)
router = APIRouter()


async def sign_in_response(request: Request, db: DB, user: User, next_url: str | None) -> Response:
    hub = hub_of(request)
    response = RedirectResponse(safe_next(request, next_url), status_code=302)
    secure = hub.config.hub.public_url.startswith("https://")
    await open_session(db, response, user, hub_url(request), hub.config.hub.cookie_max_age_days, secure)
    return response


@router.get("/login")
async def login_page(request: Request, db: DB) -> Response:
    if await from_cookie(db, request):
        return RedirectResponse(safe_next(request, request.query_params.get("next")), status_code=302)
    authenticator = hub_of(request).authenticator
    if isinstance(authenticator, RedirectAuthenticator):
        return render(request, "login.html", next=request.query_params.get("next", ""), provider=authenticator.display_name)
    return render(request, "login.html", next=request.query_params.get("next", ""), signup=_native(request) is not None)


@router.post("/login")
async def login_submit(request: Request, db: DB) -> Response:
    hub = hub_of(request)
    form = await checked_form(request)
    name, address = normalize(form.get("username", "")), client_address(request)
    next_url = form.get("next")

    def refuse(message: str, status: int) -> Response:
        log.warning("sign-in refused for %r from %s: %s", name, address, message)
        return render(request, "login.html", status=status, error=message, username=name, next=next_url,
                      signup=_native(request) is not None)  # fmt: skip

    try:
        user = await signin.with_form(db, hub.authenticator, hub.config.auth, hub.secrets.encryption_key, form, address)
    except signin.SignInRefused as exc:
        return refuse(exc.message, exc.status)
    if mfa.stage(user, hub.config.auth) is not None:
        return await start_second_step(request, db, user, next_url)
    await throttle.record_success(db, user.name)
    return await sign_in_response(request, db, user, next_url)


@router.get("/logout")
async def logout(request: Request, db: DB) -> Response:
    response = RedirectResponse(hub_url(request, "login"), status_code=302)
    await close_session(db, request, response, hub_url(request))
    return response


def _native(request: Request) -> NativeAuthenticator | None:
    authenticator = hub_of(request).authenticator
    return authenticator if isinstance(authenticator, NativeAuthenticator) else None


@router.get("/signup")
async def signup_page(request: Request) -> Response:
    if _native(request) is None:
        return render(request, "error.html", status=404, code=404, message="Sign-up is not available on this hub.")
    return render(request, "signup.html")


@router.post("/signup")
async def signup_submit(request: Request, db: DB) -> Response:
    native = _native(request)
    if native is None:
        return render(request, "error.html", status=404, code=404, message="Sign-up is not available on this hub.")
    form = await checked_form(request)
    name = form.get("username", "")
    if form.get("password", "") != form.get("password2", ""):
        return render(request, "signup.html", status=400, error="The two passwords differ; type the same one twice.", username=name)
    try:
        user = await native.sign_up(db, name, form.get("password", ""))
    except SignupError as exc:
        return render(request, "signup.html", status=400, error=str(exc), username=name)
    await db.commit()
    log.info("new sign-up: %s (approved: %s)", user.name, user.approved)
    if user.approved:
        return await sign_in_response(request, db, user, None)
    return render(request, "signup_done.html", username=user.name)


async def _live_link(db: DB, secret: str) -> OneTimeLink | None:
    link = (await db.execute(select(OneTimeLink).where(OneTimeLink.hashed == hash_secret(secret)))).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        return None
    return link


DEAD_LINK = (
    "This link has expired or was already used. Restart the hub to print a new one "
    "(it prints one at every start while there is no administrator)."
)


@router.get("/first-admin/{secret}")
async def first_admin_page(secret: str, request: Request, db: DB) -> Response:
    if await _live_link(db, secret) is None:
        return render(request, "error.html", status=410, code=410, message=DEAD_LINK)
    return render(request, "signup.html", first_admin=True, action=hub_url(request, f"first-admin/{secret}"))


@router.post("/first-admin/{secret}")
async def first_admin_submit(secret: str, request: Request, db: DB) -> Response:
    form = await checked_form(request)
    link, native = await _live_link(db, secret), _native(request)
    if link is None or native is None:
        return render(request, "error.html", status=410, code=410, message=DEAD_LINK)
    name = form.get("username", "")
    action = hub_url(request, f"first-admin/{secret}")
    if form.get("password", "") != form.get("password2", ""):
        return render(request, "signup.html", status=400, error="The two passwords differ; type the same one twice.",
                      username=name, first_admin=True, action=action)  # fmt: skip
    claimed = await db.execute(
        update(OneTimeLink).where(OneTimeLink.id == link.id, OneTimeLink.used_at.is_(None)).values(used_at=utcnow())
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return render(request, "error.html", status=410, code=410, message=DEAD_LINK)
    try:
        user = await native.sign_up(db, name, form.get("password", ""), admin=True)
    except SignupError as exc:
        await db.rollback()
        return render(request, "signup.html", status=400, error=str(exc), username=name, first_admin=True, action=action)
    await db.commit()
    log.info("first administrator created: %s", user.name)
    return await sign_in_response(request, db, user, hub_url(request, "admin"))
