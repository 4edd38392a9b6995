"""Search: the /search page and GET /api/v1/search. Parse the query string, call forum.search."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import boards, cases, search
from forum.errors import BadRequest, ValidationFailed
from forum.i18n import gettext as _
from forum.prefectures import prefecture_names
from forum.resources import iso, user_resource
from forum.search_text import snippet_html
from forum.web.common import actor_of, api_route
from forum.web.openapi import INT, STR, TIME, Operation, Part, nullable, obj, ref
from forum.web.params import CURSOR, SLUG, USERNAME, query
from forum.web.parsers import ID, Choice, Integer, Spec, Text
from forum.web.responses import JSON
from forum.web.templating import render

__all__ = ["OPENAPI", "api_routes", "page_routes"]

_COUNTS = {"type": "object", "additionalProperties": INT}
SCHEMAS: dict[str, Any] = {
    "SearchHit": obj(
        ["kind", "thread_id", "post_id", "case_id", "title", "board", "author", "snippet", "url"],
        kind={"enum": list(search.KINDS)},
        thread_id=nullable(INT),
        post_id=nullable(INT),
        case_id=nullable(INT),
        title=STR,
        board=nullable(STR),
        author=nullable(ref("User")),
        created_at=TIME,
        snippet={"type": "string", "description": "HTML: escaped text, hits in <mark>"},
        url=STR,
    ),
    "SearchResults": obj(
        ["items", "next_cursor", "total", "total_capped", "facets"],
        items={"type": "array", "items": ref("SearchHit")},
        next_cursor=nullable(STR),
        total=INT,
        total_capped={
            "type": "boolean",
            "description": "More matched than were ranked: total and facets count the newest "
            "matches only (at least this many)",
        },
        facets=obj(
            ["board", "kind", "prefecture", "theme"],
            board=_COUNTS,
            kind=_COUNTS,
            prefecture=_COUNTS,
            theme=_COUNTS,
        ),
    ),
}
OPERATIONS: list[Operation] = [
    ("get", "/search", "Search thread titles, published posts and practice cases", None, 200, "SearchResults", "anyone", False),
]  # fmt: skip
# The query string, read by these specs and stated by them in the OpenAPI document.
SEARCH_QUERY: dict[str, Spec] = {
    "q": Text(max_length=search.MAX_QUERY),
    "board": SLUG,
    "author": USERNAME,
    "kind": Choice(values=tuple(search.KINDS)),
    "prefecture": Integer(minimum=1, maximum=47),
    "theme": ID,
    "from": Text(min_length=10, max_length=10),
    "to": Text(min_length=10, max_length=10),
    "cursor": CURSOR,
    "limit": Integer(minimum=1, maximum=50),
}
QUERY: dict[str, dict[str, Spec]] = {"/search": SEARCH_QUERY}
OPENAPI = Part(OPERATIONS, SCHEMAS, QUERY)


def _date(request: Request, name: str) -> date | None:
    raw = query(request, name, SEARCH_QUERY[name], "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(
            _("{name} は YYYY-MM-DD の形式で指定してください。").format(name=name),
            code="bad_query",
        ) from None


async def _query(request: Request) -> search.Query:
    spec = SEARCH_QUERY
    board_slug = query(request, "board", spec["board"], None)
    return search.Query(
        text=query(request, "q", spec["q"], ""),
        board=await boards.get_board(actor_of(request), board_slug) if board_slug else None,
        author=query(request, "author", spec["author"], None),
        kind=query(request, "kind", spec["kind"], None),
        prefecture=query(request, "prefecture", spec["prefecture"], None),
        theme=query(request, "theme", spec["theme"], None),
        date_from=_date(request, "from"),
        date_to=_date(request, "to"),
        cursor=query(request, "cursor", spec["cursor"], None),
        limit=query(request, "limit", spec["limit"], search.PAGE),
    )


def hit_url(hit: search.Hit) -> str:
    if hit.case_id is not None:
        return f"/cases/{hit.case_id}"
    anchor = f"#post-{hit.post_id}" if hit.post_id is not None else ""
    return f"/t/{hit.thread_id}{anchor}"


def _hit_json(hit: search.Hit) -> dict[str, Any]:
    return {
        "kind": hit.kind,
        "thread_id": hit.thread_id,
        "post_id": hit.post_id,
        "case_id": hit.case_id,
        "title": hit.title,
        "board": hit.board_slug,
        "author": user_resource(hit.author) if hit.author else None,
        "created_at": iso(hit.created_at),
        "snippet": snippet_html(hit.snippet),
        "url": hit_url(hit),
    }


async def search_api(request: Request) -> Response:
    results = await search.search(actor_of(request), await _query(request))
    return JSON(
        {
            "items": [_hit_json(hit) for hit in results.hits],
            "next_cursor": results.next_cursor,
            "total": results.total,
            "total_capped": results.capped,
            "facets": results.facets,
        }
    )


async def search_page(request: Request) -> Response:
    query = await _query(request)
    results, problem = None, None
    if query.text.strip() and not search.searchable(query.text):
        problem = _("検索語を入力してください。")
    elif query.text.strip():
        try:
            results = await search.search(actor_of(request), query)
        except ValidationFailed as exc:
            problem = exc.message
    params = {k: v for k, v in request.query_params.items() if k != "cursor" and v}
    return render(
        request,
        "forum/search.html",
        {
            "q": query.text,
            "query": query,
            "results": results,
            "problem": problem,
            "params": params,
            "hit_url": hit_url,
            "prefectures": {str(code): name for code, name in prefecture_names().items()},
            "themes": {str(t.id): t.name for t in await cases.list_themes()} if results else {},
            # Facets count by slug; people read the board's title.
            "board_titles": {b.slug: b.title for b in await boards.list_boards(actor_of(request))}
            if results
            else {},
            "kinds": {
                "thread": _("スレッド"),
                "post": _("投稿"),
                "question": _("質問"),
                "answer": _("有識者の回答"),
                "case": _("実践事例"),
            },
        },
    )


def api_routes() -> list[BaseRoute]:
    return [api_route("/search", search_api, ["GET"])]


def page_routes() -> list[BaseRoute]:
    return [Route("/search", search_page, methods=["GET"], name="search")]
