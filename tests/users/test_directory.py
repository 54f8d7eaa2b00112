"""Listing arguments and user names, checked without a database."""

from __future__ import annotations

import pytest

from commonroom.users.directory import DirectoryError, Listing, checked_name, parse_listing


def test_listing_arguments() -> None:
    assert parse_listing(None, None, None) == Listing()
    assert parse_listing("ready", "al", "-last_activity") == Listing("ready", "al", "-last_activity")
    for state, sort in (("asleep", None), (None, "age"), (None, "--name")):
        with pytest.raises(DirectoryError) as caught:
            parse_listing(state, None, sort)
        assert caught.value.status == 400


def test_names_are_normalized_and_checked() -> None:
    assert checked_name(" Alice ") == "alice"
    for bad in ("", "a b", "x" * 33, "hub", "-x"):
        with pytest.raises(DirectoryError) as caught:
            checked_name(bad)
        assert caught.value.status == 400 and "Invalid user name" in caught.value.message
