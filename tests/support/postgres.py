"""A throwaway PostgreSQL server (Debian's postgresql package) on a free loopback port.

initdb into a fresh folder, trust authentication on 127.0.0.1 only, fsync off; nothing of the system's own
clusters is touched. As root the server runs as the `postgres` account (PostgreSQL refuses root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support import daemons
from tests.support.ports import free_port


def _bin() -> Path | None:
    """The newest installed server's bin folder."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def available() -> bool:
    return _bin() is not None and (os.geteuid() != 0 or _account() is not None)


def _account() -> str | None:
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        return None


class Postgres:
    def __init__(self) -> None:
        bin_dir = _bin()
        assert bin_dir is not None, "PostgreSQL is not installed (Debian package postgresql)"
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="commonroom-pg-"))
        self.port = free_port()
        self.user = _account() if os.geteuid() == 0 else None
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if self.user:
            shutil.chown(self.dir, self.user)
        data = self.dir / "data"
        subprocess.run([str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                       user=self.user, check=True, capture_output=True, timeout=120)  # fmt: skip
        argv = [str(self.bin / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port),
                "-k", str(self.dir), "-c", "fsync=off", "-c", "full_page_writes=off"]  # fmt: skip
        what = "PostgreSQL to accept connections"
        self.proc = daemons.start("postgres", argv, self._answers, 30, what, user=self.user)

    def _answers(self) -> bool:
        ready = [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(ready, capture_output=True, timeout=5).returncode == 0

    def new_database(self, name: str) -> str:
        """An empty database of that name; its SQLAlchemy URL."""
        createdb = [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name]
        subprocess.run(createdb, check=True, capture_output=True, timeout=30)
        return self.url(name)

    def stop(self) -> None:
        daemons.stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
