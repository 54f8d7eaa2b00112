"""cgroup v1 enforcement for real: this machine's v1 memory and pids controllers are writable by root.

Each test makes its cgroups under the test process's own cgroup, runs a short child inside them (entered
between fork and exec, as a server is) and releases them again.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from commonroom.limits import cgroupfs
from commonroom.limits.base import Handle, Limits, enter
from commonroom.limits.cgroup1 import CgroupV1
from commonroom.limits.detect import active

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="making cgroups needs root (CI runs as root)")


@pytest.fixture
def v1() -> CgroupV1:
    enforcer = active("auto")
    if not isinstance(enforcer, CgroupV1):
        pytest.fail(f"this machine was expected to have writable cgroup v1 controllers; found: {enforcer.describe()}")
    return enforcer


@pytest.fixture
def prepared(v1: CgroupV1, request: pytest.FixtureRequest) -> Iterator[tuple[CgroupV1, list[Handle]]]:
    handles: list[Handle] = []
    yield v1, handles
    for handle in handles:
        asyncio.run(cgroupfs.release(handle))
        assert not any(Path(folder).exists() for folder in handle.cgroups)


def run_inside(handle: Handle, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], preexec_fn=partial(enter, handle), capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_going_past_the_memory_limit_is_an_oom_kill_the_hub_can_count(prepared: tuple[CgroupV1, list[Handle]]) -> None:
    v1, handles = prepared
    handles.append(handle := v1.prepare(f"memtest{os.getpid()}", Limits(memory=64 << 20)))
    assert Path(handle.cgroups[0], "memory.limit_in_bytes").read_text().strip() == str(64 << 20)
    result = run_inside(handle, "b = bytearray(200 * 2**20); print('survived')")
    assert result.returncode == -9 and "survived" not in result.stdout
    assert cgroupfs.oom_kills(handle) == 1


def test_a_fork_bomb_stops_at_the_process_limit(prepared: tuple[CgroupV1, list[Handle]]) -> None:
    v1, handles = prepared
    handles.append(handle := v1.prepare(f"forktest{os.getpid()}", Limits(processes=20)))
    bomb = (
        "import os, time\n"
        "children = []\n"
        "try:\n"
        "    for _ in range(1000):\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            os.close(1); os.close(2); time.sleep(60); os._exit(0)\n"
        "        children.append(pid)\n"
        "except BlockingIOError as exc:\n"
        "    print(len(children), exc.errno)\n"
    )
    result = run_inside(handle, bomb)
    count, errno = result.stdout.split()
    assert int(count) == 19 and errno == "11", result.stderr  # the bomb itself is the 20th; EAGAIN
    assert len(cgroupfs.members(handle.cgroups[2])) == 19  # the sleeping children, until release kills them


def test_cpu_quota_is_written(prepared: tuple[CgroupV1, list[Handle]]) -> None:
    v1, handles = prepared
    handles.append(handle := v1.prepare(f"cputest{os.getpid()}", Limits(cpu=0.5)))
    assert Path(handle.cgroups[1], "cpu.cfs_quota_us").read_text().strip() == "50000"
    assert run_inside(handle, "print(sum(range(10**6)))").returncode == 0
