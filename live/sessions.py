"""Sessions of the programme: create, change, read and list; each owns its live thread."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q

from forum import events, outbox
from forum.errors import Forbidden, NotFound, ValidationFailed
from forum.gate import Gatekeeper, OpenGate, Verdict
from forum.i18n import gettext as _
from forum.models import Board, Post, PostStatus, Thread, User
from forum.permissions import Actor, can_moderate, can_read_board
from forum.posts import Draft, edit_post, write_post
from forum.render import render_markdown_async
from forum.resources import iso, thread_resource, user_resource
from live.models import LiveSession, SessionKind, SessionStaff, SessionState, StaffRole

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_SLOW_MODE",
    "MAX_TITLE",
    "MAX_URL",
    "MAX_VENUE",
    "SessionFields",
    "SessionFilter",
    "board_of_session",
    "can_run",
    "channel_of",
    "channel_seq",
    "check_run",
    "create_session",
    "get_session",
    "join_allowance_key",
    "list_sessions",
    "load_staff",
    "session_by_code",
    "session_changed",
    "session_resource",
    "session_resources",
    "staff_rows",
    "update_session",
]

MAX_TITLE = 120
MAX_DESCRIPTION = 20_000
MAX_VENUE = 200
MAX_URL = 500
MAX_SLOW_MODE = 3600
MAX_LENGTH = timedelta(days=7)
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud from a slide
_CODE_LENGTH = 8
_MAX_SLUG = 40  # forum.models.Board.slug
_MAX_USERNAME = 32  # forum.models.User.username
_MAX_ID = 2**31 - 1  # integer ids, 32-bit on PostgreSQL


@dataclass(frozen=True, slots=True)
class SessionFields:
    """What the organiser sends; None leaves a field as it is when changing a session."""

    title: str | None = None
    kind: str | None = None
    description: str | None = None
    board: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue: str | None = None
    url: str | None = None
    parent: int | None = None
    experts: Sequence[str] | None = None
    moderators: Sequence[str] | None = None
    premoderate: bool | None = None
    slow_mode_seconds: int | None = None
    clear_parent: bool = False


@dataclass(frozen=True, slots=True)
class SessionFilter:
    states: Sequence[SessionState] = ()
    kind: SessionKind | None = None
    board: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    parent: int | None = None
    limit: int = 100
    newest_first: bool = False


@dataclass
class _Staff:
    experts: list[User] = field(default_factory=list)
    moderators: list[User] = field(default_factory=list)


def _invalid(fields: dict[str, str]) -> ValidationFailed:
    return ValidationFailed(_("入力内容を確認してください。"), fields=fields)


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))


def can_run(actor: Actor, session: LiveSession, staff: Sequence[SessionStaff] = ()) -> bool:
    """The organiser, the board's moderators and the session's own moderators run it."""
    if actor.id is None:
        return False
    if actor.id == session.organiser_id or can_moderate(actor, session.board_id):  # type: ignore[attr-defined]
        return True
    return any(
        s.user_id == actor.id and s.role is StaffRole.MODERATOR  # type: ignore[attr-defined]
        for s in staff
    )


def check_run(actor: Actor, session: LiveSession, staff: Sequence[SessionStaff]) -> None:
    if not can_run(actor, session, staff):
        raise Forbidden(_("このイベントを編集する権限がありません。"))


async def staff_rows(session: LiveSession) -> list[SessionStaff]:
    return await SessionStaff.filter(session_id=session.id)


def channel_of(session: LiveSession) -> str:
    return events.session_channel(session.id)


async def channel_seq(session: LiveSession) -> int:
    return await outbox.head(events.session_channel(session.id))


def _check_text(errors: dict[str, str], name: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        errors[name] = _("{limit}文字以内で入力してください。").format(limit=limit)


def _check(data: SessionFields, *, creating: bool, current: LiveSession | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.title is not None or creating:
        title = (data.title or "").strip()
        if not 1 <= len(title) <= MAX_TITLE:
            errors["title"] = _("タイトルは1〜120文字で入力してください。")
    if (data.kind is not None or creating) and data.kind not in {k.value for k in SessionKind}:
        errors["kind"] = _("種別を一覧から選んでください。")
    if creating and not data.board:
        errors["board"] = _("掲示板を指定してください。")
    _check_text(errors, "description", data.description, MAX_DESCRIPTION)
    _check_text(errors, "venue", data.venue, MAX_VENUE)
    _check_text(errors, "url", data.url, MAX_URL)
    if data.url and not data.url.startswith(("https://", "http://")):
        errors["url"] = _("URL は http:// か https:// で始めてください。")
    starts = data.starts_at or (current.starts_at if current else None)
    ends = data.ends_at or (current.ends_at if current else None)
    if starts is None:
        errors["starts_at"] = _("開始日時を指定してください。")
    if ends is None:
        errors["ends_at"] = _("終了日時を指定してください。")
    if starts is not None and ends is not None and not starts < ends <= starts + MAX_LENGTH:
        errors["ends_at"] = _("終了日時は開始日時より後、7日以内にしてください。")
    seconds = data.slow_mode_seconds
    if seconds is not None and not 0 <= seconds <= MAX_SLOW_MODE:
        errors["slow_mode_seconds"] = _("0〜3,600秒の整数で入力してください。")
    return errors


async def _users(
    names: Sequence[str] | None, field_name: str, errors: dict[str, str]
) -> list[User]:
    if not names:
        return []
    wanted = list(dict.fromkeys(n.strip().lower() for n in names if n.strip()))
    # A name longer than the column, or with a NUL, names nobody: not looked up (the
    # database would refuse the query).
    found = {
        u.username: u
        for u in await User.filter(username__in=[n for n in wanted if _storable(n, _MAX_USERNAME)])
    }
    missing = [n for n in wanted if n not in found]
    if missing:
        errors[field_name] = _("見つからないユーザー：{names}").format(names=", ".join(missing))
    return [found[n] for n in wanted if n in found]


async def _parent(parent_id: int | None, errors: dict[str, str]) -> LiveSession | None:
    if parent_id is None:
        return None
    in_range = 1 <= parent_id <= _MAX_ID  # past the id column no row can be, nor be asked for
    parent = await LiveSession.get_or_none(id=parent_id) if in_range else None
    if parent is None:
        errors["parent"] = _("親のイベントが見つかりません。")
    elif parent.parent_id is not None:  # type: ignore[attr-defined]
        errors["parent"] = _("分科会の下にさらにイベントは置けません。")
    return parent


def _storable(value: str, limit: int) -> bool:
    return len(value) <= limit and "\x00" not in value


async def _board(actor: Actor, slug: str) -> Board:
    board = await Board.get_or_none(slug=slug) if _storable(slug, _MAX_SLUG) else None
    if board is None or not can_read_board(actor, board):
        raise _invalid({"board": _("掲示板が見つかりません。")})
    return board


async def create_session(actor: Actor, data: SessionFields) -> LiveSession:
    """Check, then write the session, its live thread with the programme note as its first
    post, and its staff in one transaction."""
    if actor.user is None:
        raise Forbidden(_("ログインしてください。"), code="login_required")
    errors = _check(data, creating=True, current=None)
    board = await _board(actor, data.board) if data.board else None
    if board is not None and not can_moderate(actor, board.id):
        raise Forbidden(_("イベントを作成できるのは、この掲示板のモデレーターだけです。"))
    experts = await _users(data.experts, "experts", errors)
    moderators = await _users(data.moderators, "moderators", errors)
    await _parent(data.parent, errors)
    if errors:
        raise _invalid(errors)
    assert board is not None and data.starts_at is not None and data.ends_at is not None
    title = (data.title or "").strip()
    description = data.description or ""
    opening = description.strip() or title
    html = await render_markdown_async(opening)
    async with outbox.atomic() as tx:
        thread = await Thread.create(
            board_id=board.id, author_id=actor.user.id, title=title, using_db=tx.conn
        )
        # The programme note opens the thread, so the thread is public from the start.
        draft = Draft(body=opening)
        await write_post(
            tx, actor, thread, board, draft, Verdict(PostStatus.PUBLISHED), OpenGate(), html=html
        )
        await Board.filter(id=board.id).using_db(tx.conn).update(thread_count=F("thread_count") + 1)
        session = await LiveSession.create(
            title=title,
            kind=SessionKind(data.kind or SessionKind.OTHER.value),
            description=description,
            board_id=board.id,
            thread_id=thread.id,
            organiser_id=actor.user.id,
            parent_id=data.parent,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            venue=(data.venue or "").strip(),
            url=(data.url or "").strip(),
            join_code=_new_code(),
            premoderate=True if data.premoderate is None else data.premoderate,
            slow_mode_seconds=30 if data.slow_mode_seconds is None else data.slow_mode_seconds,
            using_db=tx.conn,
        )
        await _write_staff(tx, session, experts, moderators)
        tx.emit(events.session_updated(session_changed(session)))
    return session


async def _write_staff(
    tx: outbox.Tx, session: LiveSession, experts: list[User], moderators: list[User]
) -> None:
    await SessionStaff.filter(session_id=session.id).using_db(tx.conn).delete()
    rows = [(u, StaffRole.EXPERT) for u in experts]
    rows += [(u, StaffRole.MODERATOR) for u in moderators if u not in experts]
    for user, role in rows:
        await SessionStaff.create(
            session_id=session.id, user_id=user.id, role=role, using_db=tx.conn
        )


async def update_session(actor: Actor, session: LiveSession, data: SessionFields) -> LiveSession:
    check_run(actor, session, await staff_rows(session))
    errors = _check(data, creating=False, current=session)
    if data.board is not None:
        errors["board"] = _("イベントの掲示板は変更できません。")
    experts = await _users(data.experts, "experts", errors)
    moderators = await _users(data.moderators, "moderators", errors)
    if data.parent is not None and data.parent == session.id:
        errors["parent"] = _("自分自身を親にはできません。")
    await _parent(data.parent, errors)
    if errors:
        raise _invalid(errors)
    wanted: dict[str, Any] = {}
    for name in ("description", "starts_at", "ends_at", "premoderate", "slow_mode_seconds"):
        value = getattr(data, name)
        if value is not None:
            wanted[name] = value
    for name in ("title", "venue", "url"):
        value = getattr(data, name)
        if value is not None:
            wanted[name] = value.strip()
    if data.kind is not None:
        wanted["kind"] = SessionKind(data.kind)
    if data.parent is not None:
        wanted["parent_id"] = data.parent
    elif data.clear_parent:
        wanted["parent_id"] = None
    async with outbox.atomic() as tx:
        if wanted:
            session.update_from_dict(wanted)
            await session.save(update_fields=list(wanted), using_db=tx.conn)
        if data.experts is not None or data.moderators is not None:
            current = await _staff_of(session)
            await _write_staff(
                tx,
                session,
                experts if data.experts is not None else current.experts,
                moderators if data.moderators is not None else current.moderators,
            )
        thread = await Thread.get(id=session.thread_id, using_db=tx.conn)  # type: ignore[attr-defined]
        if "title" in wanted and thread.title != wanted["title"]:
            # The live thread carries the session's title; its viewers see the change too.
            thread.title = wanted["title"]
            await thread.save(update_fields=["title"], using_db=tx.conn)
            board = await Board.get(id=session.board_id, using_db=tx.conn)  # type: ignore[attr-defined]
            tx.emit(*events.thread_updated(thread, board.slug, {"title": thread.title}))
        tx.emit(events.session_updated(session_changed(session)))
    return session


async def get_session(actor: Actor, session_id: int) -> LiveSession:
    session = await LiveSession.get_or_none(id=session_id).select_related(
        "board", "thread", "organiser"
    )
    if session is None or not can_read_board(actor, session.board):
        raise NotFound(_("イベントが見つかりません。"))
    return session


async def _opening_post(session: LiveSession) -> Post | None:
    return (
        await Post.filter(thread_id=session.thread_id)  # type: ignore[attr-defined]
        .order_by("id")
        .first()
    )


async def handouts(session: LiveSession) -> list[dict[str, Any]]:
    """A session's handouts: the files of the programme note that opens its thread, so they
    are served to whoever may read that thread."""
    opening = await _opening_post(session)
    return list(opening.attachments or []) if opening is not None else []


async def set_handouts(
    actor: Actor, session: LiveSession, ids: Sequence[int], *, gate: Gatekeeper
) -> None:
    """Make ``ids`` the handouts (the organiser's or a board moderator's to change, as the
    note is theirs to edit); nothing to do when they are the ones it has."""
    opening = await _opening_post(session)
    if opening is None:
        return
    if [int(item["id"]) for item in opening.attachments or []] == list(ids):
        return
    await edit_post(actor, opening.id, opening.body, gate=gate, attachments=ids)


async def session_by_code(actor: Actor, code: str) -> LiveSession:
    if not (code.isascii() and code.isalnum() and len(code) <= 16):
        raise NotFound(_("イベントが見つかりません。"))
    session = await LiveSession.get_or_none(join_code=code.lower()).select_related(
        "board", "thread", "organiser"
    )
    if session is None or not can_read_board(actor, session.board):
        raise NotFound(_("イベントが見つかりません。"))
    return session


async def board_of_session(session_id: int) -> Board | None:
    """For ``forum.channels``: a session's channel is readable by whoever reads its board."""
    session = await LiveSession.get_or_none(id=session_id).select_related("board")
    return session.board if session else None


async def list_sessions(actor: Actor, query: SessionFilter) -> list[LiveSession]:
    rows = LiveSession.filter(board__private=False) if not actor.is_site_moderator else None
    base = rows if rows is not None else LiveSession.all()
    if actor.board_roles and rows is not None:
        base = LiveSession.filter(Q(board__private=False) | Q(board_id__in=list(actor.board_roles)))
    if query.states:
        base = base.filter(state__in=list(query.states))
    if query.kind is not None:
        base = base.filter(kind=query.kind)
    if query.board:
        base = base.filter(board__slug=query.board)
    if query.starts_from is not None:
        base = base.filter(starts_at__gte=query.starts_from)
    if query.starts_before is not None:
        base = base.filter(starts_at__lt=query.starts_before)
    if query.parent is not None:
        base = base.filter(parent_id=query.parent)
    order = ("-starts_at", "-id") if query.newest_first else ("starts_at", "id")
    return (
        await base.order_by(*order)
        .limit(query.limit)
        .select_related("board", "thread", "organiser")
    )


async def _staff_of(session: LiveSession) -> _Staff:
    staff = _Staff()
    for row in await SessionStaff.filter(session_id=session.id).select_related("user"):
        target = staff.experts if row.role is StaffRole.EXPERT else staff.moderators
        target.append(row.user)
    return staff


async def load_staff(session: LiveSession) -> tuple[list[User], list[User]]:
    """The session's experts and its moderators, in the order they were named."""
    staff = await _staff_of(session)
    return staff.experts, staff.moderators


def session_changed(session: LiveSession) -> events.SessionChanged:
    return events.SessionChanged(
        id=session.id,
        title=session.title,
        state=session.state.value,
        starts_at=iso(session.starts_at),
        ends_at=iso(session.ends_at),
        thread_id=session.thread_id,  # type: ignore[attr-defined]
        premoderate=session.premoderate,
        slow_mode_seconds=session.slow_mode_seconds,
    )


async def session_resource(session: LiveSession, *, base_url: str) -> dict[str, Any]:
    """The API's shape; ``session`` has its board, thread and organiser loaded."""
    return (await session_resources([session], base_url=base_url))[0]


async def session_resources(rows: Sequence[LiveSession], *, base_url: str) -> list[dict[str, Any]]:
    """The API's shape of many sessions (board, thread and organiser loaded) in a fixed
    number of queries: every session's staff in one, every channel head in another."""
    staff: dict[int, _Staff] = {s.id: _Staff() for s in rows}
    if staff:
        named = SessionStaff.filter(session_id__in=list(staff)).select_related("user")
        for row in await named.order_by("id"):
            of = staff[row.session_id]  # type: ignore[attr-defined]
            (of.experts if row.role is StaffRole.EXPERT else of.moderators).append(row.user)
    found = await outbox.heads(
        [events.thread_channel(s.thread.id) for s in rows]
        + [events.session_channel(s.id) for s in rows]
    )
    site = base_url.rstrip("/")
    return [
        {
            "id": session.id,
            "title": session.title,
            "kind": session.kind.value,
            "description": session.description,
            "description_html": await _description_html(session.description),
            "board": session.board.slug,
            "starts_at": iso(session.starts_at),
            "ends_at": iso(session.ends_at),
            "state": session.state.value,
            "venue": session.venue,
            "url": session.url,
            "organiser": user_resource(session.organiser),
            "experts": [user_resource(u) for u in staff[session.id].experts],
            "moderators": [user_resource(u) for u in staff[session.id].moderators],
            "parent": session.parent_id,  # type: ignore[attr-defined]
            "premoderate": session.premoderate,
            "slow_mode_seconds": session.slow_mode_seconds,
            "viewer_peak": session.viewer_peak,
            "started_at": iso(session.started_at),
            "ended_at": iso(session.ended_at),
            "thread": thread_resource(
                session.thread,
                board_slug=session.board.slug,
                seq=found[events.thread_channel(session.thread.id)],
            ),
            "seq": found[events.session_channel(session.id)],
            "join_url": f"{site}/j/{session.join_code}",
        }
        for session in rows
    ]


# Session descriptions change rarely and are read on every listing: their rendering is
# kept per process, keyed by the source itself (so an edit is a new key, never stale).
_DESCRIPTIONS: OrderedDict[str, str] = OrderedDict()
_DESCRIPTIONS_KEPT = 256


async def _description_html(source: str) -> str:
    if not source:
        return ""
    html = _DESCRIPTIONS.get(source)
    if html is None:
        html = await render_markdown_async(source)
        _DESCRIPTIONS[source] = html
        if len(_DESCRIPTIONS) > _DESCRIPTIONS_KEPT:
            _DESCRIPTIONS.popitem(last=False)
    else:
        _DESCRIPTIONS.move_to_end(source)
    return html


async def join_allowance_key(code: str) -> str | None:
    """The sign-up allowance a join link carries: its session's key, while the session is
    not over (an old link brings no allowance of its own)."""
    if not (code.isascii() and code.isalnum() and len(code) <= 16):
        return None
    session = await LiveSession.get_or_none(join_code=code.lower())
    if session is None or session.state in {SessionState.ENDED, SessionState.ARCHIVED}:
        return None
    return f"join-link:{session.id}"
