"""Request dependencies for API handlers: the hub, a database session, the authenticated caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from starlette.requests import Request

from commonroom.auth.scopes import Access, Target
from commonroom.db.loading import user_joined
from commonroom.db.models import User
from commonroom.users.directory import DirectoryError
from commonroom.web import csrf
from commonroom.web.errors import MISSING_CREDENTIALS, NOT_FOUND_OR_NO_ACCESS, APIError
from commonroom.web.identity import Caller, identify

if TYPE_CHECKING:
    from commonroom.hub import Hub


async def get_hub(request: Request) -> Hub:
    """Async although it awaits nothing: FastAPI runs a plain function dependency on a worker thread."""
    return _hub_of(request)


def _hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with _hub_of(request).sessions() as session:
        yield session


DB = Annotated[AsyncSession, Depends(get_db)]
HubDep = Annotated["Hub", Depends(get_hub)]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_caller_if_any(request: Request, db: DB) -> Caller | None:
    caller = await identify(db, request, _hub_of(request).token_cache)
    if caller is not None and caller.via == "cookie" and request.method not in SAFE_METHODS:
        submitted = request.headers.get("x-xsrftoken") or request.headers.get("x-csrftoken")
        if not csrf.valid(request, submitted):
            raise APIError(403, "XSRF check failed: send the _xsrf cookie's value in an X-XSRFToken header.")
    return caller


async def get_caller(caller: Annotated[Caller | None, Depends(get_caller_if_any)]) -> Caller:
    if caller is None:
        raise APIError(403, MISSING_CREDENTIALS)
    return caller


CallerDep = Annotated[Caller, Depends(get_caller)]
MaybeCallerDep = Annotated[Caller | None, Depends(get_caller_if_any)]


def require(caller: Caller, scopes: str | tuple[str, ...], target: Target | None = None) -> None:
    """Raise 403 when the caller lacks the scope, 404 when it holds it only for other resources."""
    outcome = caller.check(scopes, target)
    if outcome is Access.MISSING:
        wanted = scopes if isinstance(scopes, str) else " or ".join(scopes)
        raise APIError(403, f"Action is not authorized with current scopes; requires any of [{wanted}]")
    if outcome is Access.FILTERED:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)


async def find_user(db: AsyncSession, name: str) -> User:
    """The named user; callers check scopes first, so a missing user gives the same 404 as a forbidden one."""
    user = (await db.execute(select(User).where(User.name == name).options(*user_joined()))).unique().scalar_one_or_none()
    if user is None:
        raise APIError(404, NOT_FOUND_OR_NO_ACCESS)
    for server in user.servers:
        # A server keeps its user alive: the session holds objects weakly, and a handler that keeps only a
        # server would otherwise find server.user gone (and loading it again is I/O in a sync context).
        set_committed_value(server, "user", user)
    return user


@contextmanager
def directory_errors() -> Iterator[None]:
    """A change the directory refuses (bad name, exists, unknown member ...) as the API's error reply."""
    try:
        yield
    except DirectoryError as exc:
        raise APIError(exc.status, exc.message) from None
