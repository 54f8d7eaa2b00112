"""What the proxy answers when it cannot relay a request (404 no route, 503 backend down).

Same order as CHP: with --error-target, fetch `<error-target>/<code>?url=<original target>` and relay its
body under the original status (JupyterHub serves its branded pages that way); with --error-path, serve
`<code>.html` or `error.html` from that directory; otherwise a small page of our own. If the error target
itself fails, a plain-text status line is the last resort.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote_plus

from .upstream import Target
from .wire import reason_phrase

HTML = b"text/html"
TEXT = b"text/plain"


class ErrorPages:
    """Error bodies and error-target requests, prepared once from the options."""

    def __init__(self, error_target: str | None, error_path: Path | None) -> None:
        if error_target is not None and not error_target.endswith("/"):
            error_target += "/"
        self.error_target = error_target
        self._pages: dict[int, bytes] = {}
        if error_path is not None:
            fallback = error_path / "error.html"
            for code in (404, 503):
                page = error_path / f"{code}.html"
                for candidate in (page, fallback):
                    if candidate.is_file():
                        self._pages[code] = candidate.read_bytes()
                        break

    def request_head(self, code: int, original: bytes, target: Target) -> bytes:
        """GET <error-target>/<code>?url=<original request target>, as CHP sends it."""
        url = quote_plus(original, safe="*").encode()
        return b"GET %s/%d?url=%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target.prefix, code, url, target.authority)

    def page(self, code: int) -> tuple[bytes, bytes]:
        """(body, content type) without an error target."""
        body = self._pages.get(code)
        if body is not None:
            return body, HTML
        title = html.escape(f"{code} {reason_phrase(code).decode()}")
        return f"<!DOCTYPE html><title>{title}</title><h1>{title}</h1>\n".encode(), HTML

    def plain(self, code: int) -> tuple[bytes, bytes]:
        """The last resort when the error target fails: the bare status text, as CHP does."""
        return reason_phrase(code), TEXT
