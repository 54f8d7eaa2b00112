"""Kernel round trips over the kernel websocket, as JupyterLab sends them: execute_request on the shell
channel, timed until the execute_reply to that request comes back."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from websockets.sync.client import ClientConnection, connect


def execute_request(code: str, session: str) -> dict[str, Any]:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "username": "bench", "session": session,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False},
    }  # fmt: skip


def round_trip(ws: ClientConnection, code: str, session: str, timeout: float = 60) -> tuple[float, str]:
    """Seconds until the execute_reply, and the execute_result's text/plain (empty if none came first)."""
    request = execute_request(code, session)
    msg_id = request["header"]["msg_id"]
    began = time.monotonic()
    ws.send(json.dumps(request))
    result = ""
    while True:
        reply = json.loads(ws.recv(timeout=timeout))
        if reply.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if reply["msg_type"] == "execute_result":
            result = str(reply["content"]["data"].get("text/plain", ""))
        if reply["msg_type"] == "execute_reply":
            return time.monotonic() - began, result


def round_trips(ws_url: str, headers: dict[str, str], count: int, warmup: int = 3) -> list[float]:
    """`count` timed round trips of "1+1" on one connection, after `warmup` untimed ones."""
    session = uuid.uuid4().hex
    with connect(ws_url, additional_headers=headers, open_timeout=60, close_timeout=2, max_size=None) as ws:
        for _ in range(warmup):
            round_trip(ws, "1+1", session)
        return [round_trip(ws, "1+1", session)[0] for _ in range(count)]
