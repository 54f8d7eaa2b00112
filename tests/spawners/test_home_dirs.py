"""Home directories are made and seeded once, completely or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from spawner_harness import needs_root

from commonroom.spawners.homes import prepare_home


def _welcome(root: Path) -> Path:
    welcome = root / "welcome"
    (welcome / "data").mkdir(parents=True)
    (welcome / "data" / "table.csv").write_text("a,b\n")
    (welcome / "link").symlink_to("data/table.csv")
    return welcome


def test_a_new_home_gets_the_welcome_folder_and_mode_0700(tmp_path: Path) -> None:
    home = tmp_path / "homes" / "alice"

    assert prepare_home(home, _welcome(tmp_path), None)

    assert (home / "data" / "table.csv").read_text() == "a,b\n"
    assert os.readlink(home / "link") == "data/table.csv"
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert os.listdir(tmp_path / "homes") == ["alice"]


def test_an_existing_home_is_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "alice"
    home.mkdir()
    (home / "notes.txt").write_text("mine")

    assert not prepare_home(home, _welcome(tmp_path), None)

    assert os.listdir(home) == ["notes.txt"]


def test_a_failed_seeding_leaves_no_home_and_no_staging_folder(tmp_path: Path) -> None:
    homes = tmp_path / "homes"

    with pytest.raises(FileNotFoundError):
        prepare_home(homes / "alice", tmp_path / "no-such-welcome", None)

    assert os.listdir(homes) == []


@needs_root
def test_everything_in_a_new_home_belongs_to_its_owner(tmp_path: Path) -> None:
    home = tmp_path / "alice"

    prepare_home(home, _welcome(tmp_path), (54321, 54322))

    for path in [home, home / "data", home / "data" / "table.csv", home / "link"]:
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (54321, 54322), path
