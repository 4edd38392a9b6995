"""Closed-loop HTTP load from the load core: wrk when installed, else bench.loadgen's client."""

from __future__ import annotations

import re
import resource
import subprocess
from typing import Any

from bench.common import Context, Invalid, run_loadgen
from bench.procs import spawn

__all__ = ["http_load"]

_SUMMARY = re.compile(
    rb"BENCH requests=(\d+) duration_us=(\d+) status_errors=(\d+) socket_errors=(\d+)"
)


def _lua(method: str, headers: dict[str, str], body: str) -> str:
    lines = [f'wrk.method = "{method}"']
    if body:
        if "]==]" in body:
            raise ValueError("body cannot be quoted for Lua")
        lines.append(f"wrk.body = [==[{body}]==]")
    for key, value in headers.items():
        lines.append(f'wrk.headers["{key}"] = "{value}"')
    lines.append(
        "done = function(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        '  io.write(string.format("BENCH requests=%d duration_us=%d status_errors=%d '
        'socket_errors=%d\\n", summary.requests, summary.duration, e.status, '
        "e.connect + e.read + e.write + e.timeout))\n"
        "end"
    )
    return "\n".join(lines) + "\n"


def http_load(
    ctx: Context,
    name: str,
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str = "",
    connections: int = 16,
    seconds: float = 3.0,
    cycles: list[list[dict[str, Any]]] | None = None,
    python: bool = False,
) -> dict[str, Any]:
    """{"rate": successful requests/s, "ok", "failed", "load_utilisation", "tool"}.

    `cycles` (requests that differ per connection: {method, path, headers, body}) and
    `python` run the Python client even where wrk is installed, so that a pair compares
    like with like."""
    headers = dict(headers or {})
    if body:
        headers.setdefault("Content-Type", "application/json")
    if ctx.wrk and not cycles and not python:
        return _wrk(ctx, name, port, method, path, headers, body, connections, seconds)
    result = run_loadgen(
        ctx,
        {
            "mode": "http",
            "host": "127.0.0.1",
            "port": port,
            "method": method,
            "path": path,
            "headers": headers,
            "body": body,
            "connections": connections,
            "seconds": seconds,
            "cycles": cycles or [],
        },
        timeout=seconds + 30,
    )
    return {
        "tool": "python",
        "rate": result["rate"],
        "ok": result["ok"],
        "failed": result["requests"] - result["ok"] + result["errors"],
        "load_utilisation": result["load_utilisation"],
    }


def _wrk(
    ctx: Context,
    name: str,
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: str,
    connections: int,
    seconds: float,
) -> dict[str, Any]:
    assert ctx.wrk is not None
    script = ctx.work / f"{name}.lua"
    script.write_text(_lua(method, headers, body))
    command = [
        ctx.wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = spawn(name, command, env={}, log_dir=ctx.logs, cpus=ctx.load_cpus)
    try:
        child.popen.wait(seconds + 30)
    except subprocess.TimeoutExpired:
        raise Invalid(f"wrk did not finish: {name}") from None
    finally:
        child.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = child.log_path.read_bytes()
    found = _SUMMARY.search(output)
    if child.popen.returncode != 0 or found is None:
        raise Invalid(f"wrk failed ({child.popen.returncode}): {output[-1000:]!r}")
    requests, duration_us, status_errors, socket_errors = (int(g) for g in found.groups())
    duration = duration_us / 1e6
    ok = requests - status_errors
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "tool": "wrk",
        "rate": ok / duration if duration else 0.0,
        "ok": ok,
        "failed": status_errors + socket_errors,
        "load_utilisation": cpu / duration if duration else 0.0,
    }
