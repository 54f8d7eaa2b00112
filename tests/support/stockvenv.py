"""A separate virtual environment holding stock JupyterHub clients nobody here wrote: jupyterhub's own
`jupyterhub-singleuser` (with JupyterLab) and `jupyterhub-idle-culler`. Never a dependency of Commonroom.

It is made once from /usr/bin/python3 next to the test venv (under /opt when root, so people's OS accounts
can read it) and reused; a lock keeps two test workers from building it at the same time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

JUPYTERHUB_VERSION = "6.1.1"
PACKAGES = [f"jupyterhub=={JUPYTERHUB_VERSION}", "jupyterlab", "jupyterhub-idle-culler"]
INSTALL_TIMEOUT = 900


def location() -> Path:
    """Beside the test venv when root (/opt/commonroom/jupyterhub-stock), else inside it."""
    if "COMMONROOM_STOCK_VENV" in os.environ:
        return Path(os.environ["COMMONROOM_STOCK_VENV"])
    prefix = Path(sys.prefix)
    return (prefix.parent if os.geteuid() == 0 else prefix) / "jupyterhub-stock"


def stock_venv() -> Path:
    """The venv's path, built if missing; fails (with the reason) when it cannot be installed: a stock client
    that was never run proves nothing."""
    venv = location()
    ready = venv / ".commonroom-ready"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / ".jupyterhub-stock.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():
            return venv
        shutil.rmtree(venv, ignore_errors=True)
        python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
        try:
            subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *PACKAGES],
                check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(venv, ignore_errors=True)
            detail = getattr(exc, "stderr", "") or ""
            pytest.fail(f"could not install {' '.join(PACKAGES)} into {venv}: {exc}\n{str(detail)[-800:]}")
        ready.write_text(JUPYTERHUB_VERSION + "\n")
    return venv
