from commonroom.auth import scopes
from commonroom.auth.scopes import Access, Target

import pytest


def test_expand_carries_filters_to_subscopes() -> None:
    expanded = scopes.expand(["servers!user=alice"])
    assert {"servers!user=alice", "read:servers!user=alice", "start:servers!user=alice",
            "delete:servers!user=alice", "read:users:name!user=alice"} <= expanded  # fmt: skip
    assert "servers" not in expanded


def test_self_binds_to_owner() -> None:
    expanded = scopes.expand(["self"], owner="bob")
    assert "start:servers!user=bob" in expanded
    assert "access:servers!user=bob" in expanded
    assert not any(s.endswith("=alice") for s in expanded)


def test_check_distinguishes_missing_from_filtered() -> None:
    held = scopes.expand(["self"], owner="bob")
    assert scopes.check(held, "start:servers", Target(user="bob")) is Access.GRANTED
    assert scopes.check(held, "start:servers", Target(user="alice")) is Access.FILTERED
    assert scopes.check(held, "admin-ui") is Access.MISSING


def test_server_filter_matches_only_that_server() -> None:
    held = scopes.expand(["access:servers!server=alice/"])
    assert scopes.check(held, "access:servers", Target(user="alice", server="alice/")) is Access.GRANTED
    assert scopes.check(held, "access:servers", Target(user="alice", server="alice/gpu")) is Access.FILTERED


def test_admin_role_reaches_everyone() -> None:
    held = scopes.expand(scopes.role_scopes(admin=True), owner="root1")
    for needed in ("start:servers", "delete:servers", "admin:users", "read:users", "access:servers"):
        assert scopes.check(held, needed, Target(user="anyone", server="anyone/")) is Access.GRANTED


def test_token_never_exceeds_owner() -> None:
    owner = scopes.expand(["self"], owner="bob")
    asked = scopes.expand(["admin:users", "servers!user=bob", "servers!user=alice", "read:users"], owner="bob")
    kept = scopes.intersect(asked, owner)
    assert "servers!user=bob" in kept
    assert "read:users!user=bob" in kept
    assert not any("alice" in s for s in kept)
    assert not any(s.startswith("admin:users") for s in kept)


@pytest.mark.parametrize("bad", ["nonsense", "read:users!nouser", "read:users!planet=mars", "servers!user="])
def test_validate_rejects_bad_scopes(bad: str) -> None:
    with pytest.raises(scopes.ScopeError):
        scopes.validate(bad)
