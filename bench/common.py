"""What every benchmark shares: the run's context and the load-generator launcher."""

from __future__ import annotations

import itertools
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.procs import PYTHON, spawn
from bench.site import Seed

__all__ = ["Context", "Invalid", "run_loadgen"]

_counter = itertools.count(1)


class Invalid(Exception):
    """A run that cannot be trusted (failed connections, missing frames, errors)."""


@dataclass
class Context:
    work: Path
    server_cpus: set[int]
    load_cpus: set[int]
    full: bool
    sqlite_url: str
    sqlite_seed: Seed
    pairs: int
    posts: int
    log: list[str] = field(default_factory=list)
    pg_url: str | None = None
    pg_seed: Seed | None = None
    redis_url: str | None = None
    wrk: str | None = None
    # Participants' bearer tokens per database, seeded once by the Q&A benchmarks.
    voters: dict[str, list[str]] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        path = self.work / "logs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def say(self, message: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        self.log.append(line)
        print(line, flush=True)


def run_loadgen(ctx: Context, spec: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Run `python -m bench.loadgen` pinned to the load core; returns its result."""
    n = next(_counter)
    spec_path = ctx.work / f"loadgen-{n}.json"
    out_path = ctx.work / f"loadgen-{n}.out.json"
    spec = {**spec, "out": str(out_path), "deadline": timeout}
    spec_path.write_bytes(orjson.dumps(spec))
    child = spawn(
        f"loadgen-{n}",
        [PYTHON, "-m", "bench.loadgen", str(spec_path)],
        env=_env(),
        log_dir=ctx.logs,
        cpus=ctx.load_cpus,
    )
    try:
        child.popen.wait(timeout + 15)
    except subprocess.TimeoutExpired:
        raise Invalid(f"load generator did not finish in {timeout + 15} s") from None
    finally:
        child.stop()
    if child.popen.returncode != 0 or not out_path.exists():
        raise Invalid(f"load generator failed ({child.popen.returncode})\n{child.tail()}")
    result: dict[str, Any] = orjson.loads(out_path.read_bytes())
    return result


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONUNBUFFERED": "1"}
