"""A real Commonroom hub (and so its proxy and people's servers) in subprocesses, for integration tests.

Every port is a free loopback port. stop() ends the hub, the proxy and every server process it spawned, and
removes the OS accounts made for the test, so nothing outlives the test that started it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from urllib.parse import quote

import httpx
from sqlalchemy import Executable, select, text

from commonroom.db.engine import make_engine, sqlite_url
from commonroom.db.models import SERVERS
from tests.support.ports import free_port

# Processes that belong to a fixture wider than one test (a module's hub restarted inside a test); the
# per-test leak guard leaves these to the fixture, which ends them.
FIXTURE_PROCESSES: set[int] = set()

LINK = re.compile(r"(http://\S+/hub/first-admin/\S+)")


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


def process_gone(pid: int) -> bool:
    """Whether a process has exited; a zombie waiting for its parent to reap it counts as gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class HubProcess:
    def __init__(self, workdir: Path, extra_config: str = "", base_url: str = "/", account_prefix: str | None = None,
                 database_url: str = "") -> None:  # fmt: skip
        self.workdir = workdir
        self.database_url = database_url
        self.data_dir = workdir / "data"
        self.public_port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.base_url = base_url
        self.prefix = quote(base_url, safe="/")  # as it goes on the wire
        self.origin = f"http://127.0.0.1:{self.public_port}"
        self.account_prefix = account_prefix or f"crt{os.getpid() % 10000}{self.public_port % 1000}-"
        # People's homes must be reachable by their OS accounts, so not below pytest's private temp folder.
        self.home_root = Path(tempfile.mkdtemp(prefix="crhomes-"))
        os.chmod(self.home_root, 0o755)
        self.config_path = workdir / "hub.toml"
        self.config_path.write_text(
            f"[hub]\nbind = \"127.0.0.1:{self.public_port}\"\ninternal_bind = \"127.0.0.1:{self.hub_port}\"\n"
            f"base_url = {json.dumps(base_url)}\ndata_dir = {json.dumps(str(self.data_dir))}\n"
            f"database_url = {json.dumps(database_url)}\n"
            f"[proxy]\napi_url = \"http://127.0.0.1:{self.api_port}\"\n"
            f"[spawner.local]\naccount_prefix = \"{self.account_prefix}\"\nhome_root = {json.dumps(str(self.home_root))}\n"
            + extra_config
        )
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self.first_admin_link: str | None = None

    # ---- life cycle --------------------------------------------------------------------------------------

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "commonroom.cli", *args]

    def start(self, timeout: float = 60) -> None:
        self.output = []
        self.first_admin_link = None
        self.proc = subprocess.Popen(
            self.command("serve", "--config", str(self.config_path), "--log-level", "info"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=self.workdir,
        )  # fmt: skip
        FIXTURE_PROCESSES.add(self.proc.pid)
        threading.Thread(target=self._read_output, args=(self.proc,), daemon=True).start()
        wait_for(self._ready, timeout, f"the hub to answer; output so far:\n{self.log_text()}", 0.1)

    def _read_output(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.output.append(line)
            match = LINK.search(line)
            if match:
                self.first_admin_link = match.group(1)

    def log_text(self) -> str:
        return "".join(self.output[-80:])

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log_text()}")
        try:
            return httpx.get(self.url("hub/api/"), timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill_hub(self, sig: int = signal.SIGKILL) -> None:
        """Stop only the hub process (the proxy and servers keep running), as a crash or restart would."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)

    def proxy_pid(self) -> int | None:
        try:
            return int((self.data_dir / "proxy.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def sql(self, statement: str | Executable, **params: Any) -> list[Any]:
        """Runs one statement (SQL text or SQLAlchemy Core) on the hub's database, SQLite or PostgreSQL, and
        commits; its rows, if any."""

        async def run() -> list[Any]:
            engine = make_engine(self.database_url or sqlite_url(self.data_dir))
            try:
                async with engine.begin() as connection:
                    result = await connection.execute(text(statement) if isinstance(statement, str) else statement, params)
                    return list(result.all()) if result.returns_rows else []
            finally:
                await engine.dispose()

        with ThreadPoolExecutor(1) as thread:  # its own thread: Playwright's sync API keeps a loop running in this one
            return thread.submit(asyncio.run, run()).result()

    def server_states(self) -> list[dict[str, Any]]:
        return [state for (state,) in self.sql(select(SERVERS.c.state)) if state]

    def stop(self) -> None:
        """End the hub, then `commonroom shutdown` ends the proxy and every server; check nothing is left.

        Whatever shutdown missed is killed so one failure does not spill into other tests, and reported."""
        self.kill_hub(signal.SIGTERM)
        result = self.cli("shutdown")
        try:
            wait_for(lambda: not self.processes_of_this_hub(), 20, "`commonroom shutdown` to end every process")
            leftovers = []
        except TimeoutError:
            leftovers = self.processes_of_this_hub()
            for pid in leftovers:
                _kill_group(pid)
        self._remove_accounts()
        shutil.rmtree(self.home_root, ignore_errors=True)
        assert result.returncode == 0, result.stderr
        assert not leftovers, f"`commonroom shutdown` left processes running: {leftovers}"

    def processes_of_this_hub(self) -> list[int]:
        """Live processes whose environment or command line points at this hub (servers, proxy)."""
        markers = (f"127.0.0.1:{self.hub_port}".encode(), str(self.data_dir).encode())
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                        continue
                blob = Path(f"/proc/{entry}/environ").read_bytes() + Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if any(m in blob for m in markers):
                found.append(int(entry))
        return found

    def processes_for(self, user: str) -> list[int]:
        """The processes of this hub started for that person (their environment says JUPYTERHUB_USER=user)."""
        marker = f"JUPYTERHUB_USER={user}\0".encode()
        found = []
        for pid in self.processes_of_this_hub():
            try:
                if marker in Path(f"/proc/{pid}/environ").read_bytes():
                    found.append(pid)
            except OSError:
                continue
        return found

    def describe_processes_of_this_hub(self) -> str:
        """The command lines of processes_of_this_hub(), for a failure message."""
        lines = []
        for pid in self.processes_of_this_hub():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            lines.append(f"{pid}: {cmdline}")
        return "; ".join(lines) or "none"

    def _remove_accounts(self) -> None:
        if os.geteuid() != 0:
            return
        for line in Path("/etc/passwd").read_text().splitlines():
            name = line.split(":", 1)[0]
            if name.startswith(self.account_prefix):
                subprocess.run(["userdel", "-r", name], capture_output=True, check=False)

    # ---- conveniences ------------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Full URL of a path under the site's base URL: url("hub/login")."""
        return f"{self.origin}{self.prefix}{path}"

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args, "--config", str(self.config_path)), input=stdin, capture_output=True, text=True,
            timeout=60, cwd=self.workdir,
        )  # fmt: skip

    def add_user(self, name: str, admin: bool = False) -> str:
        """Create a user from the command line and return an API token for them."""
        result = self.cli("user", "add", name, *(["--admin"] if admin else []))
        assert result.returncode == 0, result.stderr
        return self.token_for(name)

    def token_for(self, name: str) -> str:
        """A new API token for an existing user, from the command line."""
        token = self.cli("token", "issue", name)
        assert token.returncode == 0, token.stderr
        return token.stdout.strip()

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url("hub/api"), headers={"Authorization": f"token {token}"}, timeout=30
        )


@contextmanager
def started(process: HubProcess) -> Iterator[HubProcess]:
    """The hub running for the duration of a with block (a module fixture's usual shape)."""
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass
