"""The launcher's messages: one JSON object per line, on one unix-socket connection per server.

hub → launcher: {"args", "cwd", "run_as"} with the server's log file descriptor attached (SCM_RIGHTS);
launcher → hub: {"pid", "start_ticks"} or {"error"}; hub → the forked child itself: {"env"};
launcher → hub, when the server has ended: {"status"} (negative: killed by that signal).
"""

from __future__ import annotations

import json
import socket
from typing import Any

MAX_MESSAGE = 1 << 20
"""No message comes near this (an environment is a few KiB); past it the peer is not speaking this protocol."""


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a launcher message must be a JSON object")  # noqa: TRY004 - bad input, like bad JSON
    return message


def read_line(sock: socket.socket, max_fds: int = 0) -> tuple[dict[str, Any], list[int]]:
    """One message from a blocking socket (and the descriptors sent with it); ValueError on EOF or garbage.

    Reads a byte at a time past the first chunk would be slow, so a peer must not send a second message
    before this one is answered (neither side does)."""
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, new_fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, max_fds) if max_fds else (sock.recv(MAX_MESSAGE), [], 0, None)
        fds += new_fds
        if not chunk or len(data) + len(chunk) > MAX_MESSAGE:
            for fd in fds:
                socket.close(fd)
            raise ValueError("the connection ended before a whole message arrived")
        data += chunk
    return decode(data), fds
