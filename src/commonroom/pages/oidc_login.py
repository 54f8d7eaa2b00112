"""Sign-in through an identity provider (a RedirectAuthenticator): the start, and the provider's callback."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commonroom.api.deps import DB
from commonroom.auth import signin
from commonroom.auth.base import AuthenticationError, RedirectAuthenticator
from commonroom.pages.login import sign_in_response
from commonroom.pages.render import hub_of, hub_url, render
from commonroom.web import pending

log = logging.getLogger(__name__)
router = APIRouter()

PURPOSE = "oidc"
MAX_AGE = 600


def redirecting(request: Request) -> RedirectAuthenticator | None:
    authenticator = hub_of(request).authenticator
    return authenticator if isinstance(authenticator, RedirectAuthenticator) else None


@router.get("/oauth_login")
async def oauth_login(request: Request) -> Response:
    hub, authenticator = hub_of(request), redirecting(request)
    if authenticator is None:
        return RedirectResponse(hub_url(request, "login"), status_code=302)
    saved = {"next": request.query_params.get("next", "")}
    try:
        target = await authenticator.login_url(hub.public_origin + hub_url(request, "oauth_callback"), saved)
    except AuthenticationError as exc:
        log.warning("sign-in could not start: %s", exc)
        return render(request, "login.html", status=503, error=str(exc), provider=authenticator.display_name)
    response = RedirectResponse(target, status_code=302)
    pending.put(response, hub.secrets.cookie_secret, PURPOSE, saved, hub_url(request), MAX_AGE,
                hub.config.hub.public_url.startswith("https://"))  # fmt: skip
    return response


@router.get("/oauth_callback")
async def oauth_callback(request: Request, db: DB) -> Response:
    hub, authenticator = hub_of(request), redirecting(request)
    if authenticator is None:
        return RedirectResponse(hub_url(request, "login"), status_code=302)
    saved = pending.get(request, hub.secrets.cookie_secret, PURPOSE, MAX_AGE) or {}
    try:
        identity = await authenticator.callback(db, dict(request.query_params), saved)
        user = await signin.accept(db, identity, hub.config.auth, hub.secrets.encryption_key)
    except AuthenticationError as exc:
        await db.rollback()
        log.warning("sign-in through %s refused: %s", authenticator.display_name, exc)
        refused: Response = render(request, "login.html", status=403, error=str(exc), provider=authenticator.display_name)
        pending.drop(refused, PURPOSE, hub_url(request))
        return refused
    log.info("signed in through %s: %s (admin: %s)", authenticator.display_name, user.name, user.admin)
    response = await sign_in_response(request, db, user, saved.get("next"))
    pending.drop(response, PURPOSE, hub_url(request))
    return response
