"""Read a socket option of a socket held by another process: an honest check that the server set TCP_NODELAY.

/proc/net/tcp maps the connection's ports to a socket inode and /proc/PID/fd maps the inode to a descriptor;
pidfd_getfd(2) (Linux 5.6+) then copies that descriptor into this process, where getsockopt reads the flag
the kernel really holds. The test process is the server's parent, so ptrace rules allow the copy.
"""

from __future__ import annotations

import ctypes
import os
import socket

SYS_PIDFD_GETFD = 438


def _inode(local_port: int, remote_port: int) -> str:
    with open("/proc/net/tcp") as table:
        for line in table.read().splitlines()[1:]:
            fields = line.split()
            if (
                int(fields[1].split(":")[1], 16) == local_port
                and int(fields[2].split(":")[1], 16) == remote_port
            ):
                return fields[9]
    raise LookupError(f"no TCP connection 127.0.0.1:{local_port} <-> :{remote_port}")


def _fd_of(pid: int, inode: str) -> int:
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == f"socket:[{inode}]":
                return int(name)
        except OSError:
            continue
    raise LookupError(f"process {pid} holds no socket with inode {inode}")


def tcp_nodelay(pid: int, local_port: int, remote_port: int) -> bool:
    """Whether process pid's socket for the connection local_port <-> remote_port has TCP_NODELAY set."""
    fd = _fd_of(pid, _inode(local_port, remote_port))
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        copy = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if copy < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd failed")
        with socket.socket(fileno=copy) as sock:
            return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        os.close(pidfd)
