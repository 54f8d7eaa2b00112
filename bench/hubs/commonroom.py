"""Commonroom as `commonroom serve` runs it: its own proxy as a child, SQLite, the local-process spawner
running JupyterLab servers as the hub's own user (os_accounts = "never"), homes in the data directory."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher

from bench.hubs.base import PERSON_PASSWORD, Hub
from bench.tools import COMMONROOM_PYTHON

ADMIN = "benchadmin"


class CommonroomHub(Hub):
    name = "Commonroom"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def config_path(self) -> Path:
        return self.workdir / "hub.toml"

    def _write_config(self) -> None:
        args = ["--allow-root"] if os.geteuid() == 0 else []
        self.config_path.write_text(
            "[hub]\n"
            f'bind = "127.0.0.1:{self.public_port}"\ninternal_bind = "127.0.0.1:{self.hub_port}"\n'
            f"data_dir = {json.dumps(str(self.data_dir))}\n"
            f'[proxy]\napi_url = "http://127.0.0.1:{self.api_port}"\n'
            f"[spawner]\nargs = {json.dumps(args)}\n"
            '[spawner.local]\nos_accounts = "never"\n'
        )

    def _cli(self, *args: str) -> str:
        result = subprocess.run(
            [str(COMMONROOM_PYTHON), "-m", "commonroom.cli", *args, "--config", str(self.config_path)],
            capture_output=True, text=True, timeout=120, cwd=self.workdir, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"commonroom {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def prepare(self) -> None:
        self._write_config()
        self._cli("user", "add", ADMIN, "--admin")
        self.token = self._cli("token", "issue", ADMIN)

    def launch(self) -> subprocess.Popen[bytes]:
        argv = [str(COMMONROOM_PYTHON), "-m", "commonroom.cli", "serve", "--config", str(self.config_path)]
        return self.processes.start("commonroom-hub", [*argv, "--log-level", "warning"], cwd=self.workdir)

    def shut_down(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._cli("shutdown")

    def proxy_pid(self) -> int | None:
        try:
            return int((self.data_dir / "proxy.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def server_pids(self, name: str) -> list[int]:
        """From the hub's record: a server forked from the launcher shows the launcher's environment in /proc."""
        with sqlite3.connect(self.database(), timeout=60) as db:
            row = db.execute(
                "SELECT servers.state FROM servers JOIN users ON servers.user_id = users.id "
                "WHERE users.name = ? AND servers.name = ''", (name,),
            ).fetchone()  # fmt: skip
        pid = json.loads(row[0]).get("pid") if row and row[0] else None
        return [pid] if isinstance(pid, int) else []

    def database(self) -> Path:
        return self.data_dir / "commonroom.sqlite"

    def insert_users(self, db: sqlite3.Connection, names: Iterable[str], password_users: bool) -> None:
        password_hash = PasswordHasher().hash(PERSON_PASSWORD) if password_users else None
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        db.executemany(
            "INSERT INTO users (name, admin, approved, password_hash, created, user_info) VALUES (?, 0, 1, ?, ?, '{}')",
            ((name, password_hash, now) for name in names),
        )
