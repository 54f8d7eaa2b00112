"""Cross-site request forgery protection by double submit: a random `_xsrf` cookie that every form repeats in
a hidden field (and cookie-authenticated API calls in an X-XSRFToken header). A page on another site can make
the browser send the cookie, but cannot read it to repeat it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from commonroom.auth.secrets import new_url_secret, same

XSRF_COOKIE = "_xsrf"


def token_for(request: Request) -> str:
    """The request's XSRF token, making one (set on the response by `remember`) when the browser has none."""
    existing = request.cookies.get(XSRF_COOKIE)
    if existing:
        return existing
    token: str = getattr(request.state, "new_xsrf", "") or new_url_secret()
    request.state.new_xsrf = token
    return token


def remember(request: Request, response: Response, path: str) -> None:
    new = getattr(request.state, "new_xsrf", "")
    if new:
        response.set_cookie(XSRF_COOKIE, new, path=path, httponly=True, samesite="lax")


def valid(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(XSRF_COOKIE)
    return bool(cookie and submitted and same(cookie, submitted))
