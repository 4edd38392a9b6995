"""The soak's bookkeeping: its fault plan, its exactly-once ledger, its RSS verdict, its report."""

from __future__ import annotations

from pathlib import Path

from bench import soak_report
from bench.cli import parser
from bench.soak import RSS_BOUND_MB, Ledger, fault_schedule, rss_verdict

MB = 2**20


def test_faults_take_turns_and_the_last_one_recovers_before_the_end() -> None:
    assert fault_schedule(180) == [
        (40.0, "redis-freeze"),
        (80.0, "redis-kill"),
        (120.0, "koryu-kill"),
    ]
    hour = fault_schedule(3600)
    assert len(hour) == 14
    assert [kind for _, kind in hour[:4]] == [
        "redis-freeze",
        "redis-kill",
        "koryu-kill",
        "redis-freeze",
    ]
    assert hour[-1][0] + 240 <= 3600
    assert fault_schedule(60) == []


def test_the_ledger_counts_duplicates_and_gaps_per_viewer() -> None:
    ledger = Ledger(start=10)
    for seq in (11, 12, 12, 13):
        ledger.record(1, seq)
    ledger.record(2, 11)
    ledger.record(2, 14)

    assert (ledger.position(1), ledger.position(2), ledger.position(3)) == (13, 14, 10)
    assert (ledger.delivered, ledger.duplicates, ledger.gaps) == (5, 1, 1)


def test_rss_that_keeps_growing_over_the_last_half_fails_and_a_plateau_passes() -> None:
    growing = [(float(m), (90 + m) * MB) for m in range(1, 61)]
    plateau = [(float(m), (90 + min(m, 10)) * MB) for m in range(1, 61)]
    noisy_short = [(1.0, 90 * MB), (2.0, 91 * MB), (3.0, 92 * MB)]

    bad = rss_verdict(growing)
    assert not bad["ok"] and round(bad["slope_mb_per_min"], 3) == 1.0
    assert rss_verdict(plateau) == {
        "slope_mb_per_min": 0.0,
        "growth_mb": 0.0,
        "ok": True,
        "judged": True,
    }
    assert rss_verdict(noisy_short)["growth_mb"] <= RSS_BOUND_MB
    short_but_steep = [(float(m), (90 + 5 * m) * MB) for m in range(1, 4)]
    assert rss_verdict(short_but_steep)["ok"] and not rss_verdict(short_but_steep)["judged"]


def test_the_report_lands_in_its_own_section_and_replaces_the_previous_one(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nintro\n")
    result = {
        "options": {"minutes": 3, "viewers": 10, "posts_per_second": 2, "resumes_per_second": 1},
        "events": 5,
        "deliveries": 50,
        "expected_deliveries": 50,
        "duplicates": 0,
        "gaps": 0,
        "missing": 0,
        "anomalies": 0,
        "resumes": 7,
        "reopen_failures": 0,
        "posts": 5,
        "post_errors": 0,
        "normal_post_p50": 0.01,
        "normal_post_p99": 0.02,
        "final_convergence": 0.1,
        "faults": [
            {
                "kind": "redis-freeze",
                "start": 40.0,
                "seconds": 10.0,
                "posts": 20,
                "post_errors": 0,
                "post_p50": 0.01,
                "post_p99": 0.025,
                "post_max": 0.03,
                "p99_over_normal": 1.25,
                "converged": 0.4,
            }
        ],
        "minutes": [
            {
                "minute": 1,
                "viewers_open": 10,
                "delivery_p50": 0.005,
                "delivery_p99": 0.01,
                "posts": 120,
                "post_p50": 0.01,
                "post_p99": 0.02,
                "processes": {"soak-koryu-a": {"rss": 90 * MB, "fds": 40, "tasks": 9, "start": 1}},
            }
        ],
        "rss": {"slope_mb_per_min": 0.0, "growth_mb": 0.0, "ok": True, "judged": False},
        "log_lines": {
            "Traceback": 0,
            "broker degraded": 2,
            "broker recovered": 2,
            "subscription lost": 0,
            "subscription restored": 0,
        },
        "problems": [],
    }
    meta = {"started": "2026-11-29 22:00 UTC", "database": "SQLite", "seconds": 200.0}

    soak_report.write_docs(docs, soak_report.render(result, meta))
    soak_report.write_docs(docs, soak_report.render(result, meta))

    text = docs.read_text()
    assert text.count(soak_report.BEGIN) == 1 and text.startswith("# Benchmarks\n\nintro\n")
    assert "**passed**" in text
    assert "not judged: runs shorter than 20 min" in text
    assert "| redis-freeze | 40 | 10.0 | 20 | 0 | 10 | 25 | 30 | 1.25 | 0.4 |" in text
    assert "| 1 | 10 | 5 / 10 | 120 | 10 / 20 | 90.0 · 40 · 9 [1] | down |" in text


def test_the_soak_is_its_own_mode_with_an_hour_by_default() -> None:
    args = parser().parse_args(["--soak"])
    assert (args.soak, args.soak_minutes, args.soak_viewers) == (True, 60.0, 600)
    assert not parser().parse_args([]).soak
