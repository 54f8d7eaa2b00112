"""A trivial HTTP backend (`python -m bench.backend PORT`): every request gets a 2-byte 200 on a keep-alive
connection, so what a proxy adds on top of it is the proxy's own cost."""

from __future__ import annotations

import asyncio
import sys
from typing import cast

from bench import eventloop

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class Trivial(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            self.buffer = self.buffer[end + 4 :]  # GETs only: no body to skip
            self.transport.write(RESPONSE)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Trivial, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    eventloop.run(serve(int(sys.argv[1])))
