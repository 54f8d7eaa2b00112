"""Request targets: the path a route is looked up by, and the path forwarded to the backend.

CHP parses the request target as a WHATWG URL (which resolves "." and ".." segments, "%2e" included) and
looks the route up by the percent-decoded path, while forwarding the still-escaped path. Doing the same keeps
"/user/alice/../bob/" from reaching alice's server. The common case (no dot segment, no escape) costs two
substring searches and one decode.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes


class BadTarget(ValueError):
    """The request target is neither origin-form ("/path?query") nor absolute-form ("http://host/path")."""


def split_target(target: bytes) -> tuple[bytes, bytes]:
    """The raw path and the raw query (with its "?", or empty) of a request target."""
    if not target.startswith(b"/"):
        scheme_end = target.find(b"://")
        if scheme_end < 0:
            raise BadTarget(target)
        slash = target.find(b"/", scheme_end + 3)
        target = target[slash:] if slash >= 0 else b"/"
    mark = target.find(b"?")
    if mark < 0:
        return target, b""
    return target[:mark], target[mark:]


def _is_dot(segment: str, dots: str) -> bool:
    return segment == dots or segment.lower().replace("%2e", ".") == dots


def resolve_dots(path: str) -> str:
    """Remove "." and ".." segments the way a URL parser does, keeping empty segments and a trailing slash."""
    segments = path.split("/")[1:]
    out: list[str] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if _is_dot(segment, ".."):
            if out:
                out.pop()
        elif not _is_dot(segment, "."):
            out.append(segment)
            continue
        if index == last:
            out.append("")
    return "/" + "/".join(out)


def normalize(raw_path: bytes) -> tuple[str, bytes]:
    """(unescaped path for route lookup, escaped path to forward) for a raw request path."""
    if b"/." in raw_path or b"/%2" in raw_path:
        raw_path = resolve_dots(raw_path.decode("latin-1")).encode("latin-1")
    decoded = unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path
    return decoded.decode("utf-8", "replace"), raw_path


def strip_segments(raw_path: bytes, count: int) -> bytes:
    """`raw_path` without its first `count` segments (for --no-include-prefix), "/" at least."""
    end = 0
    for _ in range(count):
        end = raw_path.find(b"/", end + 1)
        if end < 0:
            return b"/"
    return raw_path[end:]
