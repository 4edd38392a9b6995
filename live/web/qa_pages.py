"""A live session's question screens: the question board for participants, the expert
console, and the presenter view for the hall's screen. Parse, load, render.

Who may open them: the board and the presenter view whoever may read the session (the
presenter view shows only published questions, and never an anonymous asker, so it needs no
account: the venue's screen may run signed out); the console the session's experts and
moderators, its organiser and the board's staff (``live.questionboard.can_console``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.i18n import gettext as _
from forum.permissions import can_post_in
from forum.web.common import actor_of
from forum.web.forms import login_redirect
from forum.web.params import path_id, query
from forum.web.parsers import Choice, Spec
from forum.web.templating import answer_state_label, render
from live import questionboard, sessions
from live.joinlink import qr_svg
from live.models import LiveSession
from live.questionboard import Filter, Question, Sort

__all__ = ["QUERY", "routes", "state_label"]

QUERY: dict[str, Spec] = {
    "sort": Choice(values=tuple(s.value for s in Sort)),
    "state": Choice(values=tuple(f.value for f in Filter if f.value)),
}

# Which list of a page holds a question in each state; qa.js places live changes the same way
# (each list says its states in data-states).
BOARD_LISTS = {
    "questions": ("open", "assigned", "answering", "deferred"),
    "answered": ("answered_live", "answered_written"),
}
PRESENTER_LISTS = {
    "now": ("answering",),
    "next": ("open", "assigned"),
}
# How many questions the presenter view shows after the one being answered.
PRESENTER_NEXT = 5


# The answer states are named once, as the thread page names them (docs/glossary.md).
state_label = answer_state_label


def _filter_labels() -> list[tuple[str, str]]:
    return [
        ("", _("すべて")),
        ("open", _("未回答")),
        ("answering", _("回答中")),
        ("answered", _("回答済み")),
        ("deferred", _("後日回答")),
    ]


def _grouped(rows: list[Question], lists: dict[str, tuple[str, ...]]) -> dict[str, list[Question]]:
    return {name: [q for q in rows if q.state in states] for name, states in lists.items()}


def _join_url(request: Request, session: LiveSession) -> str:
    return f"{str(request.base_url).rstrip('/')}/j/{session.join_code}"


async def _common(request: Request, session: LiveSession) -> dict[str, Any]:
    channel, seq = await questionboard.feed(session)
    user = request.state.user
    return {
        "session": session,
        "channel": channel,
        "seq": seq,
        "username": user.username if user else "",
        "state_label": state_label,
        "states": [(s, state_label(s)) for s in questionboard.STATES],
    }


async def board_page(request: Request) -> Response:
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    sort = Sort(query(request, "sort", QUERY["sort"], Sort.VOTES.value))
    shown = Filter(query(request, "state", QUERY["state"], ""))
    rows = await questionboard.load_questions(actor, session, sort=sort)
    context = {
        **await _common(request, session),
        "lists": _grouped(rows, BOARD_LISTS),
        "list_states": BOARD_LISTS,
        "sort": sort.value,
        "sort_chosen": "sort" in request.query_params,
        "filter": shown,
        "filters": _filter_labels(),
        "can_ask": can_post_in(actor, session.thread, session.board) and session.thread.live,
        "answers": await questionboard.load_answers(rows),
    }
    return render(request, "live/questions.html", context)


async def console_page(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    staff = await sessions.staff_rows(session)
    questionboard.check_console(actor, session, staff)
    rows = await questionboard.load_questions(actor, session, sort=Sort.VOTES)
    context = {
        **await _common(request, session),
        "lists": _grouped(rows, BOARD_LISTS),
        "list_states": BOARD_LISTS,
        "is_expert": questionboard.is_session_expert(actor, staff),
        "answers": await questionboard.load_answers(rows),
    }
    return render(request, "live/console.html", context)


async def presenter_page(request: Request) -> Response:
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    rows = await questionboard.load_questions(actor, session, sort=Sort.VOTES)
    join_url = _join_url(request, session)
    context = {
        **await _common(request, session),
        "lists": _grouped(rows, PRESENTER_LISTS),
        "list_states": PRESENTER_LISTS,
        "next_count": PRESENTER_NEXT,
        "join_url": join_url,
        "qr": qr_svg(join_url, title=_("参加用リンクのQRコード")),
    }
    return render(request, "live/presenter.html", context)


def routes() -> list[BaseRoute]:
    return [
        Route("/sessions/{id}/questions", board_page, methods=["GET"]),
        Route("/sessions/{id}/console", console_page, methods=["GET"]),
        Route("/sessions/{id}/presenter", presenter_page, methods=["GET"]),
    ]
