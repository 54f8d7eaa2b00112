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
    held = scopes.expand(("self", *scopes.ADMIN_ROLE_SCOPES), owner="root1")
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


def test_group_filter_reaches_members_their_servers_and_the_group() -> None:
    held = scopes.expand(["servers!group=class-a", "read:groups!group=class-a"])
    members = {"class-a": frozenset({"ann"})}
    assert scopes.check(held, "start:servers", Target(user="ann", server="ann/"), members) is Access.GRANTED
    assert scopes.check(held, "start:servers", Target(user="bob", server="bob/"), members) is Access.FILTERED
    assert scopes.check(held, "start:servers", Target(user="ann"), {}) is Access.FILTERED, "membership is needed"
    assert scopes.check(held, "read:groups", Target(groups=frozenset({"class-a"}))) is Access.GRANTED
    assert scopes.filtered_groups(held) == {"class-a"}


def test_bare_filters_in_roles_bind_to_the_holder() -> None:
    scopes.validate("servers!user", in_role=True)
    with pytest.raises(scopes.ScopeError):
        scopes.validate("servers!user")
    assert "start:servers!user=ann" in scopes.expand(["servers!user"], owner="ann")
    assert "read:services!service=culler" in scopes.expand(["read:services!service"], service="culler")
    assert scopes.expand(["servers!user"], service="culler") == frozenset(), "no user to bind to: nothing"


def test_invalid_names_every_bad_scope_and_role_names_follow_jupyterhub() -> None:
    assert scopes.invalid(["read:hub", "fly", "servers!planet=mars", "servers!user"]) == [
        "fly", "servers!planet=mars", "servers!user"]  # fmt: skip
    assert scopes.role_name_problem("teaching-assistant") is None
    for bad in ("ab", "Teacher", "9lives", "ends-with-", "admin", "user"):
        assert scopes.role_name_problem(bad), bad


def test_a_token_cannot_widen_a_group_filter() -> None:
    owner = scopes.expand(["servers!group=class-a"])
    asked = scopes.expand(["servers", "servers!group=class-b", "servers!group=class-a"])
    kept = scopes.intersect(asked, owner)
    assert "servers!group=class-a" in kept and "servers" not in kept and "servers!group=class-b" not in kept
