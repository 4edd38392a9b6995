"""The write side of search: ``search_docs`` rows and their tokens, moved in the caller's
transaction.

``search_docs`` holds one row per searchable thing (a thread's title, a published post, a
practice case) with what a reader may filter on, and its tokens (see ``forum.search_text``):
on SQLite as text columns that an external-content FTS5 table indexes (triggers keep it in
step), on PostgreSQL as two tsvector columns with GIN indexes. Either way one upsert writes
a row and its index entries. Only what is public once its board allows is ever in the
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
_REPLACE = (
    " ON CONFLICT (doc_key) DO UPDATE SET kind = excluded.kind, "
    "thread_id = excluded.thread_id, post_id = excluded.post_id, case_id = excluded.case_id, "
    "board_id = excluded.board_id, author_id = excluded.author_id, "
    "prefecture = excluded.prefecture, themes = excluded.themes, title = excluded.title, "
    "body = excluded.body, created_at = excluded.created_at, "
)
# One statement on either database: the row of a key is replaced in place. On SQLite the
# row carries its tokens and triggers move them into the FTS index (migration 0006).
_PG_UPSERT = (
    _COLUMNS + ", grams, unis) VALUES "
    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::tsvector, $14::tsvector)"
    + _REPLACE
    + "grams = excluded.grams, unis = excluded.unis"
)
_SQLITE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_SQLITE_UPSERT = (
    _COLUMNS
    + ", tg, bg, tu, bu) VALUES {rows}"
    + _REPLACE
    + "tg = excluded.tg, bg = excluded.bg, tu = excluded.tu, bu = excluded.bu"
)
_SQLITE_CHUNK = 60  # rows per statement: 16 values each, under SQLite's 999 parameters


def _row(conn: BaseDBAsyncClient, doc: Doc) -> list[Any]:
    themes = f" {' '.join(str(t) for t in sorted(doc.themes))} " if doc.themes else ""
    row: list[Any] = [doc.key, doc.kind, doc.thread_id, doc.post_id, doc.case_id, doc.board_id]
    row += [doc.author_id, doc.prefecture, themes, doc.title, doc.body]
    row.append(stamp(conn, doc.created_at))
    return row


def _tokens(doc: Doc) -> list[str]:
    title, body = analyse(doc.title), analyse(doc.body)
    return [" ".join(title.grams), " ".join(body.grams), " ".join(title.unis), " ".join(body.unis)]


async def put(conn: BaseDBAsyncClient, doc: Doc) -> None:
    """Put ``doc`` in the index, in place of the row of its key if there is one."""
    await put_many(conn, [doc])


async def put_many(conn: BaseDBAsyncClient, docs: list[Doc]) -> None:
    """``put`` for a batch: one statement per row on PostgreSQL, per 60 rows on SQLite."""
    if is_postgres(conn):
        for doc in docs:
            title, body = analyse(doc.title), analyse(doc.body)
            grams, unis = _tsvector(title, body, "grams"), _tsvector(title, body, "unis")
            await conn.execute_query(_PG_UPSERT, [*_row(conn, doc), grams, unis])
        return
    for start in range(0, len(docs), _SQLITE_CHUNK):
        chunk = docs[start : start + _SQLITE_CHUNK]
        await conn.execute_query(
            _SQLITE_UPSERT.format(rows=", ".join([_SQLITE_ROW] * len(chunk))),
            [v for doc in chunk for v in [*_row(conn, doc), *_tokens(doc)]],
        )


async def drop(conn: BaseDBAsyncClient, key: str) -> None:
    await _drop(conn, key)


async def drop_many(conn: BaseDBAsyncClient, keys: list[str]) -> None:
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ", ".join("?" * len(chunk))
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
    if thread is None:
        thread_id: int = post.thread_id  # type: ignore[attr-defined]
        thread = await Thread.filter(id=thread_id).using_db(conn).get()
    elif thread.post_count == 1:
        await put(conn, thread_doc(thread))
    await put(conn, post_doc(post, thread))


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
