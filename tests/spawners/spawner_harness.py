"""Helpers for spawner tests: a tiny real HTTP server as the single-user command, spawners that are stopped
and OS accounts that are deleted after each test, even when it fails."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from commonroom.config.models import LocalSpawnerConfig, SpawnerConfig
from commonroom.spawners.accounts import account_name
from commonroom.spawners.base import ServerSpec
from commonroom.spawners.local import LocalProcessSpawner

TEST_PREFIX = "crt-"

TINY_SERVER = """
import http.server, json, os, urllib.parse
url = urllib.parse.urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])

def probe(path):
    try:
        os.listdir(path)
        return "listed"
    except OSError as exc:
        return type(exc).__name__

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({
            "env": dict(os.environ), "uid": os.getuid(), "gid": os.getgid(), "groups": sorted(os.getgroups()),
            "cwd": os.getcwd(), "probe": probe(os.environ["PROBE_DIR"]) if "PROBE_DIR" in os.environ else None,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

print("tiny server on", url.port, flush=True)
http.server.HTTPServer((url.hostname, url.port), Handler).serve_forever()
"""

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating OS accounts needs root")


def python_cmd(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def fetch(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """GET the tiny server's report, retrying while it is still coming up."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
        while True:
            try:
                response = await client.get(url)
                response.raise_for_status()
                result: dict[str, Any] = response.json()
                return result
            except httpx.TransportError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.spawners: list[LocalProcessSpawner] = []
        self.accounts: list[str] = []
        self.home_root = Path(tempfile.mkdtemp(prefix="crt-homes-"))
        """Outside tmp_path, whose parents are 0700: account servers must be able to reach their homes."""
        self.home_root.chmod(0o755)

    def config(self, cmd: list[str] | None = None, **fields: Any) -> SpawnerConfig:
        local: dict[str, Any] = {
            "os_accounts": "never",
            "homes_dir": self.tmp / "homes",
            "log_dir": self.tmp / "logs",
            "home_root": self.home_root,
            "account_prefix": TEST_PREFIX,
        }
        local.update(fields.pop("local", {}))
        return SpawnerConfig(
            cmd=python_cmd(TINY_SERVER) if cmd is None else cmd, local=LocalSpawnerConfig(**local), **fields
        )

    def spawner(
        self,
        config: SpawnerConfig | None = None,
        user: str = "alice",
        server_name: str = "",
        env: Mapping[str, str] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> LocalProcessSpawner:
        prefix = f"/user/{user}/{server_name + '/' if server_name else ''}"
        spec = ServerSpec(user=user, server_name=server_name, prefix=prefix, env=dict(env or {}))
        spawner = LocalProcessSpawner(config or self.config(), spec, state or {})
        self.spawners.append(spawner)
        return spawner

    def new_person(self) -> str:
        """A user name nobody has used, whose OS account is deleted after the test."""
        user = f"t{uuid.uuid4().hex[:10]}"
        self.accounts.append(account_name(TEST_PREFIX, user))
        return user

    async def start_elsewhere(self, config: SpawnerConfig, user: str) -> dict[str, Any]:
        """Start a server from another Python process that then exits, like a hub that is killed."""
        code = (
            "import asyncio, json, sys\n"
            "from commonroom.config.models import SpawnerConfig\n"
            "from commonroom.spawners.base import ServerSpec\n"
            "from commonroom.spawners.local import LocalProcessSpawner\n"
            "config = SpawnerConfig.model_validate_json(sys.argv[1])\n"
            "spec = ServerSpec(user=sys.argv[2], server_name='', prefix=f'/user/{sys.argv[2]}/', env={})\n"
            "spawner = LocalProcessSpawner(config, spec, {})\n"
            "url = asyncio.run(spawner.start())\n"
            "print(json.dumps({'url': url, 'state': spawner.state}))\n"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, config.model_dump_json(), user,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        result: dict[str, Any] = json.loads(out)
        self.spawner(config, user=user, state=result["state"])
        return result

    async def close(self) -> None:
        for spawner in self.spawners:
            await spawner.stop(now=True)
        for name in self.accounts:
            await asyncio.to_thread(subprocess.run, ["userdel", name], check=False, capture_output=True, timeout=30)
        shutil.rmtree(self.home_root, ignore_errors=True)
