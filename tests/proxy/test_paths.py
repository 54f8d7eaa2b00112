"""Request targets: what the route is looked up by and what is forwarded."""

from __future__ import annotations

import pytest

from commonroom.proxy.paths import BadTarget, normalize, resolve_dots, split_target, strip_segments


@pytest.mark.parametrize(
    ("target", "parts"),
    [
        (b"/a/b?x=1&y=2", (b"/a/b", b"?x=1&y=2")),
        (b"/a/b", (b"/a/b", b"")),
        (b"http://example.org/a?q", (b"/a", b"?q")),
        (b"http://example.org", (b"/", b"")),
    ],
)
def test_split_target(target: bytes, parts: tuple[bytes, bytes]) -> None:
    assert split_target(target) == parts


@pytest.mark.parametrize("target", [b"*", b"example.org:443"])
def test_other_target_forms_are_refused(target: bytes) -> None:
    with pytest.raises(BadTarget):
        split_target(target)


@pytest.mark.parametrize(
    ("path", "resolved"),
    [
        ("/a/b/../c", "/a/c"),
        ("/a/./b", "/a/b"),
        ("/a/b/..", "/a/"),
        ("/a/b/.", "/a/b/"),
        ("/../..", "/"),
        ("/a/%2e%2E/b", "/b"),
        ("/a//b", "/a//b"),
        ("/a/.b/..c", "/a/.b/..c"),
    ],
)
def test_dot_segments_resolve_like_a_url_parser(path: str, resolved: str) -> None:
    assert resolve_dots(path) == resolved


def test_lookup_path_is_unescaped_and_forwarded_path_is_not() -> None:
    assert normalize(b"/user/al%20ice/%C3%BC") == ("/user/al ice/ü", b"/user/al%20ice/%C3%BC")
    assert normalize(b"/user/alice/../bob/") == ("/user/bob/", b"/user/bob/")
    assert normalize(b"/plain/path.js") == ("/plain/path.js", b"/plain/path.js")


@pytest.mark.parametrize(
    ("path", "count", "rest"),
    [(b"/user/alice/tree", 2, b"/tree"), (b"/user/alice", 2, b"/"), (b"/user/alice/", 2, b"/"), (b"/x", 0, b"/x")],
)
def test_strip_segments(path: bytes, count: int, rest: bytes) -> None:
    assert strip_segments(path, count) == rest
