"""Japanese-aware search over thread titles and published posts, on SQLite and PostgreSQL.

``search_docs`` holds one row per searchable thing (a thread's title, a published post) with
what a reader may filter on; the text index holds its tokens (see ``forum.search_text``):
an FTS5 table keyed by the row's id on SQLite, two tsvector columns with GIN indexes on
PostgreSQL. Only what anyone may read once the board allows is ever in the table, so
nothing pending, rejected or deleted can be found; boards are checked per query, and an
anonymous question's row has no author, so no filter can reach its author.

The index moves inside the transaction that changes a post (``forum.lifecycle``) or a
title (``forum.threads``): it is never ahead of or behind what it describes.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from forum.errors import BadRequest, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Board, Post, PostStatus, Thread, User
from forum.permissions import Actor
from forum.search_text import Analysed, Clause, Segment, analyse, parse_query, snippet

__all__ = [
    "KINDS",
    "Hit",
    "Query",
    "Results",
    "drop_thread",
    "index_post",
    "index_thread",
    "plain_text",
    "retitle",
    "search",
    "unindex_post",
]

KINDS = ("thread", "post", "question")
MAX_QUERY = 200
MAX_CLAUSES = 12
PAGE = 20
_TAGS = re.compile(r"<[^>]+>")
_PG_MAX_POSITION = 16383
_TITLE_WEIGHT = 10.0


def _pg(conn: BaseDBAsyncClient) -> bool:
    return bool(conn.capabilities.dialect == "postgres")


def _sql(conn: BaseDBAsyncClient, query: str) -> str:
    """Queries are written with ``?``; PostgreSQL numbers its placeholders."""
    if not _pg(conn):
        return query
    parts = query.split("?")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def _stamp(conn: BaseDBAsyncClient, value: datetime) -> Any:
    """SQLite keeps the stamp as sortable UTC text; PostgreSQL as timestamptz."""
    value = value.astimezone(UTC)
    return value if _pg(conn) else value.isoformat()


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


# --- keeping the index in step --------------------------------------------------------------


async def _drop(conn: BaseDBAsyncClient, key: str) -> None:
    if not _pg(conn):
        await conn.execute_query(
            "DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_docs WHERE doc_key = ?)",
            [key],
        )
    await conn.execute_query(_sql(conn, "DELETE FROM search_docs WHERE doc_key = ?"), [key])


async def _put(
    conn: BaseDBAsyncClient,
    key: str,
    *,
    kind: str,
    thread_id: int,
    post_id: int | None,
    board_id: int,
    author_id: int | None,
    title: str,
    body: str,
    created_at: datetime,
) -> None:
    await _drop(conn, key)
    row = [key, kind, thread_id, post_id, board_id, author_id, title, body]
    row.append(_stamp(conn, created_at))
    tokens_title, tokens_body = analyse(title), analyse(body)
    if _pg(conn):
        await conn.execute_query(
            "INSERT INTO search_docs (doc_key, kind, thread_id, post_id, board_id, author_id, "
            "title, body, created_at, grams, unis) VALUES "
            "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::tsvector, $11::tsvector)",
            [
                *row,
                _tsvector(tokens_title, tokens_body, "grams"),
                _tsvector(tokens_title, tokens_body, "unis"),
            ],
        )
        return
    _, rows = await conn.execute_query(
        "INSERT INTO search_docs (doc_key, kind, thread_id, post_id, board_id, author_id, "
        "title, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        row,
    )
    await conn.execute_query(
        "INSERT INTO search_fts (rowid, tg, bg, tu, bu) VALUES (?, ?, ?, ?, ?)",
        [
            rows[0][0],
            " ".join(tokens_title.grams),
            " ".join(tokens_body.grams),
            " ".join(tokens_title.unis),
            " ".join(tokens_body.unis),
        ],
    )


def plain_text(rendered: str) -> str:
    """The words of a post as a reader sees them: its sanitised HTML without the tags."""
    return " ".join(html.unescape(_TAGS.sub(" ", rendered)).split())


async def index_thread(conn: BaseDBAsyncClient, thread: Thread) -> None:
    """A thread's title, findable while the thread has a published post."""
    await _put(
        conn,
        f"t:{thread.id}",
        kind="thread",
        thread_id=thread.id,
        post_id=None,
        board_id=thread.board_id,  # type: ignore[attr-defined]
        author_id=thread.author_id,  # type: ignore[attr-defined]
        title=thread.title,
        body="",
        created_at=thread.created_at,
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
        await index_thread(conn, thread)
    await _put(
        conn,
        f"p:{post.id}",
        kind=post.kind.value,
        thread_id=thread.id,
        post_id=post.id,
        board_id=thread.board_id,  # type: ignore[attr-defined]
        author_id=None if post.anonymous else post.author_id,  # type: ignore[attr-defined]
        title="",
        body=plain_text(post.html),
        created_at=post.created_at,
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


# --- searching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """A search as the reader asked it, parsed by the web layer; None filters nothing."""

    text: str
    board: Board | None = None
    author: str | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = None
    limit: int = PAGE


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str
    thread_id: int
    post_id: int | None
    thread_title: str
    board: Board
    author: User | None
    created_at: datetime
    snippet: list[Segment]


@dataclass(frozen=True, slots=True)
class Results:
    hits: list[Hit]
    total: int
    next_cursor: str | None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([offset])).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        (offset,) = orjson.loads(raw)
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(offset)
        return offset
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest(_("カーソルが正しくありません。"), code="invalid_cursor") from None


def _clauses(text: str) -> list[Clause]:
    if len(text) > MAX_QUERY:
        raise ValidationFailed(_("検索語は200文字以内で入力してください。"), code="query_too_long")
    clauses = parse_query(text)
    if not clauses:
        raise ValidationFailed(_("検索語を入力してください。"), code="empty_query")
    return clauses[:MAX_CLAUSES]


async def _readable_boards(actor: Actor) -> list[int] | None:
    """The boards the actor may read; None for all of them (site moderators)."""
    if actor.is_site_moderator:
        return None
    public = await Board.filter(private=False).only("id")
    return sorted({b.id for b in public} | set(actor.board_roles))


@dataclass
class _Sql:
    """The pieces of one search statement, in the dialect of its connection."""

    conn: BaseDBAsyncClient
    where: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, condition: str, *args: Any) -> None:
        self.where.append(condition)
        self.args.extend(args)

    def text(self, query: str) -> str:
        return _sql(self.conn, query)


def _fts_phrase(grams: Sequence[str]) -> str:
    return '"' + " ".join(grams) + '"'


def _fts_match(clauses: list[Clause], *, title_only: bool = False) -> str:
    """An FTS5 expression; tokens are word characters only, so quoting them is enough."""
    parts = []
    for clause in clauses:
        if clause.uni is not None:
            columns = "tu" if title_only else "{tu bu}"
            parts.append(f"{columns} : {_fts_phrase([clause.uni])}")
        else:
            columns = "tg" if title_only else "{tg bg}"
            parts.append(f"{columns} : {_fts_phrase(clause.grams)}")
    return " AND ".join(parts)


def _ts_lexeme(token: str, weight: str) -> str:
    return "'" + token.replace("'", "''").replace("\\", "\\\\") + "'" + weight


def _tsquery(clauses: list[Clause], *, unis: bool, title_only: bool = False) -> str | None:
    weight = ":A" if title_only else ""
    parts = []
    for clause in clauses:
        if unis and clause.uni is not None:
            parts.append(_ts_lexeme(clause.uni, weight))
        elif not unis and clause.uni is None:
            parts.append("(" + " <-> ".join(_ts_lexeme(g, weight) for g in clause.grams) + ")")
    return " & ".join(parts) or None


def _match(sql: _Sql, clauses: list[Clause]) -> tuple[str, str, list[Any]]:
    """The FROM clause, the ORDER BY clause and the ORDER BY's arguments."""
    whole = [g for c in clauses for g in c.grams] if all(c.uni is None for c in clauses) else []
    phrase = [Clause(grams=tuple(whole))] if len(clauses) > 1 and whole else []
    if _pg(sql.conn):
        grams, unis = _tsquery(clauses, unis=False), _tsquery(clauses, unis=True)
        if grams:
            sql.add("d.grams @@ ?::tsquery", grams)
        if unis:
            sql.add("d.unis @@ ?::tsquery", unis)
        titles = [
            f"d.{col} @@ ?::tsquery"
            for col, q in (
                ("grams", _tsquery(clauses, unis=False, title_only=True)),
                ("unis", _tsquery(clauses, unis=True, title_only=True)),
            )
            if q
        ]
        title_args = [
            q
            for q in (
                _tsquery(clauses, unis=False, title_only=True),
                _tsquery(clauses, unis=True, title_only=True),
            )
            if q
        ]
        order = f"({' AND '.join(titles)}) DESC, "
        args: list[Any] = [*title_args]
        if phrase:
            order += "d.grams @@ ?::tsquery DESC, "
            args.append(_tsquery(phrase, unis=False))
        rank = " + ".join(
            f"ts_rank(d.{col}, ?::tsquery)" for col, q in (("grams", grams), ("unis", unis)) if q
        )
        args.extend(q for q in (grams, unis) if q)
        return "search_docs d", order + f"{rank} DESC, d.id DESC", args
    sql.add("search_fts MATCH ?", _fts_match(clauses))
    order = "f.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?) DESC, "
    args = [_fts_match(clauses, title_only=True)]
    if phrase:
        order += "f.rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH ?) DESC, "
        args.append(_fts_match(phrase))
    weights = f"{_TITLE_WEIGHT}, 1.0, {_TITLE_WEIGHT}, 1.0"
    source = "search_fts f JOIN search_docs d ON d.id = f.rowid"
    return source, order + f"bm25(search_fts, {weights}), d.id DESC", args


def _day_start(conn: BaseDBAsyncClient, day: date) -> Any:
    return _stamp(conn, datetime.combine(day, time.min, tzinfo=UTC))


async def _filters(sql: _Sql, actor: Actor, query: Query) -> None:
    readable = await _readable_boards(actor)
    if readable is not None:
        marks = ", ".join("?" * len(readable)) or "NULL"
        sql.add(f"d.board_id IN ({marks})", *readable)
    if query.author is not None:
        user = await User.get_or_none(username=query.author)
        sql.add("d.author_id = ?", user.id if user else 0)
    if query.kind is not None:
        sql.add("d.kind = ?", query.kind)
    if query.date_from is not None:
        sql.add("d.created_at >= ?", _day_start(sql.conn, query.date_from))
    if query.date_to is not None:
        sql.add("d.created_at < ?", _day_start(sql.conn, query.date_to + timedelta(days=1)))


async def search(actor: Actor, query: Query) -> Results:
    """One page of hits, best first, with counts per board and per kind over all hits."""
    clauses = _clauses(query.text)
    offset = _decode_cursor(query.cursor) if query.cursor else 0
    if query.kind is not None and query.kind not in KINDS:
        raise ValidationFailed(
            _("種類は thread / post / question のいずれかです。"), code="bad_query"
        )
    conn = get_connection("default")
    sql = _Sql(conn)
    source, order, order_args = _match(sql, clauses)
    await _filters(sql, actor, query)
    where = " AND ".join(sql.where)
    # Every fragment is a constant of this module; values go as bound arguments.
    facet_rows = await conn.execute_query_dict(
        sql.text(
            f"SELECT d.board_id AS board_id, d.kind AS kind, COUNT(*) AS n FROM {source} "  # noqa: S608
            f"WHERE {where} GROUP BY d.board_id, d.kind"
        ),
        sql.args,
    )
    by_board: dict[int, int] = {}
    by_kind: dict[str, int] = {}
    for row in facet_rows:
        by_board[int(row["board_id"])] = by_board.get(int(row["board_id"]), 0) + int(row["n"])
        by_kind[str(row["kind"])] = by_kind.get(str(row["kind"]), 0) + int(row["n"])
    board_filter = query.board.id if query.board is not None else None
    if board_filter is not None:
        sql.add("d.board_id = ?", board_filter)
        where = " AND ".join(sql.where)
    rows = await conn.execute_query_dict(
        sql.text(
            "SELECT d.kind AS kind, d.thread_id AS thread_id, d.post_id AS post_id, "  # noqa: S608
            "d.board_id AS board_id, d.author_id AS author_id, d.title AS title, "
            f"d.body AS body, d.created_at AS created_at FROM {source} WHERE {where} "
            f"ORDER BY {order} LIMIT ? OFFSET ?"
        ),
        [*sql.args, *order_args, query.limit + 1, offset],
    )
    more = len(rows) > query.limit
    hits = await _hits(rows[: query.limit], clauses)
    boards = {b.id: b.slug for b in await Board.filter(id__in=list(by_board))}
    total = by_board.get(board_filter, 0) if board_filter is not None else sum(by_board.values())
    return Results(
        hits=hits,
        total=total,
        next_cursor=_encode_cursor(offset + query.limit) if more else None,
        facets={
            "board": {boards[b]: n for b, n in sorted(by_board.items()) if b in boards},
            "kind": dict(sorted(by_kind.items())),
        },
    )


async def _hits(rows: list[dict[str, Any]], clauses: list[Clause]) -> list[Hit]:
    threads = {t.id: t for t in await Thread.filter(id__in={int(r["thread_id"]) for r in rows})}
    boards = {b.id: b for b in await Board.filter(id__in={int(r["board_id"]) for r in rows})}
    author_ids = {int(r["author_id"]) for r in rows if r["author_id"] is not None}
    authors = {u.id: u for u in await User.filter(id__in=author_ids)}
    hits = []
    for row in rows:
        thread = threads[int(row["thread_id"])]
        text = row["title"] if row["kind"] == "thread" else row["body"]
        created = row["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        hits.append(
            Hit(
                kind=str(row["kind"]),
                thread_id=thread.id,
                post_id=int(row["post_id"]) if row["post_id"] is not None else None,
                thread_title=thread.title,
                board=boards[int(row["board_id"])],
                author=authors.get(int(row["author_id"])) if row["author_id"] else None,
                created_at=created,
                snippet=snippet(str(text), clauses),
            )
        )
    return hits
