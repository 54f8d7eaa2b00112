"""The route table: CHP's key cleaning and longest whole-segment prefix matching."""

from __future__ import annotations

import pytest

from commonroom.proxy.routes import RouteTable, clean_key


@pytest.mark.parametrize(
    ("path", "key"),
    [("/", "/"), ("", "/"), ("/user/alice/", "/user/alice"), ("user/alice", "/user/alice"), ("/a b/ü", "/a b/ü")],
)
def test_keys_have_a_leading_and_no_trailing_slash(path: str, key: str) -> None:
    assert clean_key(path) == key


def table(*keys: str) -> RouteTable:
    routes = RouteTable()
    for key in keys:
        routes.set(key, {"target": f"http://backend{key}"}, 0.0)
    return routes


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/user/alice", "/user/alice"),
        ("/user/alice/", "/user/alice"),
        ("/user/alice/tree/x.ipynb", "/user/alice"),
        ("/user/alice/x", "/user/alice/x"),
        ("/user/alice/x/y", "/user/alice/x"),
        ("/user/alice2", "/"),
        ("/user/alice2/tree", "/"),
        ("/user", "/"),
        ("/", "/"),
        ("/hub/home", "/"),
        ("/user/al ice/api", "/user/al ice"),
    ],
)
def test_longest_whole_segment_prefix_wins(path: str, key: str) -> None:
    routes = table("/", "/user/alice", "/user/alice/x", "/user/al ice")
    match = routes.match(path)
    assert match is not None and match.key == key


def test_no_root_route_means_no_match() -> None:
    routes = table("/user/alice")
    assert routes.match("/user/bob") is None
    assert routes.match("/") is None


def test_removing_the_deepest_route_still_matches_shallower_ones() -> None:
    routes = table("/a", "/a/b/c/d")
    assert routes.remove("/a/b/c/d/") is not None
    match = routes.match("/a/b/c/d/e")
    assert match is not None and match.key == "/a"
    assert routes.remove("/a/b/c/d") is None
    assert len(routes) == 1


def test_overwriting_keeps_the_route_object_and_takes_the_new_data() -> None:
    routes = table("/user/alice")
    first = routes.get("/user/alice/")
    again = routes.set("/user/alice", {"target": "http://new", "user": "alice"}, 5.0)
    assert again is first
    assert again.target == "http://new" and again.data["user"] == "alice" and again.last_activity == 5.0
    assert len(routes) == 1
