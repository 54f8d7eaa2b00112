"""The server launcher (zygote) as a real process: what a forked child is, how its end reaches the hub, and
that the launcher itself stays private and ends with its hub.

No hub runs here, so the forked children cannot become servers: pointed at a hub address where nothing
listens, a child keeps retrying its start-up handshake for a few seconds, long enough to be looked at through
/proc. tests/integration/test_forked_servers.py checks real servers, seen from a kernel inside them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from spawner_harness import needs_root

from commonroom.spawners import procs
from commonroom.spawners.zygote import client, wire
from tests.support.ports import free_port

NOBODY = procs.RunAs(65534, 65534, (65534,))


@pytest.fixture
async def launcher(tmp_path: Path) -> AsyncIterator[client.Launcher]:
    (tmp_path / "logs").mkdir()
    started = client.Launcher(tmp_path)
    started.start()
    try:
        assert await started.usable(), (tmp_path / "logs" / "launcher.log").read_text()
        yield started
    finally:
        await started.stop()


def waiting_env() -> dict[str, str]:
    """A server environment whose hub never answers: the child waits in its handshake (~7 s of retries)."""
    return {
        "PATH": "/usr/bin:/bin",
        "JUPYTERHUB_API_TOKEN": "t0ken-for-this-child-only",
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{free_port()}/hub/api",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/somebody/",
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{free_port()}/user/somebody/",
        "JUPYTERHUB_USER": "somebody",
        "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-somebody",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": "/user/somebody/oauth_callback",
    }


async def fork(launcher: client.Launcher, log: Path, env: dict[str, str], cwd: Path, run_as: procs.RunAs | None = None) -> procs.ProcessId:
    fd = procs.open_log(log)
    try:
        return await launcher.fork([], env, cwd, fd, run_as)
    finally:
        os.close(fd)


async def in_handshake(log: Path) -> None:
    """Wait until the child is set up and running the server's start, which waits for the absent hub."""
    for _ in range(300):
        if "did not answer" in log.read_text():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the child never reached its handshake; its log:\n{log.read_text()}")


async def ended(proc: procs.ProcessId, timeout: float = 20) -> int:
    assert await procs.ends_within(proc, timeout)
    status = procs.exit_status(proc)
    assert status is not None
    return status


async def stopped(proc: procs.ProcessId) -> None:
    await procs.terminate(proc, grace=0)


def status_fields(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def open_files_limit(pid: int) -> str:
    return next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines() if line.startswith("Max open files"))


def socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


async def test_the_socket_is_the_hub_users_alone_and_the_launcher_starts_from_a_bare_environment(
    launcher: client.Launcher,
) -> None:
    mode = launcher.socket_path.stat()
    assert stat.S_ISSOCK(mode.st_mode)
    assert stat.S_IMODE(mode.st_mode) == 0o600
    assert mode.st_uid == os.getuid()
    assert launcher.proc is not None
    environ = Path(f"/proc/{launcher.proc.pid}/environ").read_bytes().split(b"\0")
    assert sorted(entry.split(b"=")[0] for entry in environ if entry) == [b"LANG", b"PATH"]


async def test_a_child_runs_in_a_session_of_its_own_and_its_kill_reaches_the_hub(
    launcher: client.Launcher, tmp_path: Path
) -> None:
    proc = await fork(launcher, tmp_path / "child.log", waiting_env(), tmp_path)
    await in_handshake(tmp_path / "child.log")
    assert procs.exit_status(proc) is None
    assert launcher.proc is not None
    assert status_fields(proc.pid)["PPid"] == str(launcher.proc.pid)
    assert os.getsid(proc.pid) == proc.pid
    assert os.readlink(f"/proc/{proc.pid}/cwd") == str(tmp_path)

    os.kill(proc.pid, signal.SIGKILL)

    assert await ended(proc) == -signal.SIGKILL
    assert procs.describe_exit(-signal.SIGKILL) == "was killed (signal 9, possibly out of memory)"


async def test_a_child_that_cannot_start_exits_with_its_reason_in_its_log(launcher: client.Launcher, tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    proc = await fork(launcher, log, {"PATH": "/usr/bin:/bin"}, tmp_path)

    assert await ended(proc) == 1
    assert "JUPYTERHUB_API_URL is not set" in log.read_text()


async def test_terminate_stops_a_forked_child_like_a_popen_one(launcher: client.Launcher, tmp_path: Path) -> None:
    proc = await fork(launcher, tmp_path / "child.log", waiting_env(), tmp_path)

    status = await procs.terminate(proc, grace=5)

    assert status == -signal.SIGTERM
    assert procs.exit_status(proc) is not None


@needs_root
async def test_a_child_has_the_accounts_identity_and_nothing_of_the_launchers(launcher: client.Launcher, tmp_path: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="crlaunch-"))  # pytest's tmp_path is not reachable by other users
    home.chmod(0o755)
    log = tmp_path / "child.log"
    proc = await fork(launcher, log, waiting_env(), home, NOBODY)
    try:
        await in_handshake(log)
        fields = status_fields(proc.pid)
        assert fields["Uid"].split() == ["65534"] * 4
        assert fields["Gid"].split() == ["65534"] * 4
        assert fields["Groups"].split() == ["65534"]
        assert fields["CapEff"] == "0000000000000000"
        assert os.stat(f"/proc/{proc.pid}").st_uid == 65534
        fds = {fd: os.readlink(f"/proc/{proc.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{proc.pid}/fd")}
        assert fds["0"] == "/dev/null" and fds["1"] == fds["2"] == str(log)
        assert launcher.proc is not None
        assert not socket_inodes(proc.pid) & socket_inodes(launcher.proc.pid)
        assert not [target for target in fds.values() if "launcher" in target or target.endswith(".log") and target != str(log)]
        assert os.readlink(f"/proc/{proc.pid}/cwd") == str(home)
        assert open_files_limit(proc.pid) == open_files_limit(os.getpid())  # the launcher raised its own only
    finally:
        await stopped(proc)
        home.rmdir()


@needs_root
async def test_no_secret_of_one_child_is_in_the_memory_of_the_next(launcher: client.Launcher, tmp_path: Path) -> None:
    """The environment goes from the hub to the child, never through the launcher, whose memory every later
    child inherits: the first child's token appears nowhere in the second child's memory."""
    first_env = waiting_env() | {"JUPYTERHUB_API_TOKEN": "first-childs-token-" + os.urandom(8).hex()}
    first = await fork(launcher, tmp_path / "first.log", first_env, tmp_path)
    second = await fork(launcher, tmp_path / "second.log", waiting_env(), tmp_path)
    try:
        await in_handshake(tmp_path / "first.log")
        await in_handshake(tmp_path / "second.log")
        assert first_env["JUPYTERHUB_API_TOKEN"].encode() in memory_of(first.pid)
        assert first_env["JUPYTERHUB_API_TOKEN"].encode() not in memory_of(second.pid)
        assert launcher.proc is not None
        assert first_env["JUPYTERHUB_API_TOKEN"].encode() not in memory_of(launcher.proc.pid)
    finally:
        for proc in (first, second):
            await stopped(proc)


def memory_of(pid: int) -> bytes:
    """Every readable private mapping of a process (root reads any process's memory)."""
    chunks = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("r") or (len(fields) > 5 and fields[5].startswith("/")):
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except (OSError, ValueError, OverflowError):
                continue
    return b"".join(chunks)


async def test_a_bad_request_is_refused_and_the_launcher_goes_on(launcher: client.Launcher, tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(launcher.socket_path))
        sock.sendall(b'{"args": "not a list"}\n')
        answer, _ = wire.read_line(sock)
    assert "error" in answer

    proc = await fork(launcher, tmp_path / "child.log", {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert await ended(proc) == 1


async def test_a_launcher_that_died_is_started_again_and_the_spawn_in_between_is_told_to_use_popen(
    launcher: client.Launcher, tmp_path: Path
) -> None:
    assert launcher.proc is not None
    launcher.proc.kill()
    launcher.proc.wait()

    assert not await launcher.usable()
    assert await launcher.usable()
    proc = await fork(launcher, tmp_path / "child.log", {"PATH": "/usr/bin:/bin"}, tmp_path)
    assert await ended(proc) == 1


def test_the_launcher_ends_when_its_hub_does(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    code = (
        "import asyncio, os, sys\n"
        "from pathlib import Path\n"
        "from commonroom.spawners.zygote.client import Launcher\n"
        f"launcher = Launcher(Path({str(tmp_path)!r}))\n"
        "launcher.start()\n"
        "assert asyncio.run(launcher.usable())\n"
        "print(launcher.proc.pid, flush=True)\n"
        "os._exit(0)\n"  # a hub that dies without stopping its launcher
    )
    hub = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    pid = int(hub.stdout.split()[0])

    assert wait_gone(pid, 10), f"the launcher {pid} outlived its hub"


def wait_gone(pid: int, seconds: float) -> bool:
    """Whether `pid` ends (or is left a zombie: its new parent need not reap it) within `seconds`."""
    for _ in range(int(seconds / 0.1)):
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


async def test_an_environment_python_reads_at_start_up_is_not_forked(launcher: client.Launcher, tmp_path: Path) -> None:
    """PYTHONPATH, JUPYTER_*, proxies...: read once by the launcher at import, so such servers get Popen."""
    client._launchers[tmp_path] = launcher
    fd = procs.open_log(tmp_path / "child.log")
    try:
        for extra in ({"PYTHONPATH": "/opt/site"}, {"JUPYTER_ALLOW_INSECURE_WRITES": "1"}, {"HTTPS_PROXY": "http://p:3128"}):
            assert await client.fork_server(tmp_path, [], {"PATH": "/usr/bin:/bin", **extra}, tmp_path, fd, None, None) is None
        proc = await client.fork_server(tmp_path, [], {"PATH": "/usr/bin:/bin"}, tmp_path, fd, None, None)
    finally:
        del client._launchers[tmp_path]
        os.close(fd)
    assert proc is not None
    assert await ended(proc) == 1
