"""Where the programs under test live. bench/run installs JupyterHub and configurable-http-proxy there."""

from __future__ import annotations

import os
import sys
from pathlib import Path

COMMONROOM_PYTHON = Path(sys.executable)
"""The harness runs in Commonroom's own environment, which has the hub, its proxy and its single-user server."""
BENCH_VENV = Path(os.environ.get("BENCH_VENV", "/opt/commonroom/bench-venv"))
CHP_DIR = Path(os.environ.get("BENCH_CHP_DIR", "/opt/commonroom/bench-chp"))
CHP = CHP_DIR / "node_modules" / ".bin" / "configurable-http-proxy"
JUPYTERHUB = BENCH_VENV / "bin" / "jupyterhub"
JUPYTERHUB_SINGLEUSER = BENCH_VENV / "bin" / "jupyterhub-singleuser"
JUPYTER_SERVER = COMMONROOM_PYTHON.parent / "jupyter-server"


def missing_tools() -> list[str]:
    return [str(p) for p in (CHP, JUPYTERHUB, JUPYTERHUB_SINGLEUSER, JUPYTER_SERVER) if not p.exists()]
