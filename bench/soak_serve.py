"""`python -m bench.soak_serve --port N`: koryu's app on uvicorn, as `koryu serve` runs it,
that also writes its asyncio task count to `$BENCH_STATS` every few seconds.

/proc tells the soak a process's RSS and file descriptors, but not its tasks: a task that
leaks per reconnect or per fault is exactly what an hour-long run should catch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette

__all__ = ["create_app", "main"]

SAMPLE_SECONDS = 5.0


async def _sample(path: Path) -> None:
    while True:
        line = f"{time.time():.3f} {len(asyncio.all_tasks())}\n"
        # Replace, never append: the file stays one line however long the run.
        tmp = path.with_suffix(".tmp")
        tmp.write_text(line)
        tmp.replace(path)
        await asyncio.sleep(SAMPLE_SECONDS)


def create_app() -> Starlette:
    from forum.app import create_app as forum_app

    app = forum_app()
    inner = app.router.lifespan_context
    path = Path(os.environ["BENCH_STATS"])

    @asynccontextmanager
    async def lifespan(application: Starlette) -> AsyncIterator[None]:
        async with inner(application):
            sampler = asyncio.create_task(_sample(path), name="bench-sampler")
            try:
                yield
            finally:
                sampler.cancel()

    app.router.lifespan_context = lifespan  # type: ignore[assignment]
    return app


def read_tasks(path: Path) -> int | None:
    """The task count the server wrote last (None before its first sample)."""
    try:
        return int(path.read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from forum.cli import log_config

    parser = argparse.ArgumentParser(prog="bench.soak_serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.host != "127.0.0.1":
        parser.error("loopback only")
    uvicorn.run(
        "bench.soak_serve:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        ws_per_message_deflate=False,
        log_level=args.log_level,
        log_config=log_config(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
