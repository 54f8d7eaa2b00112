"""What every measurement needs from a hub: start it cold, reach it through its proxy with an admin token,
fill its database, find its processes, stop it with everything it started."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path

import httpx

from bench.ports import free_port
from bench.processes import Processes, cpu_seconds, kill_marked, processes_marked, wait_until

PERSON_PASSWORD = "bench-velvet-otter-lanterns"
"""Every simulated person's password (both hubs check it on the sign-in form)."""


class Hub(ABC):
    name: str

    def __init__(self, workdir: Path, processes: Processes) -> None:
        self.workdir = workdir
        self.processes = processes
        self.public_port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.origin = f"http://127.0.0.1:{self.public_port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        workdir.mkdir(parents=True, exist_ok=True)

    # ---- what each hub does its own way ----------------------------------------------------------------

    @abstractmethod
    def prepare(self) -> None:
        """Create the database and an admin API token (self.token); not timed."""

    @abstractmethod
    def launch(self) -> subprocess.Popen[bytes]:
        """Start the hub process (which starts its proxy)."""

    @abstractmethod
    def shut_down(self) -> None:
        """Stop the hub, its proxy and every server it started, the way an operator would."""

    @abstractmethod
    def proxy_pid(self) -> int | None: ...

    @abstractmethod
    def database(self) -> Path: ...

    @abstractmethod
    def insert_users(self, db: sqlite3.Connection, names: Iterable[str], password_users: bool) -> None:
        """INSERT users into this hub's own schema, as its API would create them."""

    # ---- shared ----------------------------------------------------------------------------------------

    def start(self, timeout: float = 600) -> float:
        """Start cold; seconds from launching the process to GET /hub/api/ answering 200 through the proxy."""
        began = time.monotonic()
        self.proc = self.launch()
        wait_until(self._answers, timeout, f"{self.name} to answer on {self.origin}")
        return time.monotonic() - began

    def settle(self, timeout: float = 30) -> None:
        """Wait until this hub's processes use under 5 % of a core over half a second: what follows a start (a
        launcher importing JupyterLab, first background tasks) is over, so steady-state rows do not measure it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = processes_marked(str(self.workdir))
            before = cpu_seconds(*pids)
            time.sleep(0.5)
            if cpu_seconds(*pids) - before < 0.025:
                return

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.processes.log_dir}")
        try:
            return httpx.get(f"{self.origin}/hub/api/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Shut down, then kill whatever is still marked with this hub's directory."""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.shut_down()
        finally:
            if self.proc is not None:
                self.processes.stop(self.proc)
            kill_marked(str(self.workdir))
            self.proc = None

    def server_pids(self, name: str) -> list[int]:
        """The processes of `name`'s default server: those whose environment names the person."""
        return processes_marked(str(self.workdir), f"JUPYTERHUB_USER={name}\0")

    def hub_pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def api(self, timeout: float = 120) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.origin}/hub/api", headers={"Authorization": f"token {self.token}"}, timeout=timeout
        )

    def async_api(self, timeout: float = 120) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"{self.origin}/hub/api", headers={"Authorization": f"token {self.token}"}, timeout=timeout
        )

    def add_users(self, names: Iterable[str], password_users: bool = False) -> None:
        """Fill the database directly (the fastest honest way); only while the hub is stopped or idle."""
        with sqlite3.connect(self.database(), timeout=60) as db:
            self.insert_users(db, names, password_users)

    def user_count(self) -> int:
        with sqlite3.connect(self.database(), timeout=60) as db:
            return int(db.execute("SELECT COUNT(*) FROM users").fetchone()[0])
