"""cgroup v2 enforcement, on a folder shaped like a delegated /sys/fs/cgroup subtree.

The CI machine has no usable cgroup v2 (its unified hierarchy offers only hugetlb), so the kernel's side of
v2 cannot run here: these tests check which files are written with what, and that the hub's own processes
are moved into a leaf first, as v2's "no internal processes" rule requires.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from commonroom.limits.base import Handle, Limits
from commonroom.limits.cgroup2 import CgroupV2


@pytest.fixture
def own(tmp_path: Path) -> Path:
    folder = tmp_path / "system.slice" / "commonroom.service"
    folder.mkdir(parents=True)
    (folder / "cgroup.procs").write_text("4242\n")
    (folder / "cgroup.subtree_control").write_text("")
    return folder


def test_prepare_writes_the_limits_of_the_server(own: Path) -> None:
    handle = CgroupV2(own, is_root=False).prepare("alice", Limits(memory=300 << 20, cpu=1.5, processes=64))
    server = own / "commonroom" / "alice"
    assert handle == Handle(cgroups=(str(server),))
    assert (server / "memory.max").read_text() == str(300 << 20)
    assert (server / "cpu.max").read_text() == "150000 100000"
    assert (server / "pids.max").read_text() == "64"


def test_controllers_are_delegated_after_the_hub_moves_into_a_leaf(own: Path) -> None:
    CgroupV2(own, is_root=False).prepare("alice", Limits(memory=1 << 30))
    assert (own / "hub" / "cgroup.procs").read_text() == "4242"
    assert (own / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert (own / "commonroom" / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"


def test_at_the_root_the_hub_stays_where_it_is(own: Path) -> None:
    CgroupV2(own, is_root=True).prepare("alice", Limits(cpu=1))
    assert not (own / "hub").exists()


def test_limits_not_asked_for_are_left_alone(own: Path) -> None:
    CgroupV2(own, is_root=False).prepare("bob@named", Limits(processes=10))
    server = own / "commonroom" / "bob@named"
    assert sorted(p.name for p in server.iterdir()) == ["pids.max"]
