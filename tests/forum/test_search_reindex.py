"""`koryu reindex`: the rebuilt index equals the incremental one, and a rebuild resumes."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import httpx2
import pytest
from tortoise.connection import get_connection

from forum import boards, cases
from forum.cli import ProgressBar
from forum.models import CaseTheme
from forum.search_reindex import Progress, reindex
from tests.conftest import Member
from tests.forum.test_cli import koryu
from tests.moderation.support import decide, new_board, new_thread, queue, reply


async def snapshot() -> list[tuple[Any, ...]]:
    """Every index row with its tokens, without the row ids a rebuild renumbers."""
    conn = get_connection("default")
    columns = (
        "d.doc_key, d.kind, d.thread_id, d.post_id, d.case_id, d.board_id, d.author_id, "
        "d.prefecture, d.themes, d.title, d.body, d.created_at"
    )
    if conn.capabilities.dialect == "postgres":
        query = f"SELECT {columns}, d.grams::text, d.unis::text FROM search_docs d"  # noqa: S608
    else:
        query = f"SELECT {columns}, d.tg, d.bg, d.tu, d.bu FROM search_docs d"  # noqa: S608
    rows = await conn.execute_query_dict(query + " ORDER BY d.doc_key")
    return [tuple(str(v) for v in row.values()) for row in rows]


async def wipe() -> None:
    # On SQLite a trigger takes each row's FTS entries along.
    await get_connection("default").execute_query("DELETE FROM search_docs")


async def corpus(client: httpx2.AsyncClient, admin: Member, alice: Member) -> None:
    """Every way a row enters or leaves the index."""
    await new_board(client, admin, moderation="premoderated")
    thread = (await new_thread(client, admin, title="移住の相談", body="最初の投稿"))["thread"]
    held = await reply(client, alice, thread["id"], "承認される棚田の話")
    await reply(client, alice, thread["id"], "却下される話")
    items = await queue(client, admin)
    by_post = {item["post"]["id"]: item for item in items}
    assert (await decide(client, admin, by_post[held["id"]], "approve")).status_code == 200
    rejected = next(i for p, i in by_post.items() if p != held["id"])
    assert (await decide(client, admin, rejected, "reject")).status_code == 200
    await reply(client, admin, thread["id"], "匿名の質問です", kind="question", anonymous=True)
    await reply(client, alice, thread["id"], "承認待ちのままの話")
    await new_board(client, admin, "open")
    other = (await new_thread(client, alice, "open", title="古い題", body="消す投稿"))["thread"]
    kept = await reply(client, admin, other["id"], "ＤＸの話")
    await client.patch(
        f"/api/v1/posts/{kept['id']}", json={"body": "ＤＸとｶﾀｶﾅの話"}, headers=admin.headers
    )
    await client.patch(
        f"/api/v1/threads/{other['id']}", json={"title": "新しい題"}, headers=admin.headers
    )
    first = (await client.get(f"/api/v1/threads/{other['id']}/posts")).json()["items"][0]
    assert (
        await client.delete(f"/api/v1/posts/{first['id']}", headers=alice.headers)
    ).status_code == 204
    gone = (await new_thread(client, alice, "open", title="消えるスレ", body="唯一の投稿"))["post"]
    assert (
        await client.delete(f"/api/v1/posts/{gone['id']}", headers=alice.headers)
    ).status_code == 204
    theme = await CaseTheme.get(name="観光")
    actor = await boards.load_actor(admin.user)
    case_fields = cases.CaseFields(
        title="漁港の倉庫をワーケーション拠点に",
        prefecture=47,
        municipality="しおさい村（架空）",
        population_band="under_5k",
        background="背景",
        actions="取組",
        results="成果",
        challenges="課題",
        themes=(theme.id,),
    )
    await cases.create_case(actor, case_fields)


@pytest.mark.asyncio
async def test_a_rebuilt_index_equals_the_incremental_one(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await corpus(client, admin, alice)
    incremental = await snapshot()
    kinds = sorted(row[1] for row in incremental)
    assert kinds == ["case", "post", "post", "post", "question", "thread", "thread"]
    await wipe()
    assert await snapshot() == []
    written = await reindex()
    assert written > 0
    assert await snapshot() == incremental


@pytest.mark.asyncio
async def test_an_interrupted_rebuild_resumes_at_its_bookmark(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await corpus(client, admin, alice)
    incremental = await snapshot()
    await wipe()
    seen: list[Progress] = []

    def interrupt(progress: Progress) -> None:
        seen.append(progress)
        if progress.phase == "posts":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await reindex(batch=2, report=interrupt)
    stopped = seen[-1]
    assert await snapshot() != incremental
    resumed: list[Progress] = []
    await reindex(batch=2, report=resumed.append)
    assert resumed[0].phase == "posts" and resumed[0].done > stopped.done
    assert resumed[-1].done == resumed[-1].total
    assert await snapshot() == incremental
    rows = await get_connection("default").execute_query_dict("SELECT * FROM search_reindex")
    assert rows == []


def test_the_progress_bar_shows_the_rate_and_the_time_left() -> None:
    ticks = iter([0.0, 2.0, 4.0])
    stream = io.StringIO()
    bar = ProgressBar(stream=stream, clock=lambda: next(ticks))
    assert bar.line(0, 100, "threads").endswith("0/100 threads 0/s ETA --:--")
    line = bar.line(50, 100, "posts")
    assert line == f"[{'#' * 15}{'-' * 15}] 50/100 posts 12/s ETA 00:04"


def test_koryu_reindex_rebuilds_the_demo_and_says_how_fast(
    tmp_path: Path, sqlite_template: Path
) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "cli.sqlite3")
    assert koryu(["demo"], tmp_path).returncode == 0
    done = koryu(["reindex", "--fresh", "--batch", "5"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "reindexed" in done.stdout and "/s)" in done.stdout
    assert "ETA" in done.stderr and "[" + "#" * 30 + "]" in done.stderr


@pytest.mark.asyncio
async def test_the_fts_index_holds_exactly_the_rows_of_search_docs(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await corpus(client, admin, alice)
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        pytest.skip("PostgreSQL keeps the vectors in search_docs itself")
    # FTS5's own consistency check of an external-content index against its table.
    await conn.execute_query("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
    await wipe()
    await conn.execute_query("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
    matched = await conn.execute_query_dict(
        "SELECT count(*) AS n FROM search_fts WHERE search_fts MATCH '\"移住\"'"
    )
    assert matched == [{"n": 0}]
