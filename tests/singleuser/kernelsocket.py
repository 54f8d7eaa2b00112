"""A kernel websocket client that speaks the JSON kernel protocol, as JupyterLab's legacy mode does."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect


@contextmanager
def kernel_socket(
    server_url: str, kernel_id: str, token: str = "", headers: dict[str, str] | None = None
) -> Iterator[KernelSocket]:
    """An open websocket to one kernel; a token travels in the URL, as browsers must send it."""
    session = uuid.uuid4().hex
    url = f"{server_url.replace('http', 'ws', 1)}api/kernels/{kernel_id}/channels?session_id={session}"
    if token:
        url += f"&token={token}"
    with connect(url, additional_headers=headers, open_timeout=30, close_timeout=2) as ws:
        yield KernelSocket(ws, session)


class KernelSocket:
    def __init__(self, ws: ClientConnection, session: str) -> None:
        self.ws = ws
        self.session = session

    @property
    def local_port(self) -> int:
        return int(self.ws.socket.getsockname()[1])

    def execute(self, code: str) -> str:
        """Send an execute_request; its msg_id."""
        msg_id = uuid.uuid4().hex
        message: dict[str, Any] = {
            "header": {"msg_id": msg_id, "username": "test", "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False},
        }  # fmt: skip
        self.ws.send(json.dumps(message))
        return msg_id

    def result(self, msg_id: str, timeout: float = 30) -> str:
        """The text/plain execute_result of a request (or its error)."""
        while True:
            reply = json.loads(self.ws.recv(timeout=timeout))
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if reply["msg_type"] == "execute_result":
                return str(reply["content"]["data"]["text/plain"])
            if reply["msg_type"] == "error":
                return f"{reply['content']['ename']}: {reply['content']['evalue']}"

    def wait_idle(self, msg_id: str, timeout: float = 30) -> None:
        """Read until the kernel reports idle after the request."""
        while True:
            reply = json.loads(self.ws.recv(timeout=timeout))
            if (
                reply.get("parent_header", {}).get("msg_id") == msg_id
                and reply["msg_type"] == "status"
                and reply["content"]["execution_state"] == "idle"
            ):
                return
