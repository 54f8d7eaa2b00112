"""The built-in spawner: every server is a process on the hub's machine, run as the person's own OS account
when the hub runs as root.

Servers run in sessions of their own and their identity is persisted in the state, so a hub that is killed
and restarted finds them again, can poll them and can stop them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from commonroom.config.models import Profile, SpawnerConfig
from commonroom.limits import cgroupfs, detect, quota
from commonroom.limits.base import Handle, LimitError, Limits, enter
from commonroom.limits.sizes import format_size, parse_size
from commonroom.spawners import accounts, homes, procs
from commonroom.spawners.accounts import Account
from commonroom.spawners.base import ProgressEvent, ServerSpec, SpawnError, Spawner
from commonroom.spawners.zygote import client as launcher

_DEFAULT_CMD = (sys.executable, "-m", "commonroom.singleuser")
"""The interpreter running the hub is the one with Commonroom's single-user server installed."""
_SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
_EARLY_EXIT_SECONDS = 0.5
"""How long start() watches for a server that dies at once, unless it listens on its port sooner (a forked
server does within ~0.1 s); the hub's HTTP probe takes over after that."""
_EARLY_POLL_SECONDS = 0.01
_LOG_TAIL_LINES = 20
_LOG_TAIL_BYTES = 16 * 1024


def uses_os_accounts(mode: str, euid: int) -> bool:
    """Whether servers run as per-person OS accounts under spawner.local.os_accounts = `mode`."""
    if mode == "always" and euid != 0:
        raise SpawnError(
            f"spawner.local.os_accounts = 'always' needs the hub to run as root, but it runs as uid {euid}. "
            "Run the hub as root, or set os_accounts to 'auto' or 'never'."
        )
    return mode == "always" or (mode == "auto" and euid == 0)


class LocalProcessSpawner(Spawner):
    """Runs a server as a local process; state: pid, start_ticks, boot_id, port, account, log."""

    def __init__(self, config: SpawnerConfig, spec: ServerSpec, state: Mapping[str, Any]) -> None:
        super().__init__(config, spec, state)
        self._events: asyncio.Queue[ProgressEvent | None] = asyncio.Queue()
        self._starting = False
        self._exit_status: int | None = None
        log = self.state.get("log")
        self._log_path = Path(log) if isinstance(log, str) else None
        """Kept after stop() clears the state, for failure_detail()."""

    @classmethod
    async def hub_starting(cls, config: SpawnerConfig, data_dir: Path) -> None:
        if config.local.preload:
            launcher.start(config.local.log_dir, data_dir)

    @classmethod
    async def hub_stopping(cls, config: SpawnerConfig) -> None:
        await launcher.stop(config.local.log_dir)

    async def start(self) -> str:
        self._events = asyncio.Queue()
        self._starting = True
        self._exit_status = None
        try:
            return await self._start()
        finally:
            self._starting = False
            self._events.put_nowait(None)

    async def progress(self) -> AsyncIterator[ProgressEvent]:
        """Events of the start under way (or just finished); ends when start() ends.

        Iterate it once start() has been scheduled: a start task created just before this call gets one turn
        of the event loop to begin, and with no start under way the iteration ends at once.
        """
        if not self._starting and self._events.empty():
            await asyncio.sleep(0)
        if not self._starting and self._events.empty():
            return
        events = self._events
        while (event := await events.get()) is not None:
            yield event

    async def poll(self) -> int | None:
        if self._exit_status is None:
            proc = procs.ProcessId.from_state(self.state)
            if proc is None:
                return 0  # not remembered: a start may be under way
            self._exit_status = procs.exit_status(proc)
        return self._exit_status

    async def stop(self, now: bool = False) -> None:
        proc = procs.ProcessId.from_state(self.state)
        if proc is not None:
            status = await procs.terminate(proc, 0 if now else self.config.local.stop_grace_seconds)
            if self._exit_status is None:
                self._exit_status = status
        handle = Handle.from_state(self.state.get("limits"))
        if handle is not None:
            await cgroupfs.release(handle)
        self.state.clear()

    def failure_detail(self) -> str:
        if self._exit_status is None:
            return ""
        return _exit_report(self._exit_status, self._log_path, self._out_of_memory())

    def notice(self) -> str:
        killed = self._oom_kills()
        if not killed:
            return ""
        return (
            f"{self._out_of_memory()} The system stopped a process in your server {killed} time(s) because the "
            "server as a whole used all of its memory: a notebook whose kernel was stopped shows 'Kernel died'. "
            "Restart that kernel, work with less data at once, or start your server with a larger profile."
        )

    def _oom_kills(self) -> int:
        handle = Handle.from_state(self.state.get("limits"))
        return cgroupfs.oom_kills(handle) if handle else 0

    def _out_of_memory(self) -> str:
        """What to say when the kernel killed something in the server for its memory, '' when it did not."""
        if not self._oom_kills():
            return ""
        profile = self._profile()
        if profile is None or not profile.memory:
            return "Your server reached its memory limit."
        size = format_size(Limits.of(profile).memory or 0)
        return f"Your server reached its memory limit of {size} (profile {profile.name!r})."

    def _profile(self) -> Profile | None:
        return self.config.profile(self.spec.options.get("profile"))

    def _emit(self, message: str, progress: int) -> None:
        self._events.put_nowait(ProgressEvent(message, progress))

    async def _start(self) -> str:
        local = self.config.local
        _check_path_part(self.spec.user, "user name")
        account = await self._account() if uses_os_accounts(local.os_accounts, os.geteuid()) else None
        home = account.home if account else _absolute(local.homes_dir, "homes_dir") / self.spec.user
        self._emit("Preparing your home directory", 40)
        await self._prepare_home(home, account)
        await self._set_disk_quota(account)
        port = _free_port()
        env = self._environment(account, home, port)
        argv = _resolve_command(self._command(), env["PATH"], self._command_setting())
        self._log_path = _absolute(local.log_dir, "log_dir") / f"{self._key()}.log"
        handle = self._prepare_limits()
        try:
            proc = await self._launch(argv, env, home, account, handle)
        except SpawnError:
            if handle is not None:
                await cgroupfs.release(handle)
            raise
        self.state.clear()
        account_name = account.name if account else None
        limits = handle.to_state() if handle else None
        self.state.update(proc.to_state(), port=port, log=str(self._log_path), account=account_name, limits=limits)
        self._emit(f"Starting your server (pid {proc.pid})", 60)
        await self._watch_first_moments(proc, port)
        return f"http://127.0.0.1:{port}"

    async def _watch_first_moments(self, proc: procs.ProcessId, port: int) -> None:
        """Fail at once, with its log, when the server dies right away; leave nothing behind on a cancel."""
        try:
            died = await procs.ends_within(proc, _EARLY_EXIT_SECONDS, lambda: _listening(port), _EARLY_POLL_SECONDS)
        except asyncio.CancelledError:
            await self.stop(now=True)
            raise
        if died:
            self._exit_status = procs.exit_status(proc)
            report = _exit_report(self._exit_status or 0, self._log_path, self._out_of_memory(), " right after starting")
            await self.stop(now=True)
            raise SpawnError(report)

    async def _account(self) -> Account:
        name = accounts.account_name(self.config.local.account_prefix, self.spec.user)
        found = await accounts.find_account(name, self.spec.user, self.config.local.uids)
        if found is not None:
            return found
        self._emit("Creating your account", 20)
        home_root = _absolute(self.config.local.home_root, "home_root")
        return await accounts.create_account(name, self.spec.user, home_root, self.config.local.uids)

    async def _prepare_home(self, home: Path, account: Account | None) -> None:
        owner = (account.uid, account.gid) if account else None
        try:
            await asyncio.to_thread(homes.prepare_home, home, self.config.welcome_dir, owner)
        except OSError as exc:
            raise SpawnError(
                f"Could not prepare your home directory {home} ({exc}). An administrator should check that its "
                "parent folder exists and is writable, and that spawner.welcome_dir is readable."
            ) from None

    def _environment(self, account: Account | None, home: Path, port: int) -> dict[str, str]:
        """A clean environment: nothing of the hub's leaks into a server but PATH's system part and LANG."""
        env = {"PATH": f"{Path(sys.executable).parent}:{_SYSTEM_PATH}", "LANG": os.environ.get("LANG", "C.UTF-8")}
        profile = self._profile()
        if profile is not None and profile.venv is not None:
            env.update(PATH=f"{profile.venv / 'bin'}:{env['PATH']}", VIRTUAL_ENV=str(profile.venv))
        env.update(self.spec.env)
        env.update(self.config.environment)
        env.update(profile.environment if profile else {})
        env.update(
            HOME=str(home),
            USER=account.name if account else _hub_user(),
            SHELL=(account.shell if account else "") or "/bin/bash",
            JUPYTERHUB_SERVICE_URL=f"http://127.0.0.1:{port}{self.spec.prefix}",
        )
        return env

    def _key(self) -> str:
        """The server's name among this hub's servers, usable as a file or cgroup name: USER or USER@SERVER."""
        server = self.spec.server_name
        return f"{self.spec.user}@{quote(server, safe='')}" if server else self.spec.user

    def _cgroup_name(self) -> str:
        """HUB.USER[@SERVER]: cgroup v1's cpu and pids folders are often shared by every hub on the machine, so
        the name carries this hub's (a hash of its log folder, which lies in its data_dir)."""
        hub = hashlib.sha256(str(self.config.local.log_dir).encode()).hexdigest()[:12]
        return f"{hub}.{self._key()}"

    def _command(self) -> list[str]:
        """The profile's command, else its venv's jupyterhub-singleuser, else spawner.cmd; then spawner.args."""
        profile = self._profile()
        if profile is not None and profile.cmd:
            cmd = list(profile.cmd)
        elif profile is not None and profile.venv is not None:
            cmd = [str(profile.venv / "bin" / "jupyterhub-singleuser")]
        else:
            cmd = list(self.config.cmd or _DEFAULT_CMD)
        return [*cmd, *self.config.args]

    def _command_setting(self) -> str:
        profile = self._profile()
        if profile is not None and (profile.cmd or profile.venv is not None):
            return f"the cmd or venv of profile {profile.name!r} (spawner.profiles)"
        return "spawner.cmd"

    async def _set_disk_quota(self, account: Account | None) -> None:
        """Give the account the chosen profile's quota (none: no quota), once any profile names one."""
        if not any(profile.disk_quota for profile in self.config.profiles):
            return
        profile = self._profile()
        size = parse_size(profile.disk_quota) if profile and profile.disk_quota else 0
        home_root = _absolute(self.config.local.home_root, "home_root")
        try:
            await quota.set_quota(account.name if account else "", size, home_root, account is not None)
        except LimitError as exc:
            if size:
                raise SpawnError(
                    f"The disk quota of profile {profile.name if profile else ''!r} could not be set: {exc}. Until an "
                    "administrator fixes that or removes disk_quota from the profile, choose another profile."
                ) from None

    def _prepare_limits(self) -> Handle | None:
        """The profile's limits made ready for the server to enter; None when it has none."""
        profile = self._profile()
        limits = Limits.of(profile) if profile else Limits()
        if profile is None or not limits.any:
            return None
        try:
            return detect.active(self.config.enforcement).prepare(self._cgroup_name(), limits)
        except LimitError as exc:
            raise SpawnError(
                f"The limits of profile {profile.name!r} could not be put in place: {exc}. "
                "An administrator should check the resource limits line in the hub's log and spawner.enforcement."
            ) from None

    async def _launch(
        self, argv: list[str], env: dict[str, str], home: Path, account: Account | None, handle: Handle | None
    ) -> procs.ProcessId:
        """Fork the server from the hub's launcher when it runs our own single-user server, else Popen it."""
        assert self._log_path is not None
        run_as = procs.RunAs(account.uid, account.gid, account.groups) if account else None
        before_exec = functools.partial(enter, handle) if handle else None
        log_fd = procs.open_log(self._log_path)
        try:
            if argv[: len(_DEFAULT_CMD)] == list(_DEFAULT_CMD):
                limits = handle.to_state() if handle else None
                args = argv[len(_DEFAULT_CMD) :]
                forked = await launcher.fork_server(self.config.local.log_dir, args, env, home, log_fd, run_as, limits)
                if forked is not None:
                    return forked
            return procs.launch(argv, env=env, cwd=home, log_fd=log_fd, run_as=run_as, before_exec=before_exec)
        except OSError as exc:
            who = f" as {account.name}" if account else ""
            raise SpawnError(
                f"Could not start the single-user command {argv[0]!r}{who}: {exc.strerror or exc}. "
                "An administrator should check that it is installed where that account can run it, "
                f"or set {self._command_setting()} in the config."
            ) from None
        except subprocess.SubprocessError as exc:
            raise SpawnError(
                f"Could not put the server under its profile's limits ({exc}). An administrator should check the "
                "resource limits line in the hub's log."
            ) from None
        finally:
            os.close(log_fd)


def _check_path_part(name: str, what: str) -> None:
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        raise SpawnError(f"The {what} {name!r} cannot name a folder, so no server can be started for it.")


def _absolute(path: Path, key: str) -> Path:
    if not path.is_absolute():
        raise SpawnError(
            f"spawner.local.{key} = {str(path)!r} is relative; the hub must resolve it against hub.data_dir "
            "before servers start. This is a bug in the hub; please report it."
        )
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    """Whether something accepts connections on the loopback port: the server, once it is up (a refused or
    accepted loopback connection is answered at once; the timeout only bounds a full backlog)."""
    with socket.socket() as sock:
        sock.settimeout(0.05)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@functools.cache
def _hub_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _resolve_command(argv: list[str], path: str, setting: str) -> list[str]:
    """argv with its program found on the server's PATH, or a SpawnError that says how to fix `setting`."""
    program = argv[0]
    found = program if "/" in program else shutil.which(program, path=path)
    if found is None or not os.path.exists(found):
        where = "" if "/" in program else f" on PATH ({path})"
        raise SpawnError(
            f"The single-user command {program!r} was not found{where}. "
            f"An administrator should install it, or set {setting} in the config to a command that exists."
        )
    if not (os.path.isfile(found) and os.access(found, os.X_OK)):
        raise SpawnError(
            f"The single-user command {found!r} is not an executable file. "
            f"An administrator should fix its permissions, or set {setting} in the config."
        )
    return [found, *argv[1:]]


def _log_tail(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            start = max(0, fh.seek(0, os.SEEK_END) - _LOG_TAIL_BYTES)
            fh.seek(start)
            lines = fh.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[1 if start else 0 :][-_LOG_TAIL_LINES:])


def _exit_report(status: int, log: Path | None, out_of_memory: str, when: str = "") -> str:
    """Why a server ended, for the person: the memory limit it reached (if the kernel killed something for it),
    how it ended, its last log lines."""
    tail = _log_tail(log)
    report = f"{out_of_memory} " if out_of_memory else ""
    report += f"Your server {procs.describe_exit(status)}{when}."
    return f"{report} The last lines of its log:\n{tail}" if tail else f"{report} It wrote nothing to its log."
