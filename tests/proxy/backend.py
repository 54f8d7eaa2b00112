"""A backend for the proxy tests, run as its own process: `python backend.py HTTP_PORT WS_PORT RAW_PORT`.

HTTP (uvicorn, the server the hub itself runs on), by the last two segments of the path:
  .../errors/<code>     an error page naming the code and the `url` query argument (the proxy's error target)
  .../status/<code>  an empty response with that status
  .../stream/<n>     n chunks of "chunk <i>\n" with no Content-Length (so the body arrives chunked)
  .../bytes/<n>      n bytes of "x" with a Content-Length
  anything else      JSON describing the request: method, raw path, query, headers, body size and sha256,
                     and the client port (which shows whether the proxy reused its connection)
Websocket (the `websockets` package) on WS_PORT: echoes every message, prefixed with the request path.
RAW_PORT misbehaves on purpose, by the end of the path (request bodies are not read):
  .../flaky          answers, keeps the connection open, and closes it unanswered on the next request
  .../until-close    a body without Content-Length or chunking, ended by closing the connection
  .../hang           never answers
  anything else      "served <n>" with a Content-Length
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from typing import Any

import uvicorn
from websockets.asyncio.server import ServerConnection, serve

Scope = dict[str, Any]


async def _body(receive: Any) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        digest.update(chunk)
        if not message.get("more_body"):
            return size, digest.hexdigest()


async def _respond(send: Any, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    kind, _, arg = scope["path"].rpartition("/")
    kind = kind.rpartition("/")[2]
    size, sha = await _body(receive)
    if kind == "errors":
        body = f"custom error {arg} {scope['query_string'].decode()}".encode()
        await _respond(send, 200, body, b"text/html; charset=utf-8", [(b"x-not-copied", b"1")])
    elif kind == "status":
        await _respond(send, int(arg), b"", b"text/plain", [])
    elif kind == "stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for index in range(int(arg)):
            await send({"type": "http.response.body", "body": f"chunk {index}\n".encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif kind == "bytes":
        await _respond(send, 200, b"x" * int(arg), b"application/octet-stream", [])
    else:
        described = {
            "method": scope["method"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": [[name.decode("latin-1"), value.decode("latin-1")] for name, value in scope["headers"]],
            "body_size": size,
            "body_sha256": sha,
            "client_port": scope["client"][1],
        }
        await _respond(send, 200, json.dumps(described).encode(), b"application/json", [])


async def _echo(connection: ServerConnection) -> None:
    path = connection.request.path if connection.request is not None else ""
    async for message in connection:
        await connection.send(f"{path} {message!s}")


async def _raw(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    served = 0
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1]
            if path.endswith(b"/hang"):
                await asyncio.sleep(3600)
            if path.endswith(b"/flaky") and served:
                break
            if path.endswith(b"/until-close"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"all of it\n" * 1000)
                break
            served += 1
            body = b"served %d" % served
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()


async def main(http_port: int, ws_port: int, raw_port: int) -> None:
    config = uvicorn.Config(app, host="127.0.0.1", port=http_port, log_level="warning", ws="none")
    async with serve(_echo, "127.0.0.1", ws_port), await asyncio.start_server(_raw, "127.0.0.1", raw_port):
        await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
