"""The second sign-in step (a one-time code) and setting it up.

Between the password and the code the person holds only a short-lived signed cookie naming their account; the
session is opened once the code is right. Wrong codes count as failed sign-ins (auth/throttle.py).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commonroom.api.deps import DB
from commonroom.auth import mfa, throttle
from commonroom.auth.encryption import DecryptionError, decrypt_text, encrypt_text
from commonroom.auth.native import NativeAuthenticator
from commonroom.db.models import User
from commonroom.pages.render import checked_form, hub_of, hub_url, render, safe_next, signed_in
from commonroom.timeutil import utcnow
from commonroom.web import pending
from commonroom.web.identity import Caller, client_address, open_session

log = logging.getLogger(__name__)
router = APIRouter()

SIGN_IN, ENROL = "mfa", "mfa-enrol"
EXPIRED = "Your sign-in took too long or was already finished. Sign in again with your password."
WRONG_CODE = "That code is not right. Enter the code your app shows now (or an unused recovery code)."


def _secure(request: Request) -> bool:
    return hub_of(request).config.hub.public_url.startswith("https://")


def _max_age(request: Request) -> int:
    return hub_of(request).config.auth.mfa.pending_minutes * 60


async def start_second_step(request: Request, db: DB, user: User, next_url: str | None) -> Response:
    """After a right password for an account with (or required to have) MFA: the half-signed-in cookie."""
    hub = hub_of(request)
    value: dict[str, Any] = {"uid": user.id, "next": next_url or ""}
    if mfa.stage(user, hub.config.auth) == "enrol":
        value["secret"] = encrypt_text(hub.secrets.encryption_key, mfa.new_secret())
    await db.commit()
    response = RedirectResponse(hub_url(request, "login/mfa"), status_code=302)
    pending.put(response, hub.secrets.cookie_secret, SIGN_IN, value, hub_url(request), _max_age(request), _secure(request))
    return response


async def _pending(request: Request, db: DB) -> tuple[User, dict[str, Any]] | None:
    value = pending.get(request, hub_of(request).secrets.cookie_secret, SIGN_IN, _max_age(request))
    user = await db.get(User, value["uid"]) if value and isinstance(value.get("uid"), int) else None
    return (user, value) if user is not None and value is not None else None


def _enrol_page(request: Request, name: str, sealed: str, action: str, status: int = 200, **extra: Any) -> Response:
    hub = hub_of(request)
    secret = decrypt_text(hub.secrets.encryption_key, sealed)
    qr = mfa.qr_svg(mfa.provisioning_uri(secret, name, hub.config.auth.mfa.issuer_name))
    return render(request, "mfa_enrol.html", status=status, qr=qr, secret=secret, action=action, **extra)


@router.get("/login/mfa")
async def code_page(request: Request, db: DB) -> Response:
    found = await _pending(request, db)
    if found is None:
        return render(request, "login.html", status=400, error=EXPIRED)
    user, value = found
    if "secret" in value:
        return _enrol_page(request, user.name, value["secret"], hub_url(request, "login/mfa"), required=True)
    return render(request, "mfa_code.html")


@router.post("/login/mfa")
async def code_submit(request: Request, db: DB) -> Response:
    hub = hub_of(request)
    form = await checked_form(request)
    found = await _pending(request, db)
    if found is None:
        return render(request, "login.html", status=400, error=EXPIRED)
    user, value = found
    code, address = form.get("code", ""), client_address(request)
    until = await throttle.locked_until(db, user.name, address)
    if until is not None:
        wait = max(1, int((until - utcnow()).total_seconds()))
        return _refuse(request, user.name, value, f"Too many wrong codes. Wait {wait} seconds, then try again.", 429, address)
    codes: list[str] = []
    try:
        if "secret" in value:
            secret = decrypt_text(hub.secrets.encryption_key, value["secret"])
            ok = mfa.code_matches(secret, code)
            codes = await mfa.enable(db, user, secret, hub.secrets.encryption_key) if ok else []
        else:
            ok = await mfa.second_factor_ok(db, user, code, hub.secrets.encryption_key)
    except DecryptionError:
        log.error("MFA secret of %s cannot be decrypted: was data_dir/encryption_key replaced?", user.name)
        ok = False
    if not ok:
        name = user.name
        await db.rollback()
        await throttle.record_failure(db, hub.config.auth.throttle, name, address)
        await db.commit()
        return _refuse(request, name, value, WRONG_CODE, 403, address)
    await throttle.record_success(db, user.name)
    log.info("signed in with a second factor: %s", user.name)
    return await _finish(request, db, user, value.get("next"), codes)


def _refuse(request: Request, name: str, value: dict[str, Any], message: str, status: int, address: str) -> Response:
    log.warning("second sign-in step refused for %r from %s: %s", name, address, message)
    if "secret" in value:
        return _enrol_page(request, name, value["secret"], hub_url(request, "login/mfa"), status, error=message, required=True)
    return render(request, "mfa_code.html", status=status, error=message)


async def _finish(request: Request, db: DB, user: User, next_url: str | None, codes: list[str]) -> Response:
    hub = hub_of(request)
    target = safe_next(request, next_url)
    response: Response = (
        render(request, "mfa_codes.html", codes=codes, next=target) if codes else RedirectResponse(target, status_code=302)
    )
    await open_session(db, response, user, hub_url(request), hub.config.hub.cookie_max_age_days, _secure(request))
    pending.drop(response, SIGN_IN, hub_url(request))
    return response


def _native(request: Request) -> bool:
    return isinstance(hub_of(request).authenticator, NativeAuthenticator)


@router.get("/mfa")
async def settings_page(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    left = await mfa.recovery_codes_left(db, caller.user)
    return render(request, "mfa_settings.html", caller=caller, enabled=bool(caller.user.totp_secret), left=left,
                  native=_native(request))  # fmt: skip


@router.post("/mfa/enrol")
async def enrol_start(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    await checked_form(request)
    if not _native(request) or caller.user.totp_secret:
        return RedirectResponse(hub_url(request, "mfa"), status_code=302)
    hub = hub_of(request)
    sealed = encrypt_text(hub.secrets.encryption_key, mfa.new_secret())
    response = _enrol_page(request, caller.user.name, sealed, hub_url(request, "mfa/confirm"), caller=caller)
    pending.put(response, hub.secrets.cookie_secret, ENROL, {"uid": caller.user.id, "secret": sealed},
                hub_url(request), 900, _secure(request))  # fmt: skip
    return response


@router.post("/mfa/confirm")
async def enrol_confirm(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    form = await checked_form(request)
    hub = hub_of(request)
    value = pending.get(request, hub.secrets.cookie_secret, ENROL, 900)
    if value is None or value.get("uid") != caller.user.id:
        return RedirectResponse(hub_url(request, "mfa"), status_code=302)
    return await _confirm(request, db, caller, value["secret"], form.get("code", ""))


async def _confirm(request: Request, db: DB, caller: Caller, sealed: str, code: str) -> Response:
    hub, user, address = hub_of(request), caller.user, client_address(request)
    name = user.name
    secret = decrypt_text(hub.secrets.encryption_key, sealed)
    locked = await throttle.locked_until(db, user.name, address) is not None
    if locked or not mfa.code_matches(secret, code):
        await throttle.record_failure(db, hub.config.auth.throttle, user.name, address)
        await db.commit()
        log.warning("MFA set-up code refused for %r from %s", user.name, address)
        message = "Too many wrong codes; wait a few minutes." if locked else WRONG_CODE
        return _enrol_page(request, name, sealed, hub_url(request, "mfa/confirm"), 403, error=message, caller=caller)
    codes = await mfa.enable(db, user, secret, hub.secrets.encryption_key)
    await db.commit()
    log.info("MFA turned on: %s", user.name)
    response = render(request, "mfa_codes.html", caller=caller, codes=codes, next=hub_url(request, "home"))
    pending.drop(response, ENROL, hub_url(request))
    return response
