"""The hub as an OAuth2 provider (authorization code, with PKCE) for single-user servers and services.

Same endpoints and behaviour as JupyterHub's, so a stock jupyterhub-singleuser signs people in unchanged.
A person is sent back to the server with a code only if they hold one of the client's access scopes.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter
from sqlalchemy import delete, select
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from commonroom.api.deps import DB, HubDep
from commonroom.auth import scopes as scope_rules
from commonroom.auth import tokens
from commonroom.auth.secrets import hash_secret, matches, new_url_secret, same
from commonroom.db.models import OAuthClient, OAuthCode, User
from commonroom.pages.render import render
from commonroom.timeutil import utcnow
from commonroom.urls import raw_path
from commonroom.web.identity import from_cookie

router = APIRouter()

CODE_LIFETIME = timedelta(minutes=5)
TOKEN_LIFETIME_SECONDS = 14 * 86400


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description, "status": status, "message": description},
                        status_code=status)  # fmt: skip


def pkce_ok(challenge: str | None, method: str | None, verifier: str | None) -> bool:
    if challenge is None:
        return True
    if not verifier:
        return False
    if (method or "plain") == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return same(base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), challenge)
    return same(verifier, challenge)


@router.get("/oauth2/authorize")
async def authorize(request: Request, hub: HubDep, db: DB) -> Response:
    args = request.query_params
    caller = await from_cookie(db, request)
    if caller is None:
        login = f"{hub.config.hub.base_url}hub/login?{urlencode({'next': raw_path(request.scope)})}"
        return RedirectResponse(login, status_code=302)
    client = await db.get(OAuthClient, args.get("client_id", ""))

    def refuse(status: int, message: str) -> Response:
        return render(request, "error.html", status=status, caller=caller, code=status, message=message)

    if client is None:
        return refuse(400, "This server is not known to the hub: it may have stopped. Start it again from your home page.")
    if args.get("redirect_uri", client.redirect_uri) != client.redirect_uri:
        return refuse(400, "The sign-in request did not come from the server it names (redirect_uri mismatch).")
    if args.get("response_type") != "code":
        return refuse(400, "Only response_type=code is supported.")
    target = _client_target(client)
    if scope_rules.check_any(caller.scopes, ["access:servers", "access:services"], target) is not scope_rules.Access.GRANTED:
        owner = f"{target.user}'s server" if target.user else (client.description or client.identifier)
        return refuse(403, f"{caller.user.name} may not open {owner}. Your own server is on your home page.")
    code = new_url_secret()
    db.add(
        OAuthCode(
            hashed=hash_secret(code),
            client_id=client.identifier,
            user_id=caller.user.id,
            redirect_uri=client.redirect_uri,
            code_challenge=args.get("code_challenge"),
            code_challenge_method=args.get("code_challenge_method"),
            scopes=[s for s in client.access_scopes if s in caller.scopes or _holds(caller.scopes, s)],
            expires_at=utcnow() + CODE_LIFETIME,
        )
    )
    await db.commit()
    query = {"code": code, **({"state": args["state"]} if "state" in args else {})}
    separator = "&" if "?" in client.redirect_uri else "?"
    return RedirectResponse(f"{client.redirect_uri}{separator}{urlencode(query)}", status_code=302)


def _holds(held: frozenset[str], scope: str) -> bool:
    name, flt = scope_rules.split(scope)
    if flt is None:
        return name in held
    kind, _, value = flt.partition("=")
    targets = {
        "user": scope_rules.Target(user=value),
        "server": scope_rules.Target(user=value.split("/", 1)[0], server=value),
        "service": scope_rules.Target(service=value),
    }
    return scope_rules.check(held, name, targets.get(kind)) is scope_rules.Access.GRANTED


def _client_target(client: OAuthClient) -> scope_rules.Target:
    """The resource a client guards, read from its access scopes (access:servers!server=alice/)."""
    for scope in client.access_scopes:
        _, flt = scope_rules.split(scope)
        if flt and flt.startswith("server="):
            server = flt.split("=", 1)[1]
            return scope_rules.Target(user=server.split("/", 1)[0], server=server)
        if flt and flt.startswith("service="):
            return scope_rules.Target(service=flt.split("=", 1)[1])
    return scope_rules.Target()


@router.post("/oauth2/token")
async def token(request: Request, db: DB) -> Response:
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    if fields.get("grant_type") != "authorization_code":
        return _oauth_error(400, "unsupported_grant_type", "Only grant_type=authorization_code is supported.")
    client = await db.get(OAuthClient, fields.get("client_id", ""))
    if client is None or not matches(client.hashed_secret, fields.get("client_secret", "")):
        return _oauth_error(403, "invalid_client", "Wrong client id or secret.")
    row = (await db.execute(select(OAuthCode).where(OAuthCode.hashed == hash_secret(fields.get("code", ""))))).scalar_one_or_none()
    if row is None or row.client_id != client.identifier or row.expires_at <= utcnow():
        return _oauth_error(400, "invalid_grant", "The code is unknown, expired or already used; sign in again.")
    await db.execute(delete(OAuthCode).where(OAuthCode.id == row.id))
    if fields.get("redirect_uri", row.redirect_uri) != row.redirect_uri:
        await db.commit()
        return _oauth_error(400, "invalid_grant", "redirect_uri differs from the one the code was issued for.")
    if not pkce_ok(row.code_challenge, row.code_challenge_method, fields.get("code_verifier")):
        await db.commit()
        return _oauth_error(400, "invalid_grant", "PKCE verification failed (code_verifier does not match).")
    user = await db.get(User, row.user_id)
    assert user is not None
    _, access_token = await tokens.issue(
        db, user, row.scopes, note=f"OAuth token for {client.identifier}", expires_in=TOKEN_LIFETIME_SECONDS,
        oauth_client_id=client.identifier, session_id=row.session_id,
    )  # fmt: skip
    await db.commit()
    body = {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS,
            "scope": " ".join(row.scopes)}  # fmt: skip
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
