"""Rendering a page: the template, the person signed in, the XSRF token for its forms."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from commonroom import __version__
from commonroom.urls import raw_path
from commonroom.web import csrf
from commonroom.web.identity import Caller, from_cookie

if TYPE_CHECKING:
    from commonroom.hub import Hub

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    enable_async=False,
)


class LoginRequired(Exception):
    """Raised by pages that need a signed-in person; answered with a redirect to the sign-in page."""


class FormRejected(Exception):
    """A form post whose XSRF token did not match; answered with a page that says to reload and retry."""


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def hub_url(request: Request, path: str = "") -> str:
    return f"{hub_of(request).config.hub.base_url}hub/{path}"


class _LazyXsrf:
    """The page's XSRF token, made only if the template uses it: pages without forms (errors, a stray
    favicon request) must not replace the cookie a form on another tab relies on."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf.token_for(self.request)

    def __html__(self) -> str:
        return str(self)


def render(request: Request, template: str, status: int = 200, caller: Caller | None = None, **context: Any) -> HTMLResponse:
    hub = hub_of(request)
    body = templates.get_template(template).render(
        request=request,
        user=caller.user if caller else None,
        base_url=hub.config.hub.base_url,
        hub=f"{hub.config.hub.base_url}hub/",
        xsrf=_LazyXsrf(request),
        version=__version__,
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    csrf.remember(request, response, f"{hub.config.hub.base_url}hub/")
    return response


async def signed_in(request: Request, db: AsyncSession) -> Caller:
    caller = await from_cookie(db, request)
    if caller is None:
        raise LoginRequired()
    return caller


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after its XSRF token was checked."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not csrf.valid(request, form.get("_xsrf")):
        raise FormRejected()
    return form


def login_redirect(request: Request) -> RedirectResponse:
    target = raw_path(request.scope)
    return RedirectResponse(f"{hub_url(request, 'login')}?{urlencode({'next': target})}", status_code=302)


def safe_next(request: Request, value: str | None) -> str:
    """Where to go after signing in: only paths on this site, never another origin."""
    base = hub_of(request).config.hub.base_url
    if value and value.startswith(base) and not value.startswith("//") and "\\" not in value:
        return value
    return hub_url(request, "home")
