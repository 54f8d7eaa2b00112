"""Which held scopes satisfy the server's access scopes: JupyterHub's rule, pure logic."""

from __future__ import annotations

from commonroom.singleuser.identity import granted, hub_user

REQUIRED = ["access:servers!server=alice/", "access:servers!user=alice"]


def test_an_exact_scope_grants() -> None:
    assert granted(REQUIRED, ["access:servers!user=alice", "read:users"]) == {"access:servers!user=alice"}


def test_the_unfiltered_scope_grants_every_filter() -> None:
    assert granted(REQUIRED, ["access:servers"]) == set(REQUIRED)


def test_other_filters_and_other_scopes_do_not() -> None:
    assert not granted(REQUIRED, ["access:servers!user=bob", "access:servers!server=alice/gpu", "servers"])
    assert not granted(REQUIRED, [])


def test_hub_user_keeps_name_and_scopes() -> None:
    user = hub_user({"kind": "user", "name": "zoë", "scopes": ["b", "a"], "admin": False})
    assert (user.username, user.name, user.display_name, user.scopes) == ("zoë", "zoë", "zoë", ("a", "b"))
