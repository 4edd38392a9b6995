"""The benchmark harness at tiny N: real servers, real viewers, real reports (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import procs, report, site
from bench.common import Context
from bench.fanout import run_one
from bench.http_load import http_load
from bench.qa_write import run_qa_write
from bench.stats import percentile
from bench.storm import run_storm

pytestmark = pytest.mark.slow


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    url = f"sqlite://{tmp_path / 'koryu.sqlite3'}"
    (tmp_path / "logs").mkdir()
    site.prepare(url, tmp_path / "data", tmp_path / "logs")
    server_cpus, load_cpus = procs.core_plan()
    seeder = site.start_koryu(
        "seed", site.koryu_env(url, tmp_path / "data"), tmp_path / "logs", server_cpus
    )
    try:
        seed = site.seed(seeder.base)
    finally:
        seeder.stop()
    return Context(
        work=tmp_path,
        server_cpus=server_cpus,
        load_cpus=load_cpus,
        full=False,
        sqlite_url=url,
        sqlite_seed=seed,
        pairs=1,
        posts=2,
        wrk=None,  # the Python fallback client, so the test does not depend on wrk
    )


def test_fanout_write_and_report_building_blocks(ctx: Context) -> None:
    try:
        ours = run_one(ctx, "ours", [2, 5], 2, "smoke")
        bare = run_one(ctx, "bare", [2, 5], 2, "smoke")
        bare_server = site.start_baseline(
            "smoke-bare-http",
            {**site.koryu_env(ctx.sqlite_url, ctx.work / "data"), "BENCH_DATABASE_URL": ""},
            ctx.logs,
            ctx.server_cpus,
        )
        try:
            load = http_load(ctx, "smoke-page", bare_server.port, "GET", "/page/512", seconds=1)
        finally:
            bare_server.stop()
    finally:
        procs.stop_all()

    for result, names in ((ours, ["ours"]), (bare, ["bare", "floor"])):
        assert [s["viewers"] for s in result["stages"]] == [2, 5]
        for stage in result["stages"]:
            assert [b["name"] for b in stage["batches"]] == names
            for batch in stage["batches"]:
                assert batch["every_viewer_got_every_post"], batch
                assert batch["delivered"] == 2 * stage["viewers"]
                assert batch["missing"] == 0 and not batch["errors"]
                assert 0 < batch["latency_p50"] <= batch["latency_p99"] < 5
    # koryu's frame and the bare app's copy of it are the same size, give or take the seq.
    ours_frame = ours["stages"][0]["batches"][0]["frame_bytes"]
    bare_frame = bare["stages"][0]["batches"][0]["frame_bytes"]
    assert abs(ours_frame - bare_frame) < 16
    assert load["ok"] > 0 and load["failed"] == 0

    raw = {
        "started": "now",
        "mode": "smoke",
        "pairs": 1,
        "posts": 2,
        "seconds": 1.0,
        "server_cpus": "0",
        "load_cpus": "1",
        "problems": [],
        "fanout": [{"ours": ours, "bare": bare}],
        "page": {
            "bytes": 512,
            "etag": None,
            "post_elements": 0,
            "pairs": [{"ours": load, "bare": load}],
            "conditional": None,
        },
        "machine": report.machine(None, None, None),
    }
    summary = report.summarise(raw)
    # At N=5 the bare app's CPU may round to zero clock ticks: only the shape is checked.
    assert [e["viewers"] for e in summary["fanout"]["per_n"]] == [2, 5]
    assert summary["fanout"]["memory"]["kb_per_viewer"]["ours"] is not None
    assert summary["page"]["ratio"] == pytest.approx(1.0)
    text = report.render(raw, summary)
    assert "### Targets" in text and "Fan-out" in text
    docs = ctx.work / "benchmarks.md"
    docs.write_text(
        "# Benchmarks\n\nmethod\n\n" + report.BEGIN + "\nold\n" + report.END + "\n\ntail\n"
    )
    report.write_docs(docs, text)
    written = docs.read_text()
    assert (
        "old" not in written
        and written.startswith("# Benchmarks\n\nmethod")
        and written.endswith("tail\n")
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 50) is None


def test_the_vote_storm_and_the_q_and_a_writes_at_tiny_scale(ctx: Context) -> None:
    """The storm's two phases on a few viewers: questions reach every viewer, every viewer
    folds the tallies to the counts read over HTTP, and the report and its block are built."""
    try:
        runs = run_storm(ctx, seconds=2.0, viewers=6, votes_per_s=20.0)
        writes = run_qa_write(ctx, "sqlite", seconds=1.0)
    finally:
        procs.stop_all()
    (run,) = runs
    phases = {p["name"]: p for p in run["phases"]}
    assert set(phases) == {"questions", "storm"}
    for phase in phases.values():
        assert phase["viewers"] == 6 and phase["lost"] == 0
        assert phase["questions_asked"] + phase["questions_dropped"] == 10
        assert phase["questions_asked"] > 0 and phase["viewers_missing_questions"] == 0
        assert phase["converged_viewers"] == 6, phase
        assert phase["gaps"] == 0 and phase["repeats"] == 0
    assert phases["questions"]["votes_ok"] == 0
    assert phases["storm"]["votes_ok"] > 0 and phases["storm"]["votes_total"] > 0
    # Coalesced: a viewer gets about one tally a second, not one frame per vote.
    assert phases["storm"]["tallies_per_viewer_per_s"]["max"] <= 2.0
    assert all(p["ours"]["ok"] > 0 and p["bare"]["ok"] > 0 for p in writes["votes"])
    assert all(p["ours"]["failed"] == 0 for p in writes["votes"] + writes["questions"])

    raw = {
        "started": "now",
        "mode": "smoke",
        "pairs": 1,
        "posts": 2,
        "server_cpus": "0",
        "load_cpus": "1",
        "problems": [],
        "seconds": 1.0,
        "storm": runs,
        "qa_sqlite": writes,
        "machine": report.machine(None, None, None),
    }
    summary = report.summarise(raw)
    names = [row["target"] for row in summary["targets"]]
    assert any("vote storm" in name for name in names)
    assert any(name.startswith("votes/s") for name in names)
    text = report.render(raw, summary, "qa")
    assert "### Vote storm" in text and "### Q&A writes" in text and "Fan-out" not in text
    docs = ctx.work / "benchmarks.md"
    docs.write_text(
        f"{report.BEGIN}\nMAIN-RESULTS\n{report.END}\n\n"
        f"{report.QA_BEGIN}\nPREVIOUS-QA-RESULTS\n{report.QA_END}\n"
    )
    report.write_docs(docs, text, report.QA_BEGIN, report.QA_END)
    written = docs.read_text()
    assert "MAIN-RESULTS" in written and "PREVIOUS-QA-RESULTS" not in written
    assert "### Vote storm" in written
