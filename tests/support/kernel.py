"""Run code in a Jupyter kernel over its websocket, as JupyterLab does: execute_request on the shell
channel, then read iopub until the execute_result (or error) for that request arrives."""

from __future__ import annotations

import json
import uuid
from typing import Any

from websockets.sync.client import connect


def _message(code: str, session: str) -> dict[str, Any]:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "username": "test", "session": session,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False},
    }  # fmt: skip


def run_code(ws_url: str, code: str, headers: dict[str, str] | None = None, timeout: float = 60) -> str:
    """The text/plain result of `code` (or the error's ename: evalue)."""
    with connect(ws_url, additional_headers=headers or {}, open_timeout=timeout, close_timeout=2) as ws:
        request = _message(code, uuid.uuid4().hex)
        ws.send(json.dumps(request))
        msg_id = request["header"]["msg_id"]
        while True:
            reply = json.loads(ws.recv(timeout=timeout))
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = reply["msg_type"]
            if kind == "execute_result":
                return str(reply["content"]["data"]["text/plain"])
            if kind == "error":
                return f"{reply['content']['ename']}: {reply['content']['evalue']}"
