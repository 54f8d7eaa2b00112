"""A real OpenID provider (npm oidc-provider, installed by scripts/setup --test into tests/auth/oidc) on a free
loopback port. Users: alice (researchers, hubadmins), bob (researchers), carol (visitors); password = name + "pw"."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.support import daemons
from tests.support.hubprocess import FIXTURE_PROCESSES, wait_for
from tests.support.ports import free_port

FOLDER = Path(__file__).resolve().parents[1] / "auth" / "oidc"


def available() -> bool:
    return shutil.which("node") is not None and (FOLDER / "node_modules" / "oidc-provider").is_dir()


class OIDCProvider:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[str] | None = None

    def start(self, redirect_uris: list[str]) -> None:
        env = {**os.environ, "OIDC_PORT": str(self.port), "OIDC_REDIRECT_URIS": ",".join(redirect_uris)}
        self.proc = subprocess.Popen(["node", "provider.mjs"], cwd=FOLDER, env=env, text=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        FIXTURE_PROCESSES.add(self.proc.pid)
        wait_for(self._ready, 20, "oidc-provider to answer")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"oidc-provider exited with {self.proc.returncode}")
        try:
            return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        daemons.stop(self.proc)
