"""Half-finished sign-ins kept in short-lived signed cookies: the OIDC state between redirect and callback,
and "password checked, code not yet" for MFA. Signed with the cookie secret and dated, so they cannot be
forged or used after max_age; they are never a session: nothing but the next step reads them."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"commonroom-{purpose}")


def cookie_name(purpose: str) -> str:
    return f"commonroom-{purpose}"


def put(response: Response, secret: str, purpose: str, value: dict[str, Any], path: str, max_age: int, secure: bool) -> None:
    token = _serializer(secret, purpose).dumps(value)
    response.set_cookie(cookie_name(purpose), token, max_age=max_age, path=path, httponly=True, samesite="lax", secure=secure)


def get(request: Request, secret: str, purpose: str, max_age: int) -> dict[str, Any] | None:
    token = request.cookies.get(cookie_name(purpose))
    if not token:
        return None
    try:
        value = _serializer(secret, purpose).loads(token, max_age=max_age)
    except BadSignature:
        return None
    return value if isinstance(value, dict) else None


def drop(response: Response, purpose: str, path: str) -> None:
    response.delete_cookie(cookie_name(purpose), path=path)
