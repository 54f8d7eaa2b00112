"""Offset/limit parsing and the paginated reply, without a hub."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from commonroom.api.pagination import PAGINATION_MEDIA_TYPE, page_of, reply
from commonroom.web.errors import APIError


def request(query: str = "", paged: bool = False) -> Request:
    headers = [(b"accept", PAGINATION_MEDIA_TYPE.encode())] if paged else []
    scope = {"type": "http", "method": "GET", "path": "/hub/api/users", "query_string": query.encode(),
             "headers": [(b"host", b"hub.test"), *headers], "scheme": "http", "server": ("hub.test", 80)}  # fmt: skip
    return Request(scope)


def test_defaults_depend_on_whether_pagination_was_asked_for() -> None:
    assert (page_of(request()).limit, page_of(request(paged=True)).limit) == (200, 50)


@pytest.mark.parametrize(("query", "limit"), [("limit=0", 1), ("limit=5000", 200), ("limit=7", 7), ("limit=", 50)])
def test_limit_is_clamped(query: str, limit: int) -> None:
    assert page_of(request(query, paged=True)).limit == limit


@pytest.mark.parametrize("query", ["limit=x", "offset=1.5", "offset=-3", "limit=1e3"])
def test_bad_numbers_are_400(query: str) -> None:
    with pytest.raises(APIError) as caught:
        page_of(request(query))
    assert caught.value.status == 400


def sent(response: JSONResponse) -> Any:
    return json.loads(response.body)


def test_reply_shapes() -> None:
    bare = request("limit=2")
    assert sent(reply(bare, page_of(bare), [1, 2], 9)) == [1, 2]
    paged = request("limit=2&offset=2", paged=True)
    body = sent(reply(paged, page_of(paged), [3, 4], 5))
    following = body["_pagination"].pop("next")
    assert body == {"items": [3, 4], "_pagination": {"offset": 2, "limit": 2, "total": 5}}
    url = httpx.URL(following.pop("url"))
    assert following == {"offset": 4, "limit": 2} and url.path == "/hub/api/users"
    assert dict(url.params) == {"offset": "4", "limit": "2"}
    last = request("limit=2&offset=4", paged=True)
    assert sent(reply(last, page_of(last), [5], 5))["_pagination"]["next"] is None
