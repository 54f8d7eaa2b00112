"""A small HTTP/1.1 load generator for loopback: C keep-alive connections, each sending GETs one after the
other for a fixed time (and at most a fixed count), so it always stops by itself; or (send_each) a given list of
requests, each sent once. Raw asyncio streams keep the client's own cost far below httpx's, which matters when
the client shares two cores with the servers."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bench import eventloop

MAX_REQUESTS = 200_000


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    problem: str = ""
    """The first refusal (status and start of the body), when requests were sent with send_each."""

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


class BadResponse(Exception):
    pass


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Read one response; its status, whether the server will close the connection, and its body (empty if
    chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {k.strip().lower(): v.strip().lower() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        while await reader.readuntil(b"\r\n") != b"\r\n":
            pass
    else:
        raise BadResponse("response without a length")
    return status, headers.get("connection") == "close", body


async def _client(port: int, request: bytes, deadline: float, result: LoadResult, record: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline and len(result.latencies) < MAX_REQUESTS:
            began = time.perf_counter()
            writer.write(request)
            status, closing, _ = await _read_response(reader)
            if status != 200:
                result.errors += 1
            elif record:
                result.latencies.append(time.perf_counter() - began)
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except (OSError, asyncio.IncompleteReadError, BadResponse):
        result.errors += 1
    finally:
        writer.close()


def message(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, whole."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}{length}\r\n".encode() + body


async def _load(port: int, path: str, concurrency: int, seconds: float, headers: dict[str, str], record: bool) -> LoadResult:
    request = message(port, "GET", path, headers)
    result = LoadResult()
    began = time.monotonic()
    deadline = began + seconds
    await asyncio.gather(*(_client(port, request, deadline, result, record) for _ in range(concurrency)))
    result.elapsed = time.monotonic() - began
    return result


def load(port: int, path: str, concurrency: int, seconds: float, headers: dict[str, str] | None = None) -> LoadResult:
    """Warm up for a fifth of the time, then measure for `seconds`."""
    eventloop.run(_load(port, path, concurrency, seconds / 5, headers or {}, record=False))
    return eventloop.run(_load(port, path, concurrency, seconds, headers or {}, record=True))


async def _send_each(port: int, requests: list[bytes], concurrency: int) -> LoadResult:
    pending = requests[::-1]
    result = LoadResult()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while pending:
                began = time.perf_counter()
                writer.write(pending.pop())
                status, closing, body = await _read_response(reader)
                result.latencies.append(time.perf_counter() - began)
                if not 200 <= status < 300:
                    result.errors += 1
                    result.problem = result.problem or f"{status}: {body[:80].decode(errors='replace')}"
                if closing:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    began = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.elapsed = time.monotonic() - began
    return result


def send_each(port: int, requests: list[bytes], concurrency: int) -> LoadResult:
    """Send every request once over `concurrency` keep-alive connections taking from one queue: for many
    distinct requests (activity reports) where an httpx client would spend more CPU than the hub it measures."""
    return eventloop.run(_send_each(port, requests, concurrency))
