"""The soak's results as Markdown, in their own section of docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.soak import CONVERGE_SECONDS, RSS_BOUND_MB, RSS_MIN_MINUTES, RSS_SLOPE_MB_PER_MIN

__all__ = ["BEGIN", "END", "render", "write_docs"]

BEGIN = "<!-- bench:soak:begin (written by `make bench BENCH_ARGS=--soak`) -->"
END = "<!-- bench:soak:end -->"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def render(result: dict[str, Any], meta: dict[str, Any]) -> str:
    o = result["options"]
    verdict = (
        "**passed**" if not result["problems"] else "**failed**: " + "; ".join(result["problems"])
    )
    logs = result["log_lines"]
    rss = result["rss"]
    lines = [
        f"Run: {meta['started']} · {o['minutes']:g} min · {meta['database']} + Redis "
        f"(a redis-server of the run's own) · {o['viewers']} viewers on 2 processes · "
        f"{o['posts_per_second']:g} posts/s · {o['resumes_per_second']:g} resumes/s · "
        f"took {meta['seconds']:.0f} s · {verdict}",
        "",
        f"Events: {result['events']} on the thread, {result['deliveries']} deliveries of "
        f"{result['expected_deliveries']} expected; duplicates {result['duplicates']}, gaps "
        f"{result['gaps']}, missing at the end {result['missing']}, unexpected frames "
        f"{result['anomalies']}. Resumes: {result['resumes']} "
        f"({result['reopen_failures']} attempts refused while a process was down). "
        f"Posts: {result['posts']} ({result['post_errors']} failed), outside faults p50 "
        f"{_ms(result['normal_post_p50'])} ms, p99 {_ms(result['normal_post_p99'])} ms. "
        f"Every viewer had every event {_s(result['final_convergence'])} s after the last post.",
        "",
        f"Server logs: {logs['broker degraded']} × broker degraded, "
        f"{logs['broker recovered']} × recovered, {logs['subscription lost']} × subscription "
        f"lost, {logs['subscription restored']} × restored, {logs['Traceback']} tracebacks.",
        "",
        "| fault | at s | lasted s | posts | failed | post p50 ms | post p99 ms | max ms "
        "| p99 / normal p99 | converged s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in result["faults"]:
        ratio = "–" if f["p99_over_normal"] is None else f"{f['p99_over_normal']:.2f}"
        lines.append(
            f"| {f['kind']} | {f['start']:.0f} | {f['seconds']:.1f} | {f['posts']} "
            f"| {f['post_errors']} | {_ms(f['post_p50'])} | {_ms(f['post_p99'])} "
            f"| {_ms(f['post_max'])} | {ratio} | {_s(f['converged'])} |"
        )
    lines += [
        "",
        "Per minute (RSS MB · fds · asyncio tasks per process; `b` restarts after each "
        "koryu-kill fault, its start number in brackets):",
        "",
        "| min | viewers | delivery p50 / p99 ms | posts | post p50 / p99 ms | a | b |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["minutes"]:
        cells = []
        for name in ("soak-koryu-a", "soak-koryu-b"):
            p = row["processes"].get(name)
            cells.append(
                "down"
                if p is None
                else f"{p['rss'] / 2**20:.1f} · {p['fds']} · {p['tasks']} [{p['start']}]"
            )
        lines.append(
            f"| {row['minute']} | {row['viewers_open']} | {_ms(row['delivery_p50'])} / "
            f"{_ms(row['delivery_p99'])} | {row['posts']} | {_ms(row['post_p50'])} / "
            f"{_ms(row['post_p99'])} | {cells[0]} | {cells[1]} |"
        )
    slope = rss["slope_mb_per_min"]
    growth = rss["growth_mb"]
    lines += [
        "",
        f"RSS of `a` (never killed) over the last half: slope "
        f"{'–' if slope is None else f'{slope:.3f}'} MB/min, growth "
        f"{'–' if growth is None else f'{growth:.1f}'} MB (bound: {RSS_SLOPE_MB_PER_MIN} MB/min, "
        f"or at most {RSS_BOUND_MB} MB in all"
        + (
            ")"
            if rss.get("judged", True)
            else f"; not judged: runs shorter than {RSS_MIN_MINUTES:.0f} min)"
        )
        + f"; convergence limit {CONVERGE_SECONDS:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def write_docs(path: Path, results: str) -> None:
    block = f"{BEGIN}\n\n{results}\n{END}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        path.write_text(head + block + tail)
        return
    path.write_text(text.rstrip() + "\n\n## Soak\n\n" + block + "\n")
