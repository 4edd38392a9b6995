"""The write side of search: ``search_docs`` rows and their tokens, moved in the caller's
transaction.

``search_docs`` holds one row per searchable thing (a thread's title, a published post, a
practice case) with what a reader may filter on; the text index holds its tokens (see
``forum.search_text``): an FTS5 table keyed by the row's id on SQLite, two tsvector columns
with GIN indexes on PostgreSQL. Only what is public once its board allows is ever in the
table, so nothing pending, rejected or deleted can be found; an anonymous question's row
has no author, so no filter can reach its author.

Every change to a post goes through ``forum.lifecycle``, every title change through
``forum.threads``, every case change through ``forum.cases``; each calls one function here
inside its own transaction, so the index is never ahead of or behind what it describes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from forum.models import Post, PostStatus, Thread
from forum.search_text import Analysed, analyse

__all__ = [
    "Doc",
    "drop",
    "drop_many",
    "drop_thread",
    "index_post",
    "index_thread",
    "is_postgres",
    "plain_text",
    "post_doc",
    "put",
    "put_many",
    "retitle",
    "stamp",
    "thread_doc",
    "to_dialect",
    "unindex_post",
]

_TAGS = re.compile(r"<[^>]+>")
_PG_MAX_POSITION = 16383


def is_postgres(conn: BaseDBAsyncClient) -> bool:
    return bool(conn.capabilities.dialect == "postgres")


def to_dialect(conn: BaseDBAsyncClient, query: str) -> str:
    """Queries are written with ``?``; PostgreSQL numbers its placeholders."""
    if not is_postgres(conn):
        return query
    parts = query.split("?")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def stamp(conn: BaseDBAsyncClient, value: datetime) -> Any:
    """SQLite keeps the stamp as sortable UTC text; PostgreSQL as timestamptz."""
    value = value.astimezone(UTC)
    return value if is_postgres(conn) else value.isoformat()


def _tsvector(title: Analysed, body: Analysed, which: str) -> str:
    """A tsvector literal, so PostgreSQL's parser never re-splits the tokens: title tokens
    weighted A, body tokens D, a gap between them so no phrase spans the two."""
    positions: dict[str, list[str]] = {}
    at = 1
    for tokens, weight in ((getattr(title, which), "A"), (getattr(body, which), "D")):
        for token in tokens:
            positions.setdefault(token, []).append(f"{min(at, _PG_MAX_POSITION)}{weight}")
            at += 1
        at += 1
    return " ".join(f"'{t}':{','.join(p)}" for t, p in positions.items())


async def _drop(conn: BaseDBAsyncClient, key: str) -> None:
    if not is_postgres(conn):
        await conn.execute_query(
            "DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_docs WHERE doc_key = ?)",
            [key],
        )
    await conn.execute_query(to_dialect(conn, "DELETE FROM search_docs WHERE doc_key = ?"), [key])


@dataclass(frozen=True, slots=True)
class Doc:
    """One row of ``search_docs``: what it is, where it is, and its text."""

    key: str
    kind: str
    title: str
    body: str
    created_at: datetime
    thread_id: int | None = None
    post_id: int | None = None
    case_id: int | None = None
    board_id: int | None = None
    author_id: int | None = None
    prefecture: int | None = None
    themes: tuple[int, ...] = ()


_COLUMNS = (
    "INSERT INTO search_docs (doc_key, kind, thread_id, post_id, case_id, board_id, author_id, "
    "prefecture, themes, title, body, created_at"
)
# One statement on PostgreSQL: the row of a key is replaced in place.
_PG_UPSERT = (
    _COLUMNS + ", grams, unis) VALUES "
    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::tsvector, $14::tsvector) "
    "ON CONFLICT (doc_key) DO UPDATE SET kind = EXCLUDED.kind, "
    "thread_id = EXCLUDED.thread_id, post_id = EXCLUDED.post_id, case_id = EXCLUDED.case_id, "
    "board_id = EXCLUDED.board_id, author_id = EXCLUDED.author_id, "
    "prefecture = EXCLUDED.prefecture, themes = EXCLUDED.themes, title = EXCLUDED.title, "
    "body = EXCLUDED.body, created_at = EXCLUDED.created_at, grams = EXCLUDED.grams, "
    "unis = EXCLUDED.unis"
)
_SQLITE_INSERT = (
    "INSERT OR REPLACE"  # noqa: S608
    + _COLUMNS.removeprefix("INSERT")
    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)
_SQLITE_FTS = "INSERT INTO search_fts (rowid, tg, bg, tu, bu) VALUES (?, ?, ?, ?, ?)"
_SQLITE_CHUNK = 60  # rows per statement: 12 values each, under SQLite's 999 parameters


def _row(conn: BaseDBAsyncClient, doc: Doc) -> list[Any]:
    themes = f" {' '.join(str(t) for t in sorted(doc.themes))} " if doc.themes else ""
    row: list[Any] = [doc.key, doc.kind, doc.thread_id, doc.post_id, doc.case_id, doc.board_id]
    row += [doc.author_id, doc.prefecture, themes, doc.title, doc.body]
    row.append(stamp(conn, doc.created_at))
    return row


def _fts_row(doc_id: int, doc: Doc) -> list[Any]:
    title, body = analyse(doc.title), analyse(doc.body)
    return [
        doc_id,
        " ".join(title.grams),
        " ".join(body.grams),
        " ".join(title.unis),
        " ".join(body.unis),
    ]


async def put(conn: BaseDBAsyncClient, doc: Doc, *, new: bool = False) -> None:
    """Replace the row of ``doc.key`` (if any) with ``doc``.

    ``new``: the caller knows there is no row for the key (a post just published: only
    published posts have rows). SQLite then skips the two deletes; should a row be there
    after all, it is still replaced, and its stale FTS row, matched by no document, goes
    at the next ``koryu reindex``.
    """
    if is_postgres(conn):
        title, body = analyse(doc.title), analyse(doc.body)
        grams, unis = _tsvector(title, body, "grams"), _tsvector(title, body, "unis")
        await conn.execute_query(_PG_UPSERT, [*_row(conn, doc), grams, unis])
        return
    if not new:
        await _drop(conn, doc.key)
    _, rows = await conn.execute_query(_SQLITE_INSERT, _row(conn, doc))
    await conn.execute_query(_SQLITE_FTS, _fts_row(rows[0][0], doc))


async def put_many(conn: BaseDBAsyncClient, docs: list[Doc]) -> None:
    """``put`` for a batch, in a few statements whatever its size (``koryu reindex``)."""
    if is_postgres(conn):
        for doc in docs:
            await put(conn, doc)
        return
    for start in range(0, len(docs), _SQLITE_CHUNK):
        chunk = docs[start : start + _SQLITE_CHUNK]
        keys = [doc.key for doc in chunk]
        marks = ", ".join("?" * len(keys))
        await conn.execute_query(
            "DELETE FROM search_fts WHERE rowid IN "  # noqa: S608
            f"(SELECT id FROM search_docs WHERE doc_key IN ({marks}))",
            keys,
        )
        await conn.execute_query(f"DELETE FROM search_docs WHERE doc_key IN ({marks})", keys)  # noqa: S608
        values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
        await conn.execute_query(
            _COLUMNS + f") VALUES {values}", [v for doc in chunk for v in _row(conn, doc)]
        )
        rows = await conn.execute_query_dict(
            f"SELECT id, doc_key FROM search_docs WHERE doc_key IN ({marks})",  # noqa: S608
            keys,
        )
        ids = {str(row["doc_key"]): int(row["id"]) for row in rows}
        fts = ", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))
        await conn.execute_query(
            f"INSERT INTO search_fts (rowid, tg, bg, tu, bu) VALUES {fts}",  # noqa: S608
            [v for doc in chunk for v in _fts_row(ids[doc.key], doc)],
        )


async def drop(conn: BaseDBAsyncClient, key: str) -> None:
    await _drop(conn, key)


async def drop_many(conn: BaseDBAsyncClient, keys: list[str]) -> None:
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        if not is_postgres(conn):
            await conn.execute_query(
                "DELETE FROM search_fts WHERE rowid IN "  # noqa: S608
                f"(SELECT id FROM search_docs WHERE doc_key IN ({marks}))",
                chunk,
            )
        await conn.execute_query(
            to_dialect(conn, f"DELETE FROM search_docs WHERE doc_key IN ({marks})"),  # noqa: S608
            chunk,
        )


def plain_text(rendered: str) -> str:
    """The words of a post as a reader sees them: its sanitised HTML without the tags."""
    return " ".join(html.unescape(_TAGS.sub(" ", rendered)).split())


async def index_thread(conn: BaseDBAsyncClient, thread: Thread) -> None:
    """A thread's title, findable while the thread has a published post."""
    await put(conn, thread_doc(thread))


def thread_doc(thread: Thread) -> Doc:
    return Doc(
        key=f"t:{thread.id}",
        kind="thread",
        title=thread.title,
        body="",
        created_at=thread.created_at,
        thread_id=thread.id,
        board_id=thread.board_id,  # type: ignore[attr-defined]
        author_id=thread.author_id,  # type: ignore[attr-defined]
    )


async def drop_thread(conn: BaseDBAsyncClient, thread: Thread) -> None:
    await _drop(conn, f"t:{thread.id}")


async def index_post(conn: BaseDBAsyncClient, post: Post, thread: Thread | None = None) -> None:
    """A published post as it is now, and its thread's title when this is the thread's first
    published post (``thread`` given, its counter already moved)."""
    if post.status is not PostStatus.PUBLISHED:
        await _drop(conn, f"p:{post.id}")
        return
    # Given the thread, this is publish(): only published posts have rows, so none is there.
    new = thread is not None
    if thread is None:
        thread_id: int = post.thread_id  # type: ignore[attr-defined]
        thread = await Thread.filter(id=thread_id).using_db(conn).get()
    elif thread.post_count == 1:
        await put(conn, thread_doc(thread), new=True)
    await put(conn, post_doc(post, thread), new=new)


def post_doc(post: Post, thread: Thread) -> Doc:
    return Doc(
        key=f"p:{post.id}",
        kind=post.kind.value,
        title="",
        body=plain_text(post.html),
        created_at=post.created_at,
        thread_id=thread.id,
        post_id=post.id,
        board_id=thread.board_id,  # type: ignore[attr-defined]
        author_id=None if post.anonymous else post.author_id,  # type: ignore[attr-defined]
    )


async def unindex_post(conn: BaseDBAsyncClient, post: Post, thread: Thread) -> None:
    """A post out of view; its thread's title too once no published post is left."""
    await _drop(conn, f"p:{post.id}")
    if thread.post_count <= 0:
        await drop_thread(conn, thread)


async def retitle(conn: BaseDBAsyncClient, thread: Thread) -> None:
    """A new title replaces the old one, if the thread is findable at all."""
    if thread.post_count > 0:
        await index_thread(conn, thread)
