"""The vote storm, from the load generator's side (`bench.loadgen` mode `storm`).

One live session's thread, `viewers` WebSocket viewers (one tag each), then phases on the
same viewers: questions only (5 a second by a staff asker) and the storm (the same
questions plus 200 votes a second, one in ten taking a vote back, from many participants).
Per phase: the delivery latency of every question to every viewer (the body carries the
send time), every frame each viewer got, each viewer's seqs (no gap, no repeat), and each
viewer's fold of the tallies compared with the counts read over HTTP once the phase settled.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.httpclient import HttpConnection
from bench.procs import cpu_seconds
from bench.stats import percentile
from bench.viewers import ViewerPool

__all__ = ["run_storm"]

_SEQ = re.compile(rb'"seq":(\d+)')
_T0 = re.compile(rb"t0=(\d{10}\.\d{6})")
_POST_CREATED = b'"name":"post.created"'
_TALLIED = b'"name":"votes.tallied"'
_VOTE_CHANGED = b'"name":"vote.changed"'
MARKER = b"t0=0000000000.000000"


def _marker(t0: float) -> bytes:
    return f"t0={t0:017.6f}".encode()


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class _Viewer:
    last_seq: int = -1
    frames: int = 0
    tallies: int = 0
    questions: int = 0
    gaps: int = 0
    repeats: int = 0
    counts: dict[int, int] = field(default_factory=dict)


class _StormPool(ViewerPool):
    """Folds each viewer's frames as they arrive; keeps no frame."""

    def __init__(self, viewers: int) -> None:
        super().__init__()
        self.state = [_Viewer() for _ in range(viewers)]
        self.latencies: list[float] = []
        self._decoded: dict[bytes, list[tuple[int, int]]] = {}

    def on_event(self, arrived: float, payload: bytes, tag: int) -> None:
        viewer = self.state[tag]
        viewer.frames += 1
        found = _SEQ.search(payload)
        if found is not None:
            seq = int(found.group(1))
            if viewer.last_seq >= 0:
                if seq <= viewer.last_seq:
                    viewer.repeats += 1
                elif seq > viewer.last_seq + 1:
                    viewer.gaps += 1
            viewer.last_seq = max(seq, viewer.last_seq)
        if _POST_CREATED in payload:
            viewer.questions += 1
            t0 = _T0.search(payload)
            if t0 is not None:
                self.latencies.append(arrived - float(t0.group(1)))
        elif _TALLIED in payload or _VOTE_CHANGED in payload:
            viewer.tallies += 1
            # Every viewer gets the same bytes: decode each frame once.
            counts = self._decoded.get(payload)
            if counts is None:
                if len(self._decoded) > 16:
                    self._decoded.clear()
                data = orjson.loads(payload)["data"]
                items = data.get("tallies", [data])
                counts = [(int(t["id"]), int(t["votes"])) for t in items]
                self._decoded[payload] = counts
            viewer.counts.update(counts)


@dataclass
class _Ballot:
    """Who may still vote for what: one vote per participant and question."""

    voters: int
    free: dict[int, list[int]] = field(default_factory=dict)
    cast: list[tuple[int, int]] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def add_question(self, question: int) -> None:
        self.free[question] = list(range(self.voters))
        self.rng.shuffle(self.free[question])

    def next(self, unvote_share: float) -> tuple[str, int, int] | None:
        if self.cast and self.rng.random() < unvote_share:
            i = self.rng.randrange(len(self.cast))
            self.cast[i], self.cast[-1] = self.cast[-1], self.cast[i]
            voter, question = self.cast.pop()
            self.free[question].append(voter)
            return "DELETE", voter, question
        open_questions = [q for q, left in self.free.items() if left]
        if not open_questions:
            return None
        # Newer questions draw more votes, as on a real board: weight by recency.
        weights = range(1, len(open_questions) + 1)
        question = self.rng.choices(open_questions, weights=weights)[0]
        voter = self.free[question].pop()
        self.cast.append((voter, question))
        return "PUT", voter, question


async def _open_viewers(pool: _StormPool, spec: dict[str, Any]) -> int:
    subscribe = orjson.dumps({"type": "subscribe", "channel": spec["channel"]})
    failures = 0
    n = spec["viewers"]
    step = 64
    for start in range(0, n, step):
        results = await asyncio.gather(
            *(
                pool.open(
                    spec["host"],
                    spec["port"],
                    1,
                    subscribe=subscribe,
                    origin=spec.get("origin"),
                    tag=i,
                )
                for i in range(start, min(n, start + step))
            )
        )
        failures += sum(results)
    return failures


async def _final_counts(spec: dict[str, Any]) -> dict[int, int]:
    conn = HttpConnection(spec["host"], spec["port"])
    counts: dict[int, int] = {}
    after = 0
    try:
        for _ in range(1000):
            path = f"/api/v1/threads/{spec['thread_id']}/posts?after={after}&limit=200"
            status, body = await conn.request("GET", path)
            if status != 200:
                raise RuntimeError(f"reading the counts: {status} {body[:200]!r}")
            items = orjson.loads(body)["items"]
            for post in items:
                if post["kind"] == "question":
                    counts[int(post["id"])] = int(post["votes"])
            if len(items) < 200:
                break
            after = int(items[-1]["id"])
    finally:
        await conn.close()
    return counts


async def _phase(
    spec: dict[str, Any], pool: _StormPool, ballot: _Ballot, name: str, votes_per_s: float
) -> dict[str, Any]:
    seconds: float = spec["seconds"]
    qps: float = spec["questions_per_s"]
    tokens: list[str] = spec["voter_tokens"]
    host, port, pid = spec["host"], spec["port"], spec["pid"]
    asker_headers = {"Content-Type": "application/json", **spec["asker_headers"]}
    template: bytes = spec["question_body"].encode()
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    vote_results: dict[str, int] = {}
    vote_lateness: list[float] = []
    vote_times: list[float] = []
    question_times: list[float] = []
    question_errors: list[str] = []
    backlog = 0
    asked = 0
    skipped = 0
    dropped = 0
    questions_dropped = 0
    phase_end = time.perf_counter() + seconds + 1.0

    def vote_request(method: str, voter: int, question: int) -> bytes:
        lines = [
            f"{method} /api/v1/posts/{question}/vote HTTP/1.1",
            f"Host: {host}:{port}",
            f"Authorization: Bearer {tokens[voter]}",
            "Content-Length: 0",
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def voter_worker() -> None:
        nonlocal dropped
        conn = HttpConnection(host, port)
        try:
            while (item := await queue.get()) is not None:
                due, raw = item
                start = time.perf_counter()
                if start > phase_end:
                    # The server fell behind the schedule: what is still queued when the
                    # phase is over is not sent (counted), so a phase lasts its length.
                    dropped += 1
                    continue
                vote_lateness.append(start - due)
                try:
                    status, _ = await _send(conn, raw)
                except (ConnectionError, OSError, asyncio.IncompleteReadError):
                    status = 0
                vote_times.append(time.perf_counter() - start)
                key = str(status)
                vote_results[key] = vote_results.get(key, 0) + 1
        finally:
            await conn.close()

    async def ask_one(conn: HttpConnection) -> None:
        nonlocal asked
        t0 = time.perf_counter()
        body = template.replace(MARKER, _marker(t0))
        try:
            status, answer = await _send(
                conn, conn.encode("POST", spec["posts_path"], body, asker_headers)
            )
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            question_errors.append(repr(exc))
            return
        question_times.append(time.perf_counter() - t0)
        if status != 201:
            question_errors.append(f"{status} {answer[:200]!r}")
            return
        asked += 1
        ballot.add_question(int(orjson.loads(answer)["id"]))

    async def asker() -> None:
        # Open loop on the schedule: a slow answer does not delay the next question (each
        # of a few connections takes the next one due).
        nonlocal questions_dropped
        conns: list[HttpConnection] = []
        running: set[asyncio.Task[None]] = set()
        idle: list[HttpConnection] = []
        try:
            start = time.perf_counter()
            for i in range(int(seconds * qps)):
                await asyncio.sleep(max(0.0, start + i / qps - time.perf_counter()))
                if time.perf_counter() > phase_end:
                    questions_dropped += 1  # behind the schedule when the phase is over
                    continue
                if not idle and len(conns) < 16:
                    conns.append(HttpConnection(host, port))
                    idle.append(conns[-1])
                while not idle:
                    await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                conn = idle.pop()
                task = asyncio.create_task(ask_one(conn))
                running.add(task)
                task.add_done_callback(functools.partial(_done, running, idle, conn))
            if running:
                await asyncio.wait(running)
        finally:
            for conn in conns:
                await conn.close()

    async def scheduler() -> None:
        nonlocal backlog, skipped
        if votes_per_s <= 0:
            return
        start = time.perf_counter()
        total = int(seconds * votes_per_s)
        sent = 0
        while sent < total:
            now = time.perf_counter()
            due_now = min(total, int((now - start) * votes_per_s) + 1)
            while sent < due_now:
                choice = ballot.next(spec["unvote_share"])
                sent += 1
                if choice is None:
                    skipped += 1  # every participant voted for every question: none to cast
                    continue
                queue.put_nowait((start + (sent - 1) / votes_per_s, vote_request(*choice)))
            backlog = max(backlog, queue.qsize())
            await asyncio.sleep(0.005)

    for viewer in pool.state:
        viewer.frames = viewer.tallies = viewer.questions = 0
    pool.latencies = []
    workers = [asyncio.create_task(voter_worker()) for _ in range(spec["vote_connections"])]
    cpu0, own0, wall0 = cpu_seconds(pid), _own_cpu(), time.perf_counter()
    await asyncio.gather(asker(), scheduler())
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    cpu1, own1, wall1 = cpu_seconds(pid), _own_cpu(), time.perf_counter()
    wall = wall1 - wall0
    frames = [v.frames for v in pool.state]
    tallies = [v.tallies for v in pool.state]
    # Let the last tallies out (one tick and some), then read the counts over HTTP.
    await asyncio.sleep(spec["settle"])
    final = await _final_counts(spec)
    converged = sum(
        1 for v in pool.state if all(v.counts.get(q, 0) == votes for q, votes in final.items())
    )
    missing_questions = sum(1 for v in pool.state if v.questions < asked)
    ok_votes = vote_results.get("200", 0)
    return {
        "name": name,
        "seconds": wall,
        "viewers": pool.open_count,
        "questions_asked": asked,
        "question_errors": question_errors[:5],
        "questions_dropped": questions_dropped,
        "question_post_p50": percentile(question_times, 50),
        "question_post_p99": percentile(question_times, 99),
        "votes_wanted": int(seconds * votes_per_s),
        "votes_ok": ok_votes,
        "votes_skipped": skipped,
        "votes_dropped": dropped,
        "vote_statuses": vote_results,
        "vote_rate": ok_votes / wall if wall else 0.0,
        "vote_p50": percentile(vote_times, 50),
        "vote_p99": percentile(vote_times, 99),
        "vote_lateness_p99": percentile(vote_lateness, 99),
        "vote_backlog_max": backlog,
        "latency_p50": percentile(pool.latencies, 50),
        "latency_p99": percentile(pool.latencies, 99),
        "deliveries": len(pool.latencies),
        "viewers_missing_questions": missing_questions,
        "frames_per_viewer_per_s": {
            "median": percentile([f / wall for f in frames], 50),
            "max": max(frames, default=0) / wall if wall else 0.0,
        },
        "tallies_per_viewer_per_s": {
            "median": percentile([t / wall for t in tallies], 50),
            "max": max(tallies, default=0) / wall if wall else 0.0,
        },
        "gaps": sum(v.gaps for v in pool.state),
        "repeats": sum(v.repeats for v in pool.state),
        "converged_viewers": converged,
        "questions_total": len(final),
        "votes_total": sum(final.values()),
        "server_cpu_cores": (cpu1 - cpu0) / wall if wall else 0.0,
        "load_utilisation": (own1 - own0) / wall if wall else 0.0,
        "lost": pool.lost,
        "anomalies": [a[:200].decode(errors="replace") for a in pool.anomalies[:3]],
    }


async def _send(conn: HttpConnection, raw: bytes) -> tuple[int, bytes]:
    """One request; once more on a new connection when the server had closed an idle
    keep-alive one (uvicorn closes them after 5 s)."""
    try:
        return await conn.send_raw(raw)
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        await conn.close()
    try:
        return await conn.send_raw(raw)
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        await conn.close()
        raise


def _done(
    running: set[asyncio.Task[None]],
    idle: list[HttpConnection],
    conn: HttpConnection,
    task: asyncio.Task[None],
) -> None:
    running.discard(task)
    idle.append(conn)


async def _ping_every(pool: ViewerPool, seconds: float) -> None:
    while True:
        pool.send_all(b'{"type":"ping"}')
        await asyncio.sleep(seconds)


async def run_storm(spec: dict[str, Any]) -> dict[str, Any]:
    pool = _StormPool(spec["viewers"])
    ballot = _Ballot(len(spec["voter_tokens"]))
    for question in spec["initial_questions"]:
        ballot.add_question(question)
    pinger: asyncio.Task[None] | None = None
    try:
        failures = await _open_viewers(pool, spec)
        await asyncio.sleep(spec.get("warm", 1.0))
        # An app-level ping now and then, as a browser does, keeps the server's idle
        # timeout (75 s) away across both phases.
        pinger = asyncio.create_task(_ping_every(pool, 20.0))
        phases = []
        for phase in spec["phases"]:
            phases.append(await _phase(spec, pool, ballot, phase["name"], phase["votes_per_s"]))
            await asyncio.sleep(spec.get("gap", 1.0))
    finally:
        if pinger is not None:
            pinger.cancel()
        await pool.close()
    return {"viewers": spec["viewers"], "failures": failures, "phases": phases}
