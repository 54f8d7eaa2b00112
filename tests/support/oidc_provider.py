"""A real OpenID provider (npm oidc-provider, installed by scripts/setup --test into tests/auth/oidc) on a free
loopback port. Users: alice (researchers, hubadmins), bob (researchers), carol (visitors); password = name + "pw"."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx

from tests.support import daemons
from tests.support.ports import free_port

FOLDER = Path(__file__).resolve().parents[1] / "auth" / "oidc"


def available() -> bool:
    return shutil.which("node") is not None and (FOLDER / "node_modules" / "oidc-provider").is_dir()


class OIDCProvider:
    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, redirect_uris: list[str]) -> None:
        env = {**os.environ, "OIDC_PORT": str(self.port), "OIDC_REDIRECT_URIS": ",".join(redirect_uris)}
        argv = ["node", "provider.mjs"]
        what = "oidc-provider to answer"
        self.proc = daemons.start("oidc-provider", argv, self._answers, 20, what, cwd=FOLDER, env=env)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        daemons.stop(self.proc)
