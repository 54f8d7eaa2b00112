"""NUL characters (\\x00): refused in URLs on every database, and in bodies where the database cannot store them.

PostgreSQL refuses NUL in text while SQLite takes it, so without this a name or query parameter holding %00 was
a 404 on one database and a 500 on the other. URLs are checked up front (the same 400 everywhere, before any
query); a NUL in a request body reaches the database and PostgreSQL's refusal is answered as the same 400.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request

MESSAGE = "Text in this request holds a NUL character (\\x00 or %00), which cannot be stored. Remove it and try again."
CHARACTER_NOT_IN_REPERTOIRE = "22021"  # PostgreSQL's SQLSTATE for text it cannot store


async def refuse_in_url(request: Request) -> None:
    """A dependency of every route: a path or query holding a NUL gets the 400."""
    query = request.scope["query_string"]
    if "\x00" in request.scope["path"] or b"%00" in query or b"\x00" in query:
        raise HTTPException(400, MESSAGE)


def unstorable(exc: DBAPIError) -> bool:
    """Whether the database refused a request's text (a NUL in a body, on PostgreSQL)."""
    return getattr(exc.orig, "sqlstate", None) == CHARACTER_NOT_IN_REPERTOIRE
