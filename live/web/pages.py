"""Sessions' pages: the calendar, a session, its join link and QR code, the organiser's
forms, the feeds, the exports and the report. Parse, call an action, render."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import boards
from forum.charts import bar_chart
from forum.errors import BadRequest, Conflict, ValidationFailed
from forum.i18n import gettext as _
from forum.permissions import Actor, can_moderate
from forum.render import render_markdown_async
from forum.web.attachments import attached_files
from forum.web.common import actor_of, gate_of, require_user
from forum.web.forms import field, form_value, login_redirect, read_form, redirect
from forum.web.params import SLUG, path_id, query
from forum.web.parsers import Flag, Invalid, Spec, Text
from forum.web.templating import render
from live import archive, calendar, follow, metrics, questionboard, sessions, transitions
from live.joinlink import qr_svg
from live.models import LiveSession, SessionKind, SessionState
from live.sessions import MAX_DESCRIPTION, MAX_TITLE, MAX_URL, MAX_VENUE
from live.web import inputs
from live.web.api import figures_source
from live.web.inputs import (
    JST,
    MAX_STAFF,
    PARENT,
    SLOW_MODE,
    TIME,
    parse_time,
    usernames,
)

KIND = Text(max_length=20)
MONTH = Text(max_length=7)
DONE = Text(max_length=20)

__all__ = ["home_panel", "kind_label", "routes", "state_label"]

UPCOMING = 20
PAST = 20


def kind_label(value: object) -> str:
    labels = {
        "forum": _("全国フォーラム"),
        "training": _("研修会"),
        "breakout": _("分科会"),
        "other": _("その他"),
    }
    return labels.get(str(value), str(value))


def state_label(value: object) -> str:
    labels = {
        "scheduled": _("開催予定"),
        "live": _("開催中"),
        "ended": _("終了"),
        "archived": _("アーカイブ"),
    }
    return labels.get(str(value), str(value))


def _site(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _labels() -> dict[str, Any]:
    return {"kind_label": kind_label, "state_label": state_label}


def _kinds() -> list[tuple[str, str]]:
    return [(k.value, kind_label(k.value)) for k in SessionKind]


def _filters(request: Request) -> tuple[SessionKind | None, str | None]:
    raw = query(request, "kind", KIND, "")
    try:
        kind = SessionKind(raw) if raw else None
    except ValueError:
        raise BadRequest(_("種別の指定が正しくありません。"), code="bad_query") from None
    board: str | None = query(request, "board", SLUG, None)
    return kind, board


# For the English calendar's headings ("December 2026"); the Japanese ones need none.
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _month(request: Request, now: datetime) -> tuple[int, int]:
    raw = query(request, "month", MONTH, "")
    if not raw:
        local = now.astimezone(JST)
        return local.year, local.month
    year, sep, month = raw.partition("-")
    if not (sep and year.isdigit() and month.isdigit() and len(year) == 4 and len(month) <= 2):
        raise BadRequest(_("月は 2026-12 のように指定してください。"), code="bad_query")
    if not (2000 <= int(year) <= 2100 and 1 <= int(month) <= 12):
        raise BadRequest(_("月は 2026-12 のように指定してください。"), code="bad_query")
    return int(year), int(month)


async def calendar_page(request: Request) -> Response:
    actor = actor_of(request)
    now = datetime.now(UTC)
    kind, board = _filters(request)
    year, month = _month(request, now)
    live = await sessions.list_sessions(
        actor, sessions.SessionFilter(states=(SessionState.LIVE,), kind=kind, board=board)
    )
    upcoming = await sessions.list_sessions(
        actor,
        sessions.SessionFilter(
            states=(SessionState.SCHEDULED,), kind=kind, board=board, limit=UPCOMING
        ),
    )
    past = await sessions.list_sessions(
        actor,
        sessions.SessionFilter(
            states=(SessionState.ENDED, SessionState.ARCHIVED),
            kind=kind,
            board=board,
            limit=PAST,
            newest_first=True,
        ),
    )
    start, end = calendar.month_bounds(year, month)
    in_month = await sessions.list_sessions(
        actor,
        sessions.SessionFilter(
            kind=kind, board=board, starts_from=start, starts_before=end, limit=200
        ),
    )
    before, after = calendar.next_month(year, month, -1), calendar.next_month(year, month, 1)
    context: dict[str, Any] = {
        "live": live,
        "upcoming": upcoming,
        "past": past,
        "weeks": calendar.month_grid(year, month, in_month),
        "year": year,
        "month": month,
        "month_name": MONTH_NAMES[month - 1],
        "previous_month": f"{before[0]}-{before[1]:02d}",
        "next_month": f"{after[0]}-{after[1]:02d}",
        "kinds": _kinds(),
        "boards": await boards.list_boards(actor),
        "kind": kind.value if kind else "",
        "board": board or "",
        "can_create": any(can_moderate(actor, b.id) for b in await boards.list_boards(actor)),
        **_labels(),
    }
    return render(request, "live/calendar.html", context)


async def session_page(request: Request) -> Response:
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    experts, moderators = await sessions.load_staff(session)
    staff = await sessions.staff_rows(session)
    join_url = f"{_site(request)}/j/{session.join_code}"
    over = calendar.is_over(session)
    context: dict[str, Any] = {
        "session": session,
        "description_html": await render_markdown_async(session.description)
        if session.description
        else "",
        "experts": experts,
        "moderators": moderators,
        "join_url": join_url,
        "qr": qr_svg(join_url, title=_("参加用リンクのQRコード")),
        "children": await sessions.list_sessions(actor, sessions.SessionFilter(parent=session.id)),
        "can_run": sessions.can_run(actor, session, staff),
        "can_console": questionboard.can_console(actor, session, staff),
        "following": await follow.is_following(request.state.user, session),
        "qa": await archive.load_qa(session) if over else [],
        "over": over,
        "done": query(request, "done", DONE, ""),
        "channel": sessions.channel_of(session),
        "seq": await sessions.channel_seq(session),
        **await _metrics_context(request, actor, session),
        "handouts": await sessions.handouts(session),
        **_labels(),
    }
    return render(request, "live/session.html", context)


def seconds_label(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return _("{s}秒").format(s=whole)
    return _("{m}分{s}秒").format(m=whole // 60, s=whole % 60)


async def _metrics_context(request: Request, actor: Actor, session: LiveSession) -> dict[str, Any]:
    """The moderation figures, for the moderators of the session's board only."""
    source = figures_source(request)
    if source is None or not metrics.can_see_metrics(actor, session):
        return {"metrics": None}
    found = await metrics.session_metrics(actor, session, source)
    minutes = found.figures.minutes
    labels = [m.start.astimezone(JST).strftime("%H:%M") for m in minutes]
    chart = bar_chart(
        labels,
        [("approved", [m.approved for m in minutes]), ("rejected", [m.rejected for m in minutes])],
        titles=[
            _("{time} — 承認 {approved}件・却下 {rejected}件").format(
                time=label, approved=m.approved, rejected=m.rejected
            )
            for label, m in zip(labels, minutes, strict=True)
        ],
        y_title=_("質問数"),
    )
    return {
        "metrics": found.figures,
        "metrics_chart": chart,
        "metrics_rows": list(zip(labels, minutes, strict=True)),
        "median_label": seconds_label(found.figures.median_seconds),
        "p90_label": seconds_label(found.figures.p90_seconds),
    }


async def qr_code(request: Request) -> Response:
    session = await sessions.get_session(actor_of(request), path_id(request))
    join_url = f"{_site(request)}/j/{session.join_code}"
    svg = qr_svg(join_url, title=_("参加用リンクのQRコード"))
    return Response(svg, media_type="image/svg+xml; charset=utf-8")


async def join(request: Request) -> Response:
    session = await sessions.session_by_code(actor_of(request), str(request.path_params["code"]))
    thread_path = f"/t/{session.thread.id}"
    if request.state.user is not None:
        return redirect(thread_path)
    context = {
        "session": session,
        "login_url": "/login?next=" + quote(thread_path, safe="/"),
        "register_url": "/register?next="
        + quote(thread_path, safe="/")
        + "&join="
        + quote(session.join_code),
        **_labels(),
    }
    return render(request, "live/join.html", context)


# --- feeds and exports ----------------------------------------------------------------------


def _ics(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def programme_feed(request: Request) -> Response:
    actor = actor_of(request)
    since = datetime.now(UTC) - timedelta(days=90)
    rows = await sessions.list_sessions(actor, sessions.SessionFilter(starts_from=since, limit=200))
    return _ics(
        calendar.feed(rows, base_url=_site(request), name=_("交流 プログラム")), "koryu.ics"
    )


async def session_feed(request: Request) -> Response:
    session = await sessions.get_session(actor_of(request), path_id(request))
    body = calendar.feed([session], base_url=_site(request), name=session.title)
    return _ics(body, f"session-{session.id}.ics")


async def export_csv(request: Request) -> Response:
    session = await sessions.get_session(actor_of(request), path_id(request))
    body = archive.to_csv(await archive.load_qa(session))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session.id}-qa.csv"'},
    )


async def export_markdown(request: Request) -> Response:
    session = await sessions.get_session(actor_of(request), path_id(request))
    body = archive.to_markdown(session, await archive.load_qa(session))
    return Response(
        body,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session.id}-qa.md"'},
    )


async def report_page(request: Request) -> Response:
    session = await sessions.get_session(actor_of(request), path_id(request))
    items = await archive.load_qa(session)
    figures = await archive.report(session, items)
    experts, _moderators = await sessions.load_staff(session)
    context: dict[str, Any] = {
        "session": session,
        "report": figures,
        "experts": experts,
        **_labels(),
    }
    return render(request, "live/report.html", context)


# --- the organiser's forms ------------------------------------------------------------------

FORM_FIELDS = (
    "title",
    "kind",
    "board",
    "description",
    "starts_at",
    "ends_at",
    "venue",
    "url",
    "parent",
    "experts",
    "moderators",
    "slow_mode_seconds",
)


# What each field may hold. A form the page renders stays within these; a longer value or an
# unknown kind comes from a crafted request and is refused before anything reaches the database.
# The numbers are read as text here and as numbers in ``_form_fields``, where a wrong one is
# shown on the form again.
_NAMES = Text(max_length=MAX_STAFF * 40)
_NUMBER = Text(max_length=12)
FORM_SPECS: dict[str, Spec] = {
    "title": Text(max_length=MAX_TITLE),
    "kind": inputs.KIND,
    "board": SLUG,
    "description": Text(max_length=MAX_DESCRIPTION),
    "starts_at": TIME,
    "ends_at": TIME,
    "venue": Text(max_length=MAX_VENUE),
    "url": Text(max_length=MAX_URL),
    "parent": _NUMBER,
    "experts": _NAMES,
    "moderators": _NAMES,
    "slow_mode_seconds": _NUMBER,
}


def _local(value: datetime | None) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M") if value else ""


def _form_fields(form: dict[str, str], *, creating: bool) -> sessions.SessionFields:
    errors: dict[str, str] = {}
    times: dict[str, datetime | None] = {}
    for name in ("starts_at", "ends_at"):
        times[name] = parse_time(form[name]) if form[name] else None
        if form[name] and times[name] is None:
            errors[name] = _("日時の形式が正しくありません。")
    parent: int | None = None
    seconds = 0
    try:
        parent = PARENT.from_string(form["parent"]) if form["parent"] else None
    except Invalid:
        errors["parent"] = _("親のイベントが見つかりません。")
    try:
        seconds = (
            SLOW_MODE.from_string(form["slow_mode_seconds"]) if form["slow_mode_seconds"] else 0
        )
    except Invalid:
        errors["slow_mode_seconds"] = _("0〜3,600秒の整数で入力してください。")
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    return sessions.SessionFields(
        title=form["title"],
        kind=form["kind"],
        description=form["description"],
        board=form["board"] if creating else None,
        starts_at=times["starts_at"],
        ends_at=times["ends_at"],
        venue=form["venue"],
        url=form["url"],
        parent=parent,
        clear_parent=parent is None,
        experts=usernames(form["experts"]),
        moderators=usernames(form["moderators"]),
        premoderate=form["premoderate"] == "1",
        slow_mode_seconds=seconds,
    )


async def _editor(
    request: Request,
    *,
    form: dict[str, str],
    session_id: int | None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    handouts: list[dict[str, Any]] | None = None,
) -> Response:
    actor = actor_of(request)
    moderated = [b for b in await boards.list_boards(actor) if can_moderate(actor, b.id)]
    parents = await sessions.list_sessions(
        actor, sessions.SessionFilter(kind=SessionKind.FORUM, limit=100)
    )
    context: dict[str, Any] = {
        "form": form,
        "errors": errors or {},
        "session_id": session_id,
        "boards": moderated,
        "parents": [p for p in parents if p.id != session_id],
        "kinds": _kinds(),
        "handouts": handouts or [],
        **_labels(),
    }
    return render(request, "live/edit.html", context, status_code=status_code)


async def new_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    start = (
        (datetime.now(UTC) + timedelta(days=7))
        .astimezone(JST)
        .replace(hour=13, minute=0, second=0, microsecond=0)
    )
    form = dict.fromkeys(FORM_FIELDS, "")
    form.update(
        kind="breakout",
        board=query(request, "board", SLUG, ""),
        starts_at=_local(start),
        ends_at=_local(start + timedelta(minutes=90)),
        premoderate="1",
        slow_mode_seconds="30",
    )
    return await _editor(request, form=form, session_id=None)


def _kept(form: FormData) -> dict[str, str]:
    """The form's fields, each within its bounds (400 ``bad_form`` if not), to parse or show again."""
    kept = {name: form_value(form, name, FORM_SPECS[name], "") for name in FORM_FIELDS}
    kept["premoderate"] = "1" if form_value(form, "premoderate", Flag(), False) else ""
    return kept


async def create(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _create(request, form)
    finally:
        await form.close()  # the handouts sent with it, spooled to temporary files


async def _create(request: Request, form: FormData) -> Response:
    require_user(request)
    kept = _kept(form)
    try:
        session = await sessions.create_session(
            actor_of(request), _form_fields(kept, creating=True)
        )
    except ValidationFailed as exc:
        return await _editor(
            request, form=kept, session_id=None, errors=exc.fields, status_code=422
        )
    try:
        files = await attached_files(request, form)
        await sessions.set_handouts(actor_of(request), session, files, gate=gate_of(request))
    except ValidationFailed as exc:
        # The session stands; the handouts are what to fix, on its own edit page.
        return await _editor(
            request,
            form=kept,
            session_id=session.id,
            errors=exc.fields or {"files": exc.message},
            status_code=422,
        )
    return redirect(f"/sessions/{session.id}?done=created")


async def edit_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    sessions.check_run(actor, session, await sessions.staff_rows(session))
    experts, moderators = await sessions.load_staff(session)
    form = {
        "title": session.title,
        "kind": session.kind.value,
        "board": session.board.slug,
        "description": session.description,
        "starts_at": _local(session.starts_at),
        "ends_at": _local(session.ends_at),
        "venue": session.venue,
        "url": session.url,
        "parent": str(session.parent_id or ""),  # type: ignore[attr-defined]
        "experts": " ".join(u.username for u in experts),
        "moderators": " ".join(u.username for u in moderators),
        "premoderate": "1" if session.premoderate else "",
        "slow_mode_seconds": str(session.slow_mode_seconds),
    }
    return await _editor(
        request, form=form, session_id=session.id, handouts=await sessions.handouts(session)
    )


async def update(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _update(request, form)
    finally:
        await form.close()


async def _update(request: Request, form: FormData) -> Response:
    require_user(request)
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    kept = _kept(form)
    kept["board"] = session.board.slug
    try:
        await sessions.update_session(actor, session, _form_fields(kept, creating=False))
        files = await attached_files(request, form)
        await sessions.set_handouts(actor, session, files, gate=gate_of(request))
    except ValidationFailed as exc:
        return await _editor(
            request,
            form=kept,
            session_id=session.id,
            errors=exc.fields or {"files": exc.message},
            status_code=422,
            handouts=await sessions.handouts(session),
        )
    return redirect(f"/sessions/{session.id}?done=saved")


async def control(request: Request) -> Response:
    """The start / end buttons and following, posted as forms."""
    form = await read_form(request)
    user = require_user(request)
    actor = actor_of(request)
    session = await sessions.get_session(actor, path_id(request))
    action = field(form, "action")
    try:
        if action == "start":
            await transitions.start_session(actor, session.id)
        elif action == "end":
            await transitions.end_session(actor, session.id)
        elif action in ("follow", "unfollow"):
            await follow.set_following(user, session, on=action == "follow")
        else:
            raise ValidationFailed(_("操作を選んでください。"))
    except Conflict:
        pass  # the clock or another organiser moved it first: the page shows where it is
    return redirect(f"/sessions/{session.id}?done={quote(action)}")


async def home_panel(request: Request) -> tuple[str, dict[str, Any]]:
    """What the home page shows of the programme: live now and next."""
    actor = actor_of(request)
    live = await sessions.list_sessions(
        actor, sessions.SessionFilter(states=(SessionState.LIVE,), limit=5)
    )
    upcoming = await sessions.list_sessions(
        actor, sessions.SessionFilter(states=(SessionState.SCHEDULED,), limit=3)
    )
    return "live/_home.html", {"live_now": live, "live_next": upcoming, **_labels()}


def routes() -> list[BaseRoute]:
    return [
        Route("/sessions", calendar_page, methods=["GET"]),
        Route("/sessions.ics", programme_feed, methods=["GET"]),
        Route("/sessions/new", new_form, methods=["GET"]),
        Route("/sessions/new", create, methods=["POST"]),
        # Before /sessions/{id}, which would take "5.ics" for an id.
        Route("/sessions/{id}.ics", session_feed, methods=["GET"]),
        Route("/sessions/{id}", session_page, methods=["GET"]),
        Route("/sessions/{id}/qr.svg", qr_code, methods=["GET"]),
        Route("/sessions/{id}/edit", edit_form, methods=["GET"]),
        Route("/sessions/{id}/edit", update, methods=["POST"]),
        Route("/sessions/{id}/control", control, methods=["POST"]),
        Route("/sessions/{id}/export.csv", export_csv, methods=["GET"]),
        Route("/sessions/{id}/export.md", export_markdown, methods=["GET"]),
        Route("/sessions/{id}/report", report_page, methods=["GET"]),
        Route("/j/{code}", join, methods=["GET"]),
    ]
