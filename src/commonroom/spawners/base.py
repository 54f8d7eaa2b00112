"""The spawner plugin interface.

A spawner is created for one server and given the state it persisted last time, so a restarted hub can
find a server that kept running. The hub owns everything around it: the JUPYTERHUB_* environment, the
readiness probe, proxy routes and the database; a spawner only starts, watches and stops processes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from commonroom.config.models import SpawnerConfig
from commonroom.plugins import load_plugin


class SpawnError(Exception):
    """A start failed. The message is shown to the person and should say what to do about it."""


@dataclass(frozen=True)
class ServerSpec:
    """What the hub asks a spawner to run."""

    user: str
    """The Commonroom user name."""
    server_name: str
    """"" for the default server."""
    prefix: str
    """URL prefix the server is served under, e.g. /user/alice/ (already URL-escaped)."""
    env: Mapping[str, str]
    """The JUPYTERHUB_* contract; the spawner adds JUPYTERHUB_SERVICE_URL once it knows the port."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """user_options from the start request."""


@dataclass(frozen=True)
class ProgressEvent:
    message: str
    progress: int | None = None


class Spawner(ABC):
    """Runs one server. Subclasses implement start, poll and stop; the rest is optional."""

    def __init__(self, config: SpawnerConfig, spec: ServerSpec, state: Mapping[str, Any]) -> None:
        self.config = config
        self.spec = spec
        self.state: dict[str, Any] = dict(state)
        """Persisted by the hub after start and stop; must be JSON-serialisable."""

    @classmethod
    async def hub_starting(cls, config: SpawnerConfig, data_dir: Path) -> None:
        """Start what all servers of this kind share (the local spawner's launcher); the hub calls it once."""

    @classmethod
    async def hub_stopping(cls, config: SpawnerConfig) -> None:
        """Stop what hub_starting started; running servers are left alone."""

    @abstractmethod
    async def start(self) -> str:
        """Start the server and return its base URL as the proxy should reach it, e.g. http://127.0.0.1:41234.

        Return as soon as the process is running; the hub then probes it over HTTP. Raise SpawnError with
        a message for the person when it cannot start. Record in self.state what poll and stop need.
        """

    @abstractmethod
    async def poll(self) -> int | None:
        """None while the server runs; its exit status (or 0 when unknown) once it is gone. Never raises."""

    @abstractmethod
    async def stop(self, now: bool = False) -> None:
        """Stop the server (now=True: without a grace period) and clear self.state. Stopping a gone server is fine."""

    async def progress(self) -> AsyncIterator[ProgressEvent]:
        """Events to show while start() runs; the default has none."""
        return
        yield  # pragma: no cover

    def failure_detail(self) -> str:
        """Extra words on why the server stopped (last lines of its log, an OOM kill), or ''."""
        return ""

    def notice(self) -> str:
        """What the person should know about their server while it runs (a process in it was killed for using
        more memory than its profile allows), or ''."""
        return ""


def load_spawner_class(name: str) -> type[Spawner]:
    return load_plugin("commonroom.spawners", name, Spawner, "spawner.kind")
