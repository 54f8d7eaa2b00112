"""The home page, starting and stopping one's server, the spawn progress page, and where people land when
they open a server that is not running."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from commonroom import urls
from commonroom.api.deps import DB
from commonroom.auth.scopes import Access, Target
from commonroom.db.models import Server, User
from commonroom.pages.render import checked_form, hub_of, hub_url, render, signed_in
from commonroom.servers import profiles
from commonroom.servers.manager import ServerActionError
from commonroom.services import registry as service_registry
from commonroom.sharing.views import shared_with
from commonroom.timeutil import utcnow
from commonroom.web.identity import Caller

router = APIRouter()

# After this many bounces between hub and proxy for one URL, stop and explain instead of looping.
MAX_REDIRECTS = 4


@router.get("/")
async def root(request: Request) -> Response:
    return RedirectResponse(hub_url(request, "home"), status_code=302)


def default_server(user: User) -> Server | None:
    return next((s for s in user.servers if s.name == ""), None)


@router.get("/home")
async def home(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    user = caller.user
    await db.refresh(user, ["servers"])
    server = default_server(user)
    hub = hub_of(request)
    choices = profiles.allowed(hub.config.spawner.profiles, [group.name for group in user.groups], user.admin)
    notice = hub.servers.spawner_for(server).notice() if server is not None and server.running else ""
    now = utcnow()
    warning = hub.culler.verdict(server, now).warning(now) if server is not None else ""
    return render(request, "home.html", caller=caller, server=server, profiles=choices, summary=profiles.summary,
                  notice=notice, cull_warning=warning, shared=await shared_with(db, user, hub.config.hub.base_url),
                  services=await _services(db, caller, hub.config.hub.base_url),
                  cull_url=urls.server_api_path(hub.config.hub.base_url, user.name, "", "/cull"),
                  server_url=urls.user_prefix(hub.config.hub.base_url, user.name))  # fmt: skip


async def _services(db: DB, caller: Caller, base_url: str) -> list[tuple[str, str]]:
    """(name, link) of the services the person may open: those they hold access:services on."""
    rows = await service_registry.displayed(db)
    allowed = (r for r in rows if caller.check("access:services", Target(service=r.name)) is Access.GRANTED)
    return [(row.name, urls.service_prefix(base_url, row.name)) for row in allowed]


@router.post("/keep-running")
async def keep_running(request: Request, db: DB) -> Response:
    """The home page's "Keep it running": counts as activity on the person's default server."""
    caller = await signed_in(request, db)
    await checked_form(request)
    await db.refresh(caller.user, ["servers"])
    server = default_server(caller.user)
    if server is not None and server.running:
        await hub_of(request).culler.keep_alive(db, server)
    return RedirectResponse(hub_url(request, "home"), status_code=302)


async def _may_manage(caller: Caller, db: DB, name: str, scope: str) -> User | None:
    """The target user when the caller may act on their default server."""
    if caller.check(scope, Target(user=name, server=f"{name}/")) is not Access.GRANTED:
        return None
    return (await db.execute(select(User).where(User.name == name))).scalar_one_or_none()


async def start_and_show_progress(
    request: Request, caller: Caller, db: DB, name: str, options: dict[str, Any] | None = None
) -> Response:
    hub = hub_of(request)
    user = await _may_manage(caller, db, name, "start:servers")
    if user is None:
        return render(request, "error.html", status=403, caller=caller, code=403, message=f"You may not start {name}'s server.")
    try:
        await hub.servers.start(user.name, options=options)
    except ServerActionError as exc:
        if exc.status != 400 or isinstance(exc.__cause__, profiles.ProfileRefused):
            return render(request, "error.html", status=exc.status, caller=caller, code=exc.status, message=exc.message)
    return RedirectResponse(hub_url(request, f"spawn-pending/{user.name}"), status_code=302)


@router.get("/spawn")
async def spawn_get(request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    return await start_and_show_progress(request, caller, db, caller.user.name)


@router.post("/spawn")
@router.post("/spawn/{name}")
async def spawn_post(request: Request, db: DB, name: str | None = None) -> Response:
    caller = await signed_in(request, db)
    form = await checked_form(request)
    options = {"profile": form["profile"]} if form.get("profile") else None
    return await start_and_show_progress(request, caller, db, name or caller.user.name, options)


@router.post("/stop")
@router.post("/stop/{name}")
async def stop_post(request: Request, db: DB, name: str | None = None) -> Response:
    caller = await signed_in(request, db)
    form = await checked_form(request)
    target = name or caller.user.name
    user = await _may_manage(caller, db, target, "delete:servers")
    if user is None:
        return render(request, "error.html", status=403, caller=caller, code=403, message=f"You may not stop {target}'s server.")
    task = await hub_of(request).servers.stop(user.name)
    if task is not None:
        await task
    back = form.get("next") or hub_url(request, "home")
    return RedirectResponse(back if back.startswith(hub_url(request)) else hub_url(request, "home"), status_code=302)


@router.get("/spawn-pending/{name}")
async def spawn_pending(name: str, request: Request, db: DB) -> Response:
    caller = await signed_in(request, db)
    user = await _may_manage(caller, db, name, "read:servers")
    if user is None:
        return render(request, "error.html", status=404, caller=caller, code=404, message=f"No server of {name} to show.")
    hub = hub_of(request)
    server = default_server(user)
    prefix = urls.user_prefix(hub.config.hub.base_url, user.name)
    if server is not None and server.running:
        return RedirectResponse(prefix, status_code=302)
    progress = hub.servers.progress(user.name, "")
    if server is None or (server.pending is None and (progress is None or not progress.finished)):
        return RedirectResponse(hub_url(request, "home"), status_code=302)
    return render(request, "spawn_pending.html", caller=caller, owner=user, server=server, server_url=prefix,
                  progress_url=urls.server_api_path(hub.config.hub.base_url, user.name, "", "/progress"))  # fmt: skip


@router.get("/user/{name}/{path:path}")
@router.get("/user/{name}")
async def user_redirect(name: str, request: Request, db: DB, path: str = "") -> Response:
    """Someone opened /user/NAME/... and the proxy had no route for it, so the server is not running."""
    caller = await signed_in(request, db)
    hub = hub_of(request)
    user = await _may_manage(caller, db, name, "access:servers")
    if user is None:
        return render(request, "error.html", status=404, caller=caller, code=404,
                      message=f"There is no server of {name} that you may open.")  # fmt: skip
    server = default_server(user)
    prefix = urls.user_prefix(hub.config.hub.base_url, user.name)
    if server is not None and server.pending == "spawn":
        return RedirectResponse(hub_url(request, f"spawn-pending/{user.name}"), status_code=303)
    if server is not None and server.running:
        redirects = int(request.query_params.get("redirects", "0") or 0)
        if redirects >= MAX_REDIRECTS:
            return render(request, "error.html", status=500, caller=caller, code=500,
                          message="Your server is running but the proxy does not reach it yet. Reload in a few seconds.")  # fmt: skip
        return RedirectResponse(f"{prefix}{path}?redirects={redirects + 1}", status_code=302)
    return render(request, "not_running.html", status=424, caller=caller, owner=user, server=server, path=path)
