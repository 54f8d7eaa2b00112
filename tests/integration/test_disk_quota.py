"""Disk quotas of profiles: a profile whose quota cannot be set does not start and says why; one without a
quota starts anyway.

This machine's kernel has no quota support (ext4 mounted with usrquota cannot turn quotas on: "Quota format
not supported in kernel"; XFS refuses uquota; tmpfs refuses usrquota), so the path where `setquota`
succeeds cannot run here. What runs for real: homes on a plain filesystem (refused before setquota), and
homes on a loop-mounted ext4 that claims usrquota, where the real setquota fails and its words reach the person.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hubprocess import HubProcess, started, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loop mounts and quotas need root (CI runs as root)")

PROFILES = """
[spawner]
start_timeout = 120
http_timeout = 90

[[spawner.profiles]]
name = "quota"
disk_quota = "20M"
default = true

[[spawner.profiles]]
name = "free"
"""


def sh(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{' '.join(argv)}: {result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def quota_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A hub whose homes are on an ext4 filesystem mounted with usrquota (quotas not on: see above)."""
    workdir = tmp_path_factory.mktemp("quota")
    process = HubProcess(workdir, extra_config=PROFILES)
    image = workdir / "homes.img"
    sh("truncate", "-s", "64M", str(image))
    sh("mkfs.ext4", "-q", str(image))
    sh("mount", "-o", "loop,usrquota", str(image), str(process.home_root))
    try:
        process.home_root.chmod(0o755)
        with started(process):
            yield process
    finally:
        sh("umount", str(process.home_root))


def test_setquotas_refusal_reaches_the_person_and_a_profile_without_quota_starts(quota_hub: HubProcess) -> None:
    token = quota_hub.add_user("quinn")
    with quota_hub.api(token) as api:
        failed = api.post("/users/quinn/server", json={}, timeout=120)
        assert failed.status_code == 500
        message = failed.json()["message"]
        assert f"The disk quota of profile 'quota' could not be set: setquota failed for {quota_hub.account_prefix}quinn" in message
        assert api.get("/users/quinn").json()["servers"] == {}
        assert api.post("/users/quinn/server", json={"user_options": {"profile": "free"}}, timeout=120).status_code in (201, 202)
        wait_for(lambda: api.get("/users/quinn").json().get("server"), 120, "quinn's server", 0.3)
        api.delete("/users/quinn/server", timeout=60)
        wait_for(lambda: not api.get("/users/quinn").json()["servers"], 60, "quinn's server to stop", 0.3)


def test_homes_without_user_quotas_refuse_a_quota_profile_with_the_fix(tmp_path: Path) -> None:
    with started(HubProcess(tmp_path, extra_config=PROFILES)) as hub:
        token = hub.add_user("rosa")
        with hub.api(token) as api:
            failed = api.post("/users/rosa/server", json={"user_options": {"profile": "quota"}}, timeout=120)
            assert failed.status_code == 500
            message = failed.json()["message"]
            assert "The disk quota of profile 'quota' could not be set" in message
            assert "has no user quotas: mount it with usrquota and turn them on (quotacheck -cum, quotaon)" in message
            assert api.get("/users/rosa").json()["servers"] == {}
        assert "disk quotas: servers of profiles quota will not start" in "".join(hub.output)
