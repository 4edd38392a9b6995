"""Vote storm: a live session's 2,000 viewers under 5 questions and 200 votes a second.

Each pair starts a fresh `koryu serve` (SQLite + memory broker, as the fan-out), makes a
live session with 20 questions asked already, connects the viewers once and runs two
phases on them, alternating which goes first: **questions** (5 a second, no votes) and
**storm** (the same questions plus 200 votes a second, one in ten taking a vote back, from
`VOTERS` participants). The ratio is the storm's p99 question delivery over the questions
phase's, same server, same viewers, same run.
"""

from __future__ import annotations

from typing import Any

import orjson

from bench.common import Context, Invalid, run_loadgen
from bench.site import ORIGIN, POST_TEXT, ask, koryu_env, live_session, seed_voters, start_koryu
from bench.storm_load import MARKER

__all__ = ["VOTERS", "ensure_voters", "run_storm"]

VIEWERS = 2000
QUESTIONS_PER_S = 5.0
VOTES_PER_S = 200.0
VOTERS = 80  # 80 participants × the questions: pairs enough for a minute of votes
INITIAL_QUESTIONS = 20
VOTE_CONNECTIONS = 16
SETTLE = 3.0  # the last tally goes out within a tick (1 s); then the counts are read


def ensure_voters(ctx: Context, database: str, base: str, count: int) -> list[str]:
    """``count`` of the run's participants on this database, each registered once (through
    the API) and kept for the run's other benchmarks."""
    have = ctx.voters.setdefault(database, [])
    if len(have) < count:
        ctx.say(f"registering {count - len(have)} participants ({database})")
        have += seed_voters(base, count, "voter", start=len(have))
    return have[:count]


def run_storm(
    ctx: Context, *, seconds: float, viewers: int = VIEWERS, votes_per_s: float = VOTES_PER_S
) -> list[dict[str, Any]]:
    seed = ctx.sqlite_seed
    env = koryu_env(ctx.sqlite_url, ctx.work / "data")
    pairs = 1 if not ctx.full else min(ctx.pairs, 3)
    runs = []
    for k in range(pairs):
        order = ["questions", "storm"] if k % 2 == 0 else ["storm", "questions"]
        ctx.say(f"vote storm {k + 1}/{pairs}: {viewers} viewers, {seconds:g} s per phase, {order}")
        server = start_koryu(f"storm-{k}", env, ctx.logs, ctx.server_cpus)
        try:
            tokens = ensure_voters(ctx, "sqlite", server.base, VOTERS)
            thread = live_session(
                server.base, seed.auth, f"全国フォーラム 質疑応答（計測 {k + 1}）"
            )
            initial = [
                ask(server.base, seed.auth, thread, f"{POST_TEXT}（事前の質問 {i + 1}）")
                for i in range(INITIAL_QUESTIONS)
            ]
            spec = {
                "mode": "storm",
                "host": "127.0.0.1",
                "port": server.port,
                "pid": server.pid,
                "origin": ORIGIN,
                "channel": f"thread:{thread}",
                "thread_id": thread,
                "posts_path": f"/api/v1/threads/{thread}/posts",
                "viewers": viewers,
                "seconds": seconds,
                "questions_per_s": QUESTIONS_PER_S,
                "voter_tokens": tokens,
                "initial_questions": initial,
                "asker_headers": seed.auth,
                "question_body": orjson.dumps(
                    {"body": f"{POST_TEXT}\n\n[bench {MARKER.decode()}]", "kind": "question"}
                ).decode(),
                "vote_connections": VOTE_CONNECTIONS,
                "unvote_share": 0.1,
                "settle": SETTLE,
                "phases": [
                    {"name": name, "votes_per_s": votes_per_s if name == "storm" else 0.0}
                    for name in order
                ],
            }
            # Generous: on a busy machine opening the viewers and draining the last
            # requests take long; a phase itself ends on time (late requests are dropped).
            budget = 180.0 + viewers / 20 + 2 * (seconds + SETTLE + 30)
            result = run_loadgen(ctx, spec, timeout=budget)
        finally:
            server.stop()
        _check(result)
        runs.append(result)
    return runs


def _check(result: dict[str, Any]) -> None:
    if result["failures"]:
        raise Invalid(f"{result['failures']} of {result['viewers']} viewers did not connect")
    for phase in result["phases"]:
        if phase["question_errors"]:
            raise Invalid(f"{phase['name']}: questions refused: {phase['question_errors']}")
