"""Rebuilding the search index from the tables it describes (``koryu reindex``).

The rebuild walks threads, then posts, then cases in id order, a batch per transaction,
and writes each row as the lifecycle would: so it runs beside a serving site without
stopping it, and what it leaves equals what the incremental path builds.

Each batch first moves the ``search_reindex`` bookmark (phase and last id), in the same
transaction as the rows it rewrites: an interrupted rebuild resumes at the bookmark. Writing
first also makes the batch a writer from its first statement: SQLite then lets no other
writer commit between the batch's reads and its writes, and on PostgreSQL the rows read are
locked (``FOR UPDATE``), so a post withdrawn meanwhile waits for the batch and then drops
the row the batch wrote, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from forum import search_index
from forum.cases import case_doc
from forum.models import CaseThemeLink, Post, PostStatus, PracticeCase, Thread

__all__ = ["PHASES", "Progress", "reindex"]

PHASES = ("threads", "posts", "cases")
BATCH = 500


@dataclass(frozen=True, slots=True)
class Progress:
    """Rows done of all rows, and the phase and last id of the bookmark."""

    done: int
    total: int
    phase: str
    last_id: int


Report = Callable[[Progress], None]

_MODELS: dict[str, type[Thread] | type[Post] | type[PracticeCase]] = {
    "threads": Thread,
    "posts": Post,
    "cases": PracticeCase,
}


async def _bookmark(conn: BaseDBAsyncClient) -> tuple[str, int] | None:
    rows = await conn.execute_query_dict("SELECT phase, last_id FROM search_reindex WHERE id = 1")
    return (str(rows[0]["phase"]), int(rows[0]["last_id"])) if rows else None


async def _move(conn: BaseDBAsyncClient, phase: str, last_id: int) -> None:
    sql = search_index.to_dialect
    await conn.execute_query(sql(conn, "DELETE FROM search_reindex WHERE id = 1"), [])
    await conn.execute_query(
        sql(conn, "INSERT INTO search_reindex (id, phase, last_id) VALUES (1, ?, ?)"),
        [phase, last_id],
    )


async def _done_before(phase: str, last_id: int) -> int:
    done = 0
    for earlier in PHASES[: PHASES.index(phase)]:
        done += await _MODELS[earlier].all().count()
    return done + await _MODELS[phase].filter(id__lte=last_id).count()


# select_for_update is a no-op on SQLite, where the batch's first write locks instead.


async def _threads(conn: BaseDBAsyncClient, after: int, size: int) -> list[int]:
    query = Thread.filter(id__gt=after).using_db(conn).order_by("id").limit(size)
    rows = await query.select_for_update()
    shown = [t for t in rows if t.post_count > 0 and not t.deleted]
    await search_index.put_many(conn, [search_index.thread_doc(t) for t in shown])
    hidden = {t.id for t in rows} - {t.id for t in shown}
    await search_index.drop_many(conn, [f"t:{i}" for i in sorted(hidden)])
    return [t.id for t in rows]


async def _posts(conn: BaseDBAsyncClient, after: int, size: int) -> list[int]:
    query = Post.filter(id__gt=after).using_db(conn).order_by("id").limit(size)
    rows = await query.select_for_update()
    thread_ids = {p.thread_id for p in rows}  # type: ignore[attr-defined]
    threads = {t.id: t for t in await Thread.filter(id__in=thread_ids).using_db(conn)}
    published = [p for p in rows if p.status is PostStatus.PUBLISHED]
    docs = [search_index.post_doc(p, threads[p.thread_id]) for p in published]  # type: ignore[attr-defined]
    await search_index.put_many(conn, docs)
    others = [f"p:{p.id}" for p in rows if p.status is not PostStatus.PUBLISHED]
    await search_index.drop_many(conn, others)
    return [p.id for p in rows]


async def _cases(conn: BaseDBAsyncClient, after: int, size: int) -> list[int]:
    query = PracticeCase.filter(id__gt=after).using_db(conn).order_by("id").limit(size)
    rows = await query.select_for_update()
    links = await CaseThemeLink.filter(case_id__in=[c.id for c in rows]).using_db(conn)
    themes: dict[int, list[int]] = {}
    for link in links:
        themes.setdefault(link.case_id, []).append(link.theme_id)  # type: ignore[attr-defined]
    docs = [case_doc(case, tuple(sorted(themes.get(case.id, [])))) for case in rows]
    await search_index.put_many(conn, docs)
    return [c.id for c in rows]


_STEPS = {"threads": _threads, "posts": _posts, "cases": _cases}


async def _cleanup(conn: BaseDBAsyncClient) -> None:
    """Rows whose source is gone, should a foreign key not have cascaded (SQLite without
    ``PRAGMA foreign_keys``); the delete trigger takes their FTS entries along."""
    for column, table in (("post_id", "posts"), ("case_id", "practice_cases")):
        await conn.execute_query(
            f"DELETE FROM search_docs WHERE {column} IS NOT NULL "  # noqa: S608
            f"AND {column} NOT IN (SELECT id FROM {table})"
        )
    await conn.execute_query("DELETE FROM search_reindex WHERE id = 1")


async def reindex(*, fresh: bool = False, batch: int = BATCH, report: Report | None = None) -> int:
    """Rebuild the index, resuming an interrupted run unless ``fresh``; the rows written."""
    conn = get_connection("default")
    bookmark = None if fresh else await _bookmark(conn)
    phase, last_id = bookmark or (PHASES[0], 0)
    total = sum([await model.all().count() for model in _MODELS.values()])
    done = await _done_before(phase, last_id)
    written = 0
    for current in PHASES[PHASES.index(phase) :]:
        after = last_id if current == phase else 0
        while True:
            async with in_transaction() as tx:
                await _move(tx, current, after)
                ids = await _STEPS[current](tx, after, batch)
                if ids:
                    await _move(tx, current, ids[-1])
            if not ids:
                break
            after, done, written = ids[-1], done + len(ids), written + len(ids)
            if report is not None:
                report(Progress(min(done, total), total, current, after))
    async with in_transaction() as tx:
        await _cleanup(tx)
    return written
