"""The hub's ASGI application: API and pages under {base_url}hub/, plus redirects for paths that reach the hub
only because the proxy had no more specific route for them."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commonroom import JUPYTERHUB_COMPAT_VERSION, __version__, api, pages, urls
from commonroom.api import openapi
from commonroom.hub import Hub
from commonroom.pages.render import FormRejected, LoginRequired, login_redirect, render
from commonroom.web import nul_text
from commonroom.web.errors import APIError, error_response, handle_api_error
from commonroom.web.json_reply import FastJSONResponse

VERSION_HEADER = (b"x-jupyterhub-version", JUPYTERHUB_COMPAT_VERSION.encode())


class VersionHeader:
    """Adds X-JupyterHub-Version to every response, as stock clients and servers expect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), VERSION_HEADER]
            await send(message)

        await self.app(scope, receive, send_with_header if scope["type"] == "http" else send)


def create_app(hub: Hub) -> FastAPI:
    """The ASGI app for a hub; the caller starts and stops the hub around serving it (see cli.serve)."""
    base = hub.config.hub.base_url
    route_base = urls.route_prefix(base)
    prefix = f"{route_base}hub"

    app = FastAPI(
        title="Commonroom",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{prefix}/api/openapi.json",
        default_response_class=FastJSONResponse,
        dependencies=[Depends(nul_text.refuse_in_url)],
    )
    app.state.hub = hub
    app.include_router(api.router, prefix=f"{prefix}/api")
    app.add_api_route(f"{prefix}/api", api.root.version, include_in_schema=False)
    app.include_router(pages.router, prefix=prefix)
    app.mount(f"{prefix}/static", StaticFiles(directory=Path(pages.__file__).parent / "static"), name="static")
    _add_error_handlers(app, f"{prefix}/api")
    openapi.install(app, f"{prefix}/api")
    _add_redirects(app, base, route_base)
    app.add_middleware(VersionHeader)
    return app


def _add_error_handlers(app: FastAPI, api_prefix: str) -> None:
    app.add_exception_handler(APIError, handle_api_error)

    async def login_required(request: Request, _exc: Exception) -> Response:
        return login_redirect(request)

    async def form_rejected(request: Request, _exc: Exception) -> Response:
        message = "The form was out of date or came from another site. Reload the page and try again."
        return render(request, "error.html", status=403, code=403, message=message)

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return error_response(400, "Invalid JSON in body of request")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return error_response(400, f"Invalid request: {where}: {first.get('msg')}")

    def error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith(api_prefix):
            return error_response(status, message)
        return render(request, "error.html", status=status, code=status, message=message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(request, exc.status_code, str(exc.detail))

    async def database_refused(request: Request, exc: Exception) -> Response:
        """A NUL in a body is the caller's mistake: a 400, not a 500; the request's session rolls it back."""
        assert isinstance(exc, DBAPIError)
        if not nul_text.unstorable(exc):
            raise exc
        return error(request, 400, nul_text.MESSAGE)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(FormRejected, form_rejected)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(DBAPIError, database_refused)


def _add_redirects(app: FastAPI, base: str, route_base: str) -> None:
    @app.get(f"{route_base}hub/error/{{code}}", include_in_schema=False)
    async def proxy_error(code: int, request: Request) -> Response:
        """The proxy's error target: a friendly page with the original status."""
        messages = {503: "The server you tried to reach is not answering. It may be starting or may have stopped."}
        message = messages.get(code, "Nothing is served at this address.")
        return render(request, "error.html", status=code, code=code, message=message)

    @app.get(f"{route_base}user/{{path:path}}", include_in_schema=False)
    async def user_not_routed(path: str, request: Request) -> Response:
        tail = urls.raw_path(request.scope)[len(base) :]
        return RedirectResponse(f"{base}hub/{tail}", status_code=302)

    @app.get(route_base, include_in_schema=False)
    @app.get(f"{route_base}hub", include_in_schema=False)
    async def site_root() -> Response:
        return RedirectResponse(f"{base}hub/", status_code=302)
