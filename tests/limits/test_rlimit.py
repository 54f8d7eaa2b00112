"""The rlimit fallback for real: a child that entered the limits cannot allocate past them."""

from __future__ import annotations

import resource
import subprocess
import sys
from functools import partial

from commonroom.limits.base import Limits, enter
from commonroom.limits.rlimit import Rlimits


def test_memory_is_limited_per_process_and_the_gaps_are_named() -> None:
    enforcer = Rlimits("no cgroups in this test")
    handle = enforcer.prepare("alice", Limits(memory=200 << 20, processes=64))
    assert handle.rlimits == ((resource.RLIMIT_DATA, 200 << 20), (resource.RLIMIT_NPROC, 64))
    code = "try:\n    b = b'x' * (400 * 2**20)\nexcept MemoryError:\n    print('MemoryError')"
    result = subprocess.run([sys.executable, "-c", code], preexec_fn=partial(enter, handle), capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.stdout.strip() == "MemoryError"
    assert enforcer.gaps(Limits(cpu=1)) == ["cpu is not limited (rlimits cannot limit a rate)"]
    assert "CPU is not limited" in enforcer.describe() and "no cgroups in this test" in enforcer.describe()
