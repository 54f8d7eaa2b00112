"""Choosing the enforcement from /proc text and a folder shaped like /sys/fs/cgroup (no I/O outside tmp_path).

The cgroup v2 case cannot run for real on the CI machine (its v2 hierarchy has only hugetlb), so it is covered
here and in test_cgroup2.py on sample file trees.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from commonroom.limits.base import LimitError
from commonroom.limits.cgroup1 import CgroupV1
from commonroom.limits.cgroup2 import CgroupV2
from commonroom.limits.detect import choose, folder_of, parse_mountinfo, parse_own
from commonroom.limits.rlimit import Rlimits

# This CI machine: hybrid layout, v1 controllers writable, the hub in memory cgroup /process_api/<id>.
HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
HYBRID_OWN = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n"
# A systemd machine with a delegated service (cgroup v2 only).
V2_MOUNTINFO = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
V2_OWN = "0::/system.slice/commonroom.service\n"


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_mountinfo_lists_cgroup_mounts_only() -> None:
    mounts = parse_mountinfo(HYBRID_MOUNTINFO)
    assert [(m.point, m.version) for m in mounts] == [
        ("/sys/fs/cgroup/cpu", 1), ("/sys/fs/cgroup/memory", 1), ("/sys/fs/cgroup/pids", 1),
        ("/sys/fs/cgroup/systemd", 1), ("/sys/fs/cgroup/unified", 2),
    ]  # fmt: skip
    assert mounts[1].controllers == {"memory"} and mounts[3].controllers == frozenset()


def test_own_cgroups_per_controller() -> None:
    own = parse_own("2:cpu,cpuacct:/a\n4:memory:/process_api/abc\n9:name=systemd:/\n0::/x\n")
    assert own == {"cpu": "/a", "cpuacct": "/a", "memory": "/process_api/abc", "": "/x"}


def test_a_mount_rooted_at_a_container_cgroup_shows_it_at_its_top(tmp_path: Path) -> None:
    mount = parse_mountinfo("35 31 0:32 /docker/c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")[0]
    assert folder_of(mount, "/docker/c1/inner", tmp_path) == tmp_path / "sys/fs/cgroup/memory/inner"
    assert folder_of(mount, "/elsewhere", tmp_path) is None


def test_hybrid_machine_uses_cgroup_v1_under_the_hubs_own_cgroup(tmp_path: Path) -> None:
    tree(tmp_path, {"sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n",
                    "sys/fs/cgroup/memory/process_api/abc/cgroup.procs": "",
                    "sys/fs/cgroup/cpu/cgroup.procs": "", "sys/fs/cgroup/pids/cgroup.procs": ""})  # fmt: skip
    enforcer = choose("auto", HYBRID_MOUNTINFO, HYBRID_OWN, tmp_path)
    assert isinstance(enforcer, CgroupV1)
    assert enforcer.bases["memory"] == tmp_path / "sys/fs/cgroup/memory/process_api/abc/commonroom"
    assert enforcer.bases["cpu"] == tmp_path / "sys/fs/cgroup/cpu/commonroom"


def test_delegated_cgroup_v2_is_preferred(tmp_path: Path) -> None:
    own = "sys/fs/cgroup/system.slice/commonroom.service"
    tree(tmp_path, {f"{own}/cgroup.controllers": "cpuset cpu io memory pids\n", f"{own}/cgroup.procs": "1\n"})
    enforcer = choose("auto", V2_MOUNTINFO, V2_OWN, tmp_path)
    assert isinstance(enforcer, CgroupV2)
    assert enforcer.own == tmp_path / own and not enforcer.is_root


def test_cgroup_v2_without_memory_falls_back_and_says_why(tmp_path: Path) -> None:
    tree(tmp_path, {"sys/fs/cgroup/system.slice/commonroom.service/cgroup.controllers": "cpu pids\n"})
    enforcer = choose("auto", V2_MOUNTINFO, V2_OWN, tmp_path)
    assert isinstance(enforcer, Rlimits)
    assert "cgroup v2 has no memory controller for the hub (it has: cpu, pids)" in enforcer.describe()
    assert "no cgroup v1 memory hierarchy" in enforcer.describe()


def test_asking_for_what_is_not_there_stops_the_start(tmp_path: Path) -> None:
    tree(tmp_path, {"sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n"})
    with pytest.raises(LimitError, match="spawner.enforcement = 'cgroup2', but cgroup v2 has no memory, cpu, pids"):
        choose("cgroup2", HYBRID_MOUNTINFO, HYBRID_OWN, tmp_path)


def test_rlimit_when_asked_for(tmp_path: Path) -> None:
    enforcer = choose("rlimit", HYBRID_MOUNTINFO, HYBRID_OWN, tmp_path)
    assert isinstance(enforcer, Rlimits) and "chosen in spawner.enforcement" in enforcer.describe()


def test_no_cgroups_at_all_means_rlimits(tmp_path: Path) -> None:
    enforcer = choose("auto", "", "", tmp_path)
    assert isinstance(enforcer, Rlimits)
    assert "no cgroup v2 hierarchy; no cgroup v1 memory hierarchy" in enforcer.describe()
