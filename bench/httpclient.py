"""A minimal asyncio HTTP/1.1 keep-alive client for loopback, and a closed-loop load driver.

Only what the benchmarks need: Content-Length and chunked bodies, one request at a time
per connection. It keeps the poster and the fallback load generator free of any client
library's overhead.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

__all__ = ["HttpConnection", "LoadResult", "closed_loop"]


class HttpConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = self._reader = None

    def encode(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        if body or method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        return await self.send_raw(self.encode(method, path, body, headers))

    async def send_raw(self, raw: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            await self.connect()
        assert self._reader is not None and self._writer is not None
        self._writer.write(raw)
        reader = self._reader
        status_line = await reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length: int | None = None
        chunked = False
        close = False
        for _ in range(200):
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif key == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            for _ in range(100_000):
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = await reader.readexactly(length or 0)
        if close:
            await self.close()
        return status, body


@dataclass
class LoadResult:
    requests: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def closed_loop(
    host: str,
    port: int,
    raw_request: bytes,
    *,
    connections: int,
    seconds: float,
    cycles: list[list[bytes]] | None = None,
) -> LoadResult:
    """`connections` clients each sending the same request back to back for `seconds`;
    with `cycles`, client i sends the requests of `cycles[i % len(cycles)]` in turn."""
    result = LoadResult()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    started = time.perf_counter()

    async def client(index: int) -> None:
        conn = HttpConnection(host, port)
        mine = cycles[index % len(cycles)] if cycles else [raw_request]
        try:
            for n in range(10_000_000):
                if loop.time() >= deadline:
                    break
                try:
                    status, _body = await conn.send_raw(mine[n % len(mine)])
                except (ConnectionError, OSError, asyncio.IncompleteReadError):
                    result.errors += 1
                    await conn.close()
                    continue
                result.requests += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if 200 <= status < 400:
                    result.ok += 1
        finally:
            await conn.close()

    await asyncio.gather(*(client(i) for i in range(connections)))
    result.seconds = time.perf_counter() - started
    return result
