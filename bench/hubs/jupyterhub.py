"""JupyterHub 6.1 set up as Commonroom is: its configurable-http-proxy started by the hub, SQLite, the
local-process spawner running JupyterLab servers as the hub's own user (JupyterHub's SimpleLocalProcessSpawner,
which is LocalProcessSpawner without the switch to a system account) with homes in the hub's directory.
People sign in with DummyAuthenticator (one shared password); API calls use a service token with admin scopes."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

from bench.hubs.base import PERSON_PASSWORD, Hub
from bench.processes import children, command_line
from bench.tools import BENCH_VENV, CHP, JUPYTERHUB, JUPYTERHUB_SINGLEUSER

ADMIN_SCOPES = ["admin:users", "admin:servers", "tokens", "access:servers", "list:users", "proxy"]


class JupyterHubHub(Hub):
    name = "JupyterHub"

    @property
    def config_path(self) -> Path:
        return self.workdir / "jupyterhub_config.py"

    def _write_config(self) -> None:
        settings = {
            "JupyterHub.ip": "127.0.0.1",
            "JupyterHub.port": self.public_port,
            "JupyterHub.hub_ip": "127.0.0.1",
            "JupyterHub.hub_port": self.hub_port,
            "JupyterHub.db_url": f"sqlite:///{self.database()}",
            "JupyterHub.cookie_secret_file": str(self.workdir / "cookie_secret"),
            "JupyterHub.pid_file": str(self.workdir / "jupyterhub.pid"),
            "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{self.api_port}",
            "ConfigurableHTTPProxy.command": [str(CHP)],
            "JupyterHub.authenticator_class": "dummy",
            "DummyAuthenticator.password": PERSON_PASSWORD,
            "Authenticator.allow_all": True,
            "JupyterHub.spawner_class": "simple",
            "SimpleLocalProcessSpawner.home_dir_template": str(self.workdir / "homes" / "{username}"),
            "Spawner.cmd": [str(JUPYTERHUB_SINGLEUSER)],
            "Spawner.args": ["--allow-root"] if os.geteuid() == 0 else [],
            "Spawner.default_url": "/lab",
            "JupyterHub.services": [{"name": "bench", "api_token": self.token}],
            "JupyterHub.load_roles": [{"name": "bench-admin", "scopes": ADMIN_SCOPES, "services": ["bench"]}],
        }
        lines = [f"c.{key} = {json.dumps(value)}" for key, value in settings.items()]
        self.config_path.write_text("\n".join(lines).replace("true", "True") + "\n")

    def _env(self) -> dict[str, str]:
        path = f"{BENCH_VENV / 'bin'}:{CHP.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
        keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "HOME", "TMPDIR")}
        return {**keep, "PATH": path, "BENCH_HUB_DIR": str(self.workdir), "CONFIGPROXY_AUTH_TOKEN": self.proxy_token}

    def prepare(self) -> None:
        """Write the config, then start and stop once so the database, schema and cookie secret exist."""
        self.token = secrets.token_hex(32)
        self.proxy_token = secrets.token_hex(32)
        self._write_config()
        self.start()
        self.stop()

    def launch(self) -> subprocess.Popen[bytes]:
        argv = [str(JUPYTERHUB), "-f", str(self.config_path), "--log-level", "WARN"]
        return self.processes.start("jupyterhub", argv, env=self._env(), cwd=self.workdir)

    def shut_down(self) -> None:
        """SIGTERM: JupyterHub stops its servers and its proxy (cleanup_servers/cleanup_proxy default True)."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=60)

    def proxy_pid(self) -> int | None:
        if self.proc is None:
            return None
        return next((pid for pid in children(self.proc.pid) if "configurable-http-proxy" in command_line(pid)), None)

    def database(self) -> Path:
        return self.workdir / "jupyterhub.sqlite"

    def insert_users(self, db: sqlite3.Connection, names: Iterable[str], password_users: bool) -> None:
        """A users row plus the default 'user' role, which is what POST /hub/api/users writes."""
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")
        role = db.execute("SELECT id FROM roles WHERE name = 'user'").fetchone()[0]
        first = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM users").fetchone()[0]) + 1
        rows = [(first + i, name) for i, name in enumerate(names)]
        db.executemany(
            "INSERT INTO users (id, name, admin, created, cookie_id, user_info) VALUES (?, ?, 0, ?, ?, '{}')",
            ((uid, name, now, uuid.uuid4().hex) for uid, name in rows),
        )
        db.executemany("INSERT INTO user_role_map (user_id, role_id, managed_by_auth) VALUES (?, ?, 0)", ((uid, role) for uid, _ in rows))
