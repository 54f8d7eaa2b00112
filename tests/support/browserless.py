"""A person's browser without the browser: an httpx client that keeps cookies, fills the hub's forms (with
their XSRF field) and follows the OAuth redirects between hub and server as a browser would."""

from __future__ import annotations

import re
from typing import Any

import httpx

XSRF_FIELD = re.compile(r'name="_xsrf" value="([^"]+)"')


class Person:
    def __init__(self, origin: str, base_url: str = "/") -> None:
        self.origin = origin
        self.hub = f"{base_url}hub/"
        self.client = httpx.Client(base_url=origin, timeout=30, follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    def xsrf_from(self, path: str) -> str:
        page = self.client.get(path)
        match = XSRF_FIELD.search(page.text)
        assert match, f"no _xsrf field on {path} ({page.status_code}):\n{page.text[:500]}"
        return match.group(1)

    def post_form(self, path: str, fields: dict[str, str], form_page: str | None = None) -> httpx.Response:
        token = self.xsrf_from(form_page or path)
        return self.client.post(path, data={**fields, "_xsrf": token})

    def sign_up(self, name: str, password: str) -> httpx.Response:
        return self.post_form(f"{self.hub}signup", {"username": name, "password": password, "password2": password})

    def sign_in(self, name: str, password: str, next_url: str = "") -> httpx.Response:
        fields = {"username": name, "password": password, **({"next": next_url} if next_url else {})}
        return self.post_form(f"{self.hub}login", fields)

    def follow(self, url: str, limit: int = 12, **kwargs: Any) -> httpx.Response:
        """GET url and follow redirects by hand (across hub and server), returning the final response."""
        response = self.client.get(url, **kwargs)
        for _ in range(limit):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            response = self.client.get(response.headers["location"], **kwargs)
        raise AssertionError(f"more than {limit} redirects starting at {url}")
