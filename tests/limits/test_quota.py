"""Where disk quotas can be set, from mountinfo text (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest

from commonroom.limits.mounts import MountEntry
from commonroom.limits.quota import quota_mount

MOUNTINFO = """\
23 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw,discard
40 23 8:2 / /home rw,relatime - ext4 /dev/sda2 rw,usrquota
41 23 8:3 / /srv/home\\040x rw - xfs /dev/sda3 rw,uquota
"""


@pytest.fixture(autouse=True)
def setquota_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tool = tmp_path / "setquota"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_homes_on_a_filesystem_with_user_quotas() -> None:
    found = quota_mount(Path("/home/cr-ada"), MOUNTINFO, os_accounts=True)
    assert isinstance(found, MountEntry) and found.point == "/home" and found.fstype == "ext4"
    xfs = quota_mount(Path("/srv/home x"), MOUNTINFO, os_accounts=True)
    assert isinstance(xfs, MountEntry) and xfs.point == "/srv/home x"


def test_without_user_quotas_the_fix_is_named() -> None:
    assert quota_mount(Path("/opt/homes"), MOUNTINFO, os_accounts=True) == (
        "the filesystem of /opt/homes (ext4 on /) has no user quotas: mount it with usrquota and turn them on "
        "(quotacheck -cum, quotaon)"
    )


def test_without_os_accounts_there_is_no_one_to_give_a_quota() -> None:
    assert "per OS account" in str(quota_mount(Path("/home"), MOUNTINFO, os_accounts=False))


def test_without_setquota_the_package_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert quota_mount(Path("/home"), MOUNTINFO, os_accounts=True) == "the setquota command is missing: install the quota package"
