"""`python -m commonroom.spawners.zygote SOCKET`: import the single-user server once, then fork servers.

Single-threaded on purpose, with no event loop: a fork copies only the calling thread, so a lock held by any
other thread, or an event loop's state, would be inherited broken by every server. Waiting happens in one
selector over the listening socket and a SIGCHLD wake-up pipe. The launcher is the parent of the servers it
forks: it reaps them and sends each exit status to the hub on that server's connection. It ends when its hub
does (its parent pid changes); the servers, each in a session of its own, keep running for the next hub.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import resource
import selectors
import signal
import socket
import struct
import sys
from pathlib import Path
from types import FrameType

from commonroom.spawners.zygote import wire
from commonroom.spawners.zygote.child import ForkedServer, Request

_SERVER_HANDLERS = (
    "kernelspecs", "nbconvert", "view", "services.api", "services.config", "services.contents", "services.events",
    "services.kernels", "services.kernelspecs", "services.nbconvert", "services.security", "services.sessions",
)  # fmt: skip
PRELOAD = (
    "commonroom.singleuser.launcher",
    "commonroom.singleuser.extension",
    "commonroom.singleuser.identity",
    "commonroom.singleuser.nodelay",
    "jupyter_server.serverapp",
    "jupyterlab.labapp",
    "jupyterlab_server",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "notebook_shim",
    "notebook_shim.nbserver",
    "jupyter_client.provisioning.local_provisioner",
    "jupyter_server.services.contents.largefilemanager",
    "jupyter_server.services.kernels.connection.channels",
    *(f"jupyter_server.{name}.handlers" for name in _SERVER_HANDLERS),
    "IPython",  # notebook_shim asks IPython for its paths
    "httpcore",  # JupyterLab's extension manager makes an HTTP client
    "jupyter_server.services.shutdown",
    "jinja2.ext",
    "tornado.platform.asyncio",
)
"""What a JupyterLab server imports on its way to listening: with `python -X importtime` and the modules new in
sys.modules after ServerApp.initialize (most of the ~2 s of CPU a server start costs). Modules missing here
(an extension not installed) are skipped."""

_PR_SET_PDEATHSIG = 1
PARENT_CHECK_SECONDS = 0.5
REQUEST_TIMEOUT_SECONDS = 10.0
"""A hub sends its request as soon as it connects; this only keeps a stuck peer from stalling every spawn."""


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m commonroom.spawners.zygote SOCKET (the hub starts this itself)", file=sys.stderr)
        return 2
    parent = os.getppid()
    _end_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is for the hub; the launcher ends with it
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile[1], nofile[1]))  # one connection per running server
    preload()
    path = Path(argv[0])
    server = Launcher(_listen(path), parent, nofile).serve()
    if server is None:
        path.unlink(missing_ok=True)
        return 0
    return server.run()


def _end_with(parent: int) -> None:
    """Be sent SIGTERM when the hub dies, even while still importing (the serve loop also checks the parent,
    but only once the imports are done)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request took effect
        sys.exit(0)


def preload() -> None:
    """Import what every server needs, then move it all out of the garbage collector's sight, so collections
    in the servers do not touch (and so copy) the memory they share with the launcher."""
    from commonroom.singleuser.launcher import skip_iri_validator

    skip_iri_validator()
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(f"[commonroom-launcher] not preloading {name}: {exc}", file=sys.stderr, flush=True)
    gc.freeze()


def _listen(path: Path) -> socket.socket:
    """Listen at `path`, mode 0600: the socket appears, complete, only once the preloading is done."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    partial = path.with_name(path.name + ".new")
    partial.unlink(missing_ok=True)
    old_umask = os.umask(0o177)
    try:
        listener.bind(str(partial))
    finally:
        os.umask(old_umask)
    listener.listen(64)
    partial.replace(path)
    return listener


class Launcher:
    def __init__(self, listener: socket.socket, parent: int, nofile: tuple[int, int]) -> None:
        self.listener = listener
        self.parent = parent
        self.nofile = nofile
        """The descriptor limits the launcher was started with, which its servers get back."""
        self.connections: dict[int, socket.socket] = {}
        """Each running server's connection to the hub, by pid: where its exit status goes."""
        self.wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_write)
        signal.signal(signal.SIGCHLD, _wake)
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ)
        self.selector.register(self.wake_read, selectors.EVENT_READ)

    def serve(self) -> ForkedServer | None:
        """Fork servers until the hub is gone (None); in a forked child, return the server it must become."""
        while os.getppid() == self.parent:
            for key, _ in self.selector.select(PARENT_CHECK_SECONDS):
                if key.fileobj is self.listener:
                    server = self._accept()
                    if server is not None:
                        return server
                else:
                    _drain(self.wake_read)
            self._reap()
        return None

    def _accept(self) -> ForkedServer | None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return None
        fds: list[int] = []
        try:
            _check_peer(conn)
            conn.settimeout(REQUEST_TIMEOUT_SECONDS)
            message, fds = wire.read_line(conn, max_fds=1)
            request = Request.parse(message, fds)
            return self._fork(request, conn)
        except (OSError, ValueError) as exc:
            _say(f"refused a request: {exc}")
            for fd in fds:
                os.close(fd)
            try:
                conn.sendall(wire.encode({"error": str(exc)}))
            except OSError:
                pass
            conn.close()
            return None

    def _fork(self, request: Request, conn: socket.socket) -> ForkedServer | None:
        sys.stdout.flush()
        sys.stderr.flush()
        in_session, session_made = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setsid()  # before the hub hears of the pid: it stops a server by signalling its session's group
            os.close(session_made)
            os.close(in_session)
            signal.set_wakeup_fd(-1)
            self.selector.close()
            return ForkedServer(request, conn, [self.listener, *self.connections.values()], self.nofile)
        os.close(session_made)
        os.read(in_session, 1)  # returns once the child closed its end: its session exists (or it died)
        os.close(in_session)
        os.close(request.log_fd)
        # Read before anything can reap the child, so the hub gets its identity even if it died at once.
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        try:
            conn.sendall(wire.encode({"pid": pid, "start_ticks": ticks}))
        except OSError:
            pass  # the hub went away; the status has nowhere to go, but the child is still reaped below
        conn.setblocking(True)
        self.connections[pid] = conn
        return None

    def _reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.connections.pop(pid, None)
            if conn is None:
                continue
            try:
                conn.settimeout(REQUEST_TIMEOUT_SECONDS)
                conn.sendall(wire.encode({"status": os.waitstatus_to_exitcode(wait_status)}))
            except OSError:
                pass  # the hub that asked for this server is gone; a later hub finds it gone from /proc
            conn.close()


def _check_peer(conn: socket.socket) -> None:
    """Only the hub's own user may ask (the socket's mode says so too; this holds if someone loosens it)."""
    _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    if uid != os.getuid():
        raise ValueError(f"uid {uid} may not start servers")


def _wake(signum: int, frame: FrameType | None) -> None:
    """SIGCHLD needs a Python handler for the wake-up fd to be written; the reaping happens in the loop."""


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _say(message: str) -> None:
    print(f"[commonroom-launcher] {message}", file=sys.stderr, flush=True)
