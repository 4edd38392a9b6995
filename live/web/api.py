"""The sessions API under /api/v1: parse, call an action, return."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from forum import posts
from forum.errors import BadRequest
from forum.i18n import gettext as _
from forum.models import AnswerState
from forum.resources import iso
from forum.web.common import actor_of, api_route, read_body, require_user
from forum.web.params import path_id, query
from forum.web.responses import JSON
from live import answers, follow, merges, metrics, sessions, transitions
from live.models import SessionKind, SessionState
from live.web.inputs import (
    ANSWER_STATE_INPUT,
    MERGE_INPUT,
    SESSION_INPUT,
    SESSION_PATCH,
    SESSION_QUERY,
    parse_time,
    session_fields,
)

__all__ = ["figures_source", "metrics_resource", "routes", "site_url"]


def site_url(request: Request) -> str:
    return str(request.base_url)


async def _resource(request: Request, session_id: int) -> dict[str, object]:
    session = await sessions.get_session(actor_of(request), session_id)
    return await sessions.session_resource(session, base_url=site_url(request))


def session_filter(request: Request) -> sessions.SessionFilter:
    spec = SESSION_QUERY
    state = query(request, "state", spec["state"], None)
    kind = query(request, "kind", spec["kind"], None)
    bounds = {}
    for name in ("from", "to"):
        raw = query(request, name, spec[name], None)
        if raw is not None:
            value = parse_time(raw)
            if value is None:
                raise BadRequest(
                    _("{name} は ISO 8601 形式の日時で指定してください。").format(name=name),
                    code="bad_query",
                )
            bounds[name] = value
    return sessions.SessionFilter(
        states=(SessionState(state),) if state else (),
        kind=SessionKind(kind) if kind else None,
        board=query(request, "board", spec["board"], None),
        starts_from=bounds.get("from"),
        starts_before=bounds.get("to"),
        limit=query(request, "limit", spec["limit"], 100),
    )


async def list_sessions(request: Request) -> Response:
    rows = await sessions.list_sessions(actor_of(request), session_filter(request))
    base = site_url(request)
    items = await sessions.session_resources(rows, base_url=base)
    return JSON({"items": items, "next_cursor": None})


async def create_session(request: Request) -> Response:
    require_user(request)
    data = session_fields(await read_body(request, SESSION_INPUT))
    session = await sessions.create_session(actor_of(request), data)
    return JSON(await _resource(request, session.id), status_code=201)


async def get_session(request: Request) -> Response:
    return JSON(await _resource(request, path_id(request)))


async def update_session(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    data = session_fields(await read_body(request, SESSION_PATCH))
    await sessions.update_session(actor, session, data)
    return JSON(await _resource(request, session.id))


async def start_session(request: Request) -> Response:
    require_user(request)
    session = await sessions.get_session(actor_of(request), path_id(request))
    await transitions.start_session(actor_of(request), session.id)
    return JSON(await _resource(request, session.id))


async def end_session(request: Request) -> Response:
    require_user(request)
    session = await sessions.get_session(actor_of(request), path_id(request))
    await transitions.end_session(actor_of(request), session.id)
    return JSON(await _resource(request, session.id))


async def follow_session(request: Request) -> Response:
    user = require_user(request)
    session = await sessions.get_session(actor_of(request), path_id(request))
    following = await follow.set_following(user, session, on=request.method == "PUT")
    return JSON({"session": session.id, "following": following})


def figures_source(request: Request) -> metrics.FiguresSource | None:
    """Moderation's figures, as ``forum.app`` gave them (live does not import moderation)."""
    found: metrics.FiguresSource | None = getattr(request.app.state, "session_figures", None)
    return found


def metrics_resource(found: metrics.SessionMetrics) -> dict[str, object]:
    figures = found.figures
    return {
        "session": found.session_id,
        "from": iso(found.start),
        "to": iso(found.end),
        "waiting": figures.waiting,
        "approved": figures.approved,
        "rejected": figures.rejected,
        "median_seconds": figures.median_seconds,
        "p90_seconds": figures.p90_seconds,
        "minutes": [
            {"start": iso(m.start), "approved": m.approved, "rejected": m.rejected}
            for m in figures.minutes
        ],
    }


async def session_metrics(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    found = await metrics.session_metrics(actor, session, figures_source(request))
    return JSON(metrics_resource(found))


async def _post(request: Request, post_id: int) -> dict[str, object]:
    actor = actor_of(request)
    post, _thread, board = await posts.get_post(actor, post_id)
    return posts.visible_post(actor, post, board.id)


async def set_answer_state(request: Request) -> Response:
    require_user(request)
    post_id = path_id(request)
    data = await read_body(request, ANSWER_STATE_INPUT)
    await answers.set_answer_state(
        actor_of(request), post_id, AnswerState(data["state"]), expert=data.get("expert")
    )
    return JSON(await _post(request, post_id))


async def merge_question(request: Request) -> Response:
    require_user(request)
    post_id = path_id(request)
    data = await read_body(request, MERGE_INPUT)
    target = await merges.merge_question(actor_of(request), post_id, data["into"])
    return JSON(await _post(request, target.id))


def routes() -> list[BaseRoute]:
    return [
        api_route("/sessions", list_sessions, ["GET"]),
        api_route("/sessions", create_session, ["POST"]),
        api_route("/sessions/{id}", get_session, ["GET"]),
        api_route("/sessions/{id}", update_session, ["PATCH"]),
        api_route("/sessions/{id}/start", start_session, ["POST"]),
        api_route("/sessions/{id}/end", end_session, ["POST"]),
        api_route("/sessions/{id}/follow", follow_session, ["PUT", "DELETE"]),
        api_route("/sessions/{id}/metrics", session_metrics, ["GET"]),
        api_route("/posts/{id}/answer-state", set_answer_state, ["POST"]),
        api_route("/posts/{id}/merge", merge_question, ["POST"]),
    ]
