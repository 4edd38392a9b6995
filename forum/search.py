"""Japanese-aware search over thread titles, published posts and practice cases, on SQLite
FTS5 and PostgreSQL.

What is in the index is public once its board allows (``forum.search_index`` keeps it so);
a query adds the reader's boards, the filters, the ranking and the facets. Ranking: hits of
every word in a title first, then hits of the whole query as one phrase, then relevance
(bm25 on SQLite, ts_rank on PostgreSQL, titles weighted above bodies).
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection

from forum.errors import BadRequest, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Board, User
from forum.permissions import Actor
from forum.search_index import is_postgres, stamp, to_dialect
from forum.search_text import Clause, Segment, parse_query, snippet

__all__ = ["KINDS", "PAGE", "Hit", "Query", "Results", "search", "searchable"]

KINDS = ("thread", "post", "question", "answer", "case")
MAX_QUERY = 200
MAX_CLAUSES = 12
PAGE = 20
_TITLE_WEIGHT = 10.0
# A broad query (町 on a large site) matches a large share of everything, and ranking and
# facet counting cost in proportion to the hits: past this many matches both work on the
# newest this many, and the total reads "at least" (``Results.capped``).
CANDIDATES = 1_000


@dataclass(frozen=True, slots=True)
class Query:
    """A search as the reader asked it, parsed by the web layer; None filters nothing."""

    text: str
    board: Board | None = None
    author: str | None = None
    kind: str | None = None
    prefecture: int | None = None
    theme: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = None
    limit: int = PAGE


@dataclass(frozen=True, slots=True)
class Hit:
    """A thread's title, a post (``thread_id`` and ``post_id``) or a case (``case_id``)."""

    kind: str
    thread_id: int | None
    post_id: int | None
    case_id: int | None
    title: str
    board_slug: str | None
    board_title: str | None
    author: User | None
    created_at: datetime
    snippet: list[Segment]


@dataclass(frozen=True, slots=True)
class Results:
    hits: list[Hit]
    total: int
    next_cursor: str | None
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # More matched than were ranked: ``total`` and the facets count the newest matches only.
    capped: bool = False


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
        raise BadRequest(
            _("ページの指定が正しくありません。一覧を最初のページから開き直してください。"),
            code="invalid_cursor",
        ) from None


def searchable(text: str) -> bool:
    """Whether the text has anything to search for (not only spaces and punctuation)."""
    return bool(parse_query(text))


def _clauses(text: str) -> list[Clause]:
    if len(text) > MAX_QUERY:
        raise ValidationFailed(_("検索語は200文字以内で入力してください。"), code="query_too_long")
    return parse_query(text)[:MAX_CLAUSES]


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
        return to_dialect(self.conn, query)


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
    if is_postgres(sql.conn):
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


def _newest_column(conn: BaseDBAsyncClient) -> str:
    # FTS5 walks its matches by its own rowid (the document's id) and stops at a LIMIT only
    # when ordered by it; PostgreSQL sorts the index's hits by the key.
    return "d.id" if is_postgres(conn) else "f.rowid"


async def _newest(conn: BaseDBAsyncClient, source: str, sql: _Sql) -> list[dict[str, Any]]:
    """The newest ``CANDIDATES`` matches with what the facets count, newest first."""
    by = _newest_column(conn)
    return await conn.execute_query_dict(
        sql.text(
            "SELECT d.id AS id, d.board_id AS board_id, b.slug AS slug, d.kind AS kind, "  # noqa: S608
            f"d.prefecture AS prefecture, d.themes AS themes FROM {source} "
            "LEFT JOIN boards b ON b.id = d.board_id "
            f"WHERE {' AND '.join(sql.where)} ORDER BY {by} DESC LIMIT ?"
        ),
        [*sql.args, CANDIDATES],
    )


def _day_start(conn: BaseDBAsyncClient, day: date) -> Any:
    return stamp(conn, datetime.combine(day, time.min, tzinfo=UTC))


async def _filters(sql: _Sql, actor: Actor, query: Query) -> None:
    if not actor.is_site_moderator:
        # Decided in the statement, not from a list read before it: a board made private
        # drops out of the very next search.
        own = sorted(actor.board_roles)
        mine = f" OR d.board_id IN ({', '.join('?' * len(own))})" if own else ""
        sql.add(
            "(d.board_id IS NULL OR d.board_id IN (SELECT id FROM boards WHERE NOT private)"  # noqa: S608
            f"{mine})",
            *own,
        )
    if query.author is not None:
        sql.add("d.author_id = (SELECT id FROM users WHERE username = ?)", query.author)
    if query.kind is not None:
        sql.add("d.kind = ?", query.kind)
    if query.prefecture is not None:
        sql.add("d.prefecture = ?", query.prefecture)
    if query.theme is not None:
        sql.add("d.themes LIKE ?", f"% {query.theme} %")
    if query.date_from is not None:
        sql.add("d.created_at >= ?", _day_start(sql.conn, query.date_from))
    if query.date_to is not None:
        sql.add("d.created_at < ?", _day_start(sql.conn, query.date_to + timedelta(days=1)))


async def search(actor: Actor, query: Query) -> Results:
    """One page of hits, best first, with facet counts over every filter but ``board``."""
    clauses = _clauses(query.text)
    if not clauses:
        # Nothing searchable (no q, or only punctuation such as 、。): nothing is found.
        return Results([], 0, None, {name: {} for name in ("board", "kind", "prefecture", "theme")})
    offset = _decode_cursor(query.cursor) if query.cursor else 0
    if query.kind is not None and query.kind not in KINDS:
        raise ValidationFailed(_("種類を一覧から選んでください。"), code="bad_query")
    conn = get_connection("default")
    sql = _Sql(conn)
    source, order, order_args = _match(sql, clauses)
    await _filters(sql, actor, query)
    # The facets count every board; the page is of the chosen one.
    everywhere = await _newest(conn, source, sql)
    capped = len(everywhere) >= CANDIDATES
    facets, total = _facets(everywhere, query.board)
    chosen = everywhere
    if query.board is not None:
        sql.add("d.board_id = ?", query.board.id)
        if capped:  # the board's own newest matches may lie past the site's newest
            chosen = await _newest(conn, source, sql)
        else:
            chosen = [r for r in everywhere if r["board_id"] == query.board.id]
    if not chosen:
        return Results([], 0, None, facets, capped)
    if len(chosen) >= CANDIDATES:
        # Rank the newest matches only: a range of the index, walked and scored, not all of it.
        sql.add(f"{_newest_column(conn)} >= ?", chosen[-1]["id"])
    # Every fragment is a constant of this module; values go as bound arguments.
    rows = await conn.execute_query_dict(
        sql.text(
            "SELECT d.kind AS kind, d.thread_id AS thread_id, d.post_id AS post_id, "  # noqa: S608
            "d.case_id AS case_id, d.author_id AS author_id, d.title AS title, d.body AS body, "
            "d.created_at AS created_at, t.title AS thread_title, b.slug AS board_slug, "
            f"b.title AS board_title FROM {source} "
            "LEFT JOIN threads t ON t.id = d.thread_id LEFT JOIN boards b ON b.id = d.board_id "
            f"WHERE {' AND '.join(sql.where)} ORDER BY {order} LIMIT ? OFFSET ?"
        ),
        [*sql.args, *order_args, query.limit + 1, offset],
    )
    more = len(rows) > query.limit
    return Results(
        hits=await _hits(rows[: query.limit], clauses),
        total=total,
        next_cursor=_encode_cursor(offset + query.limit) if more else None,
        facets=facets,
        capped=capped,
    )


def _facets(
    rows: list[dict[str, Any]], board: Board | None
) -> tuple[dict[str, dict[str, int]], int]:
    """Counts per board (by slug), kind, prefecture (by code) and theme (by id); and the total
    the page's filters, ``board`` included, leave."""
    by_board: Counter[int] = Counter()
    slugs: dict[int, str] = {}
    by_kind: Counter[str] = Counter()
    by_prefecture: Counter[str] = Counter()
    by_theme: Counter[str] = Counter()
    alike = Counter(
        (row["board_id"], row["slug"], row["kind"], row["prefecture"], row["themes"])
        for row in rows
    )
    for (board_id, slug, kind, prefecture, themes), n in alike.items():
        by_kind[str(kind)] += n
        if board_id is not None:
            by_board[int(board_id)] += n
            slugs[int(board_id)] = str(slug)
        if prefecture is not None:
            by_prefecture[str(prefecture)] += n
        for theme in str(themes).split():
            by_theme[theme] += n
    total = by_board[board.id] if board is not None else sum(by_kind.values())
    facets = {
        "board": {slugs[b]: n for b, n in sorted(by_board.items()) if b in slugs},
        "kind": dict(sorted(by_kind.items())),
        "prefecture": dict(sorted(by_prefecture.items(), key=lambda item: int(item[0]))),
        "theme": dict(sorted(by_theme.items(), key=lambda item: int(item[0]))),
    }
    return facets, total


def _ids(rows: list[dict[str, Any]], column: str) -> set[int]:
    return {int(row[column]) for row in rows if row[column] is not None}


async def _hits(rows: list[dict[str, Any]], clauses: list[Clause]) -> list[Hit]:
    author_ids = _ids(rows, "author_id")
    authors = {u.id: u for u in await User.filter(id__in=author_ids)} if author_ids else {}
    hits = []
    for row in rows:
        created = row["created_at"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        text = row["title"] if row["kind"] == "thread" else row["body"]
        hits.append(
            Hit(
                kind=str(row["kind"]),
                thread_id=_optional(row["thread_id"]),
                post_id=_optional(row["post_id"]),
                case_id=_optional(row["case_id"]),
                title=str(row["thread_title"] or row["title"]),
                board_slug=row["board_slug"],
                board_title=row["board_title"],
                author=authors.get(int(row["author_id"] or 0)),
                created_at=created,
                snippet=snippet(str(text), clauses),
            )
        )
    return hits


def _optional(value: Any) -> int | None:
    return int(value) if value is not None else None
