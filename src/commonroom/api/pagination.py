"""JupyterHub's pagination: offset/limit query arguments, and the paginated reply a client asks for by Accept.

Without `Accept: application/jupyterhub-pagination+json` the reply is the bare list and the default limit is
the maximum, as in JupyterHub (whose silent truncation at 200 is kept for compatibility).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from commonroom.web.errors import APIError
from commonroom.web.json_reply import FastJSONResponse

PAGINATION_MEDIA_TYPE = "application/jupyterhub-pagination+json"
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    wanted: bool
    """Whether the client asked for the paginated shape."""


def _integer(request: Request, key: str) -> int | None:
    text = request.query_params.get(key)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise APIError(400, f"{key} must be an integer, not {text!r}") from None


def page_of(request: Request) -> Page:
    """Offset and limit from the query (400 for non-integers), limit clamped to 1..200 as JupyterHub does."""
    wanted = PAGINATION_MEDIA_TYPE in request.headers.get("accept", "")
    offset = _integer(request, "offset") or 0
    if offset < 0:
        raise APIError(400, f"offset must be 0 or more, not {offset}")
    limit = _integer(request, "limit")
    if limit is None:
        limit = DEFAULT_LIMIT if wanted else MAX_LIMIT
    return Page(offset, max(1, min(limit, MAX_LIMIT)), wanted)


def reply(request: Request, page: Page, items: Any, total: int) -> FastJSONResponse:
    """The bare items, or {items, _pagination} with the URL of the next page when there is one.

    Sent as JSON directly: the items are plain JSON values already, and FastAPI's generic encoding of a
    returned value costs more than the whole database work of a page of 200 users."""
    if not page.wanted:
        return FastJSONResponse(items)
    following = page.offset + page.limit
    next_page = None
    if following < total:
        url = str(request.url.include_query_params(offset=following, limit=page.limit))
        next_page = {"offset": following, "limit": page.limit, "url": url}
    pagination = {"offset": page.offset, "limit": page.limit, "total": total, "next": next_page}
    return FastJSONResponse({"items": items, "_pagination": pagination})
