"""`python -m bench [--full] [--only fanout,write,page,scaleout,storm,qa]`: run, summarise,
write docs.

`python -m bench --soak [--soak-minutes 60]` runs the soak instead (see bench/soak.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench import procs, report, site
from bench.common import Context, Invalid
from bench.fanout import run_fanout
from bench.page import run_page
from bench.qa_write import run_qa_write
from bench.scaleout import run_scaleout
from bench.storm import run_storm
from bench.writepath import run_write_path

__all__ = ["main"]

BENCHMARKS = ("fanout", "write", "page", "scaleout", "storm", "qa")
# One of this run's own: two runs at once (other checkouts on one machine) would drop each
# other's database mid-run.
PG_DATABASE = f"koryu_bench_{os.getpid()}"
SOAK_DATABASE = "koryu_soak"  # its own, so a soak and the other benchmarks never collide


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--full", action="store_true", help="N up to 2000, longer runs, 5 pairs")
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset")
    p.add_argument("--pairs", type=int, default=None, help="ours/bare pairs (default 3; full 5)")
    p.add_argument("--posts", type=int, default=20, help="posts per fan-out batch")
    p.add_argument("--stages", default=None, help="fan-out viewer counts, e.g. 100,1000")
    p.add_argument("--seconds", type=float, default=None, help="HTTP load per run (1.5; full 5)")
    p.add_argument(
        "--storm-seconds", type=float, default=None, help="each vote-storm phase (20; full 60)"
    )
    p.add_argument("--storm-viewers", type=int, default=2000, help="vote-storm viewers (2000)")
    p.add_argument(
        "--storm-votes", type=float, default=200.0, help="votes a second in the storm (200)"
    )
    p.add_argument(
        "--koryu-root",
        default=None,
        help="serve koryu from this checkout (e.g. `git archive` of an older commit), "
        "for a before/after under the same load; implies --no-docs",
    )
    p.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    p.add_argument("--docs", default=str(procs.ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument("--keep", action="store_true", help="keep the work directory and its logs")
    p.add_argument("--soak", action="store_true", help="run the soak (faults, hours) instead")
    p.add_argument("--soak-minutes", type=float, default=60.0, help="soak length (default 60)")
    p.add_argument("--soak-viewers", type=int, default=600, help="soak viewers (default 600)")
    p.add_argument("--soak-posts-per-second", type=float, default=2.0)
    p.add_argument("--soak-resumes-per-second", type=float, default=1.5)
    return p


def _pg_available(url: str) -> bool:
    import asyncpg  # type: ignore[import-untyped]

    async def ping() -> None:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=3)
        await conn.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def _redis_available(url: str) -> bool:
    host, _, port = url.removeprefix("redis://").split("/")[0].partition(":")
    if host != "127.0.0.1":
        return False
    try:
        with socket.create_connection((host, int(port or 6379)), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.soak:
        return _soak(args)
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    unknown = only - set(BENCHMARKS)
    if unknown:
        parser().error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    if args.koryu_root:
        site.KORYU_ROOT = Path(args.koryu_root).resolve()
        args.no_docs = True
    procs.install_signal_handlers()
    server_cpus, load_cpus = procs.core_plan()
    # The orchestrator mostly waits; keep it off the server's core all the same.
    os.sched_setaffinity(0, load_cpus)
    mode = "full" if args.full else "quick"
    stages = (
        [int(x) for x in args.stages.split(",")]
        if args.stages
        else ([100, 1000, 2000] if args.full else [100, 2000])
    )
    pairs = args.pairs or (5 if args.full else 3)
    seconds = args.seconds or (5.0 if args.full else 1.5)
    work = Path(tempfile.mkdtemp(prefix="koryu-bench-"))
    started = time.monotonic()
    raw: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "pairs": pairs,
        "posts": args.posts,
        "server_cpus": ",".join(map(str, sorted(server_cpus))),
        "load_cpus": ",".join(map(str, sorted(load_cpus))),
        "problems": [],
        "koryu_root": str(site.KORYU_ROOT or procs.ROOT),
        # Other work on the machine shows here: every ratio is of one run, but a machine
        # busier than its cores moves the numbers of both sides of a pair unevenly.
        "loadavg": [round(os.getloadavg()[0], 1)],
    }
    pg_admin = args.postgres
    use_pg = bool(only & {"write", "scaleout", "qa"}) and _pg_available(pg_admin)
    use_redis = "scaleout" in only and _redis_available(args.redis)
    pg_created = False
    ctx: Context | None = None
    try:
        sqlite_url = f"sqlite://{work / 'koryu.sqlite3'}"
        print(f"bench: {mode} mode, work directory {work}", flush=True)
        (work / "logs").mkdir()
        site.prepare(sqlite_url, work / "data", work / "logs")
        seeder = site.start_koryu(
            "seed-sqlite", site.koryu_env(sqlite_url, work / "data"), work / "logs", server_cpus
        )
        try:
            sqlite_seed = site.seed(seeder.base, page_posts=200 if "page" in only else 0)
        finally:
            seeder.stop()
        ctx = Context(
            work=work,
            server_cpus=server_cpus,
            load_cpus=load_cpus,
            full=args.full,
            sqlite_url=sqlite_url,
            sqlite_seed=sqlite_seed,
            pairs=pairs,
            posts=args.posts,
            redis_url=args.redis if use_redis else None,
            wrk=shutil.which("wrk"),
        )
        if use_pg:
            ctx.say(f"PostgreSQL: creating database {PG_DATABASE}")
            pg_url = site.create_pg_database(pg_admin, PG_DATABASE)
            pg_created = True
            site.prepare(pg_url, work / "data", ctx.logs)
            seeder = site.start_koryu(
                "seed-postgres", site.koryu_env(pg_url, work / "data"), ctx.logs, server_cpus
            )
            try:
                ctx.pg_seed = site.seed(seeder.base)
            finally:
                seeder.stop()
            ctx.pg_url = pg_url
        elif only & {"write", "scaleout", "qa"}:
            raw["problems"].append(f"PostgreSQL not reachable at {pg_admin}: its runs skipped")
        _run_all(ctx, raw, only, stages, seconds, args)
    except KeyboardInterrupt:
        print("bench: interrupted, stopping every process it started", flush=True)
        return 130
    finally:
        procs.stop_all()
        if pg_created:
            try:
                site.drop_pg_database(pg_admin, PG_DATABASE)
            except Exception as exc:
                print(f"bench: could not drop {PG_DATABASE}: {exc}", flush=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"bench: kept {work}", flush=True)
    raw["seconds"] = time.monotonic() - started
    raw["loadavg"].append(round(os.getloadavg()[0], 1))
    raw["machine"] = report.machine(
        pg_admin if use_pg else None, ctx.redis_url if ctx else None, ctx.wrk if ctx else None
    )
    summary = report.summarise(raw)
    qa_parts = {"storm", "qa"}
    blocks = []
    if only - qa_parts:
        blocks.append((report.render(raw, summary), report.BEGIN, report.END))
    if only & qa_parts:
        blocks.append((report.render(raw, summary, "qa"), report.QA_BEGIN, report.QA_END))
    text = "\n".join(block for block, _, _ in blocks)
    results_dir = procs.ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (results_dir / f"{stamp}-{mode}.json").write_bytes(
        orjson.dumps({"raw": raw, "summary": summary}, option=orjson.OPT_INDENT_2)
    )
    print(text, flush=True)
    if not args.no_docs:
        for block, begin, end in blocks:
            report.write_docs(Path(args.docs), block, begin, end)
        print(f"bench: results written to {args.docs}", flush=True)
    print(f"bench: raw numbers in bench/results/{stamp}-{mode}.json; took {raw['seconds']:.0f} s")
    return 0 if all(row["met"] for row in summary["targets"]) and not raw["problems"] else 1


def _run_all(
    ctx: Context,
    raw: dict[str, Any],
    only: set[str],
    stages: list[int],
    seconds: float,
    args: argparse.Namespace,
) -> None:
    def guarded(name: str, fn: Any) -> Any:
        try:
            return fn()
        except Invalid as exc:
            raw["problems"].append(f"{name}: invalid run: {exc}".splitlines()[0])
            ctx.say(f"{name}: INVALID: {exc}")
        except (RuntimeError, OSError) as exc:
            raw["problems"].append(f"{name}: {exc}".splitlines()[0])
            ctx.say(f"{name}: FAILED:\n{traceback.format_exc()}")
        return None

    if "fanout" in only:
        raw["fanout"] = guarded("fan-out", lambda: run_fanout(ctx, stages))
    if "write" in only:
        raw["write_sqlite"] = guarded(
            "write path (SQLite)", lambda: run_write_path(ctx, "sqlite", seconds=seconds)
        )
        if ctx.pg_url:
            raw["write_postgres"] = guarded(
                "write path (PostgreSQL)", lambda: run_write_path(ctx, "postgres", seconds=seconds)
            )
    if "page" in only:
        raw["page"] = guarded("page render", lambda: run_page(ctx, seconds=seconds))
    if "qa" in only:
        raw["qa_sqlite"] = guarded(
            "Q&A writes (SQLite)", lambda: run_qa_write(ctx, "sqlite", seconds=seconds)
        )
        if ctx.pg_url:
            raw["qa_postgres"] = guarded(
                "Q&A writes (PostgreSQL)", lambda: run_qa_write(ctx, "postgres", seconds=seconds)
            )
    if "storm" in only:
        storm_seconds = args.storm_seconds or (60.0 if ctx.full else 20.0)
        raw["storm"] = guarded(
            "vote storm",
            lambda: run_storm(
                ctx,
                seconds=storm_seconds,
                viewers=args.storm_viewers,
                votes_per_s=args.storm_votes,
            ),
        )
    if "scaleout" in only:
        if ctx.pg_url and ctx.redis_url:
            viewers = 2000 if ctx.full else 1000
            raw["scaleout"] = guarded(
                "scale-out", lambda: run_scaleout(ctx, viewers, min(args.posts, 20))
            )
        else:
            raw["problems"].append("scale-out skipped: needs PostgreSQL and Redis on loopback")


def _soak(args: argparse.Namespace) -> int:
    from bench.soak import SoakOptions, run_soak

    options = SoakOptions(
        minutes=args.soak_minutes,
        viewers=args.soak_viewers,
        posts_per_second=args.soak_posts_per_second,
        resumes_per_second=args.soak_resumes_per_second,
    )
    if options.minutes < 1 or options.viewers < 1 or options.posts_per_second <= 0:
        parser().error("the soak needs at least 1 minute, 1 viewer and a positive post rate")
    procs.install_signal_handlers()
    server_cpus, load_cpus = procs.core_plan()
    os.sched_setaffinity(0, load_cpus)
    work = Path(tempfile.mkdtemp(prefix="koryu-soak-"))
    started = time.monotonic()
    meta: dict[str, Any] = {"started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    pg_created = False
    result: dict[str, Any] | None = None
    try:
        (work / "logs").mkdir()
        if _pg_available(args.postgres):
            database_url = site.create_pg_database(args.postgres, SOAK_DATABASE)
            pg_created = True
            meta["database"] = "PostgreSQL"
        else:
            database_url = f"sqlite://{work / 'koryu.sqlite3'}"
            meta["database"] = "SQLite"
        print(f"bench: soak of {options.minutes:g} min on {meta['database']}, in {work}")
        site.prepare(database_url, work / "data", work / "logs")
        seeder = site.start_koryu(
            "seed", site.koryu_env(database_url, work / "data"), work / "logs", server_cpus
        )
        try:
            seed = site.seed(seeder.base)
        finally:
            seeder.stop()
        result = run_soak(
            options=options,
            seed=seed,
            database_url=database_url,
            work=work,
            logs=work / "logs",
            server_cpus=server_cpus,
        )
    except KeyboardInterrupt:
        print("bench: interrupted, stopping every process it started", flush=True)
        return 130
    finally:
        procs.stop_all()
        if pg_created:
            try:
                site.drop_pg_database(args.postgres, SOAK_DATABASE)
            except Exception as exc:
                print(f"bench: could not drop {SOAK_DATABASE}: {exc}", flush=True)
        if args.keep or result is None or result["problems"]:
            print(f"bench: kept {work} (logs in {work / 'logs'})", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    from bench import soak_report

    meta["seconds"] = time.monotonic() - started
    text = soak_report.render(result, meta)
    results_dir = procs.ROOT / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (results_dir / f"{stamp}-soak.json").write_bytes(
        orjson.dumps({"meta": meta, "result": result}, option=orjson.OPT_INDENT_2)
    )
    print(text, flush=True)
    if not args.no_docs:
        soak_report.write_docs(Path(args.docs), text)
        print(f"bench: soak results written to {args.docs}", flush=True)
    return 0 if not result["problems"] else 1
