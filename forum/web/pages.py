"""HTML pages: parse the request, call a domain action, render a template. No domain logic here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from forum import (
    accounts,
    boards,
    cases,
    events,
    follows,
    i18n,
    outbox,
    posts,
    reading,
    restrictions,
    threads,
)
from forum.errors import Forbidden, ForumError, NotFound, RateLimited, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Board, FollowLevel, Post, PostKind, PostStatus, Thread, User
from forum.permissions import (
    can_edit_post,
    can_moderate,
    can_post_in,
    can_see_author,
    can_start_thread,
)
from forum.threadreads import ThreadReads
from forum.views import ViewCounter
from forum.web import pagecache
from forum.web.api import AFTER
from forum.web.attachments import attached_files
from forum.web.common import actor_of, csrf_token, gate_of, rate_limit, require_user
from forum.web.forms import field, form_value, login_redirect, read_form, redirect
from forum.web.params import CURSOR, path_id, path_slug, path_username, query
from forum.web.parsers import ID
from forum.web.templating import render, render_html

__all__ = ["error_page", "routes"]

POSTS_PER_PAGE = 50


def error_page(request: Request, exc: ForumError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return render(
        request,
        "error.html",
        {"error": exc, "status": exc.status, "path": request.url.path},
        status_code=exc.status,
        headers=headers,
    )


# --- browsing -----------------------------------------------------------------------------


async def home(request: Request) -> Response:
    actor = actor_of(request)
    # Other packages' sections of the home page (the programme's live now and next), named
    # by forum.app: each gives a template to include and its context.
    panels = [await panel(request) for panel in getattr(request.app.state, "home_panels", ())]
    featured, recent = await threads.featured_threads(actor), await threads.recent_threads(actor)
    return render(
        request,
        "forum/home.html",
        {
            "featured": featured,
            "cases": await cases.recent_cases(),
            "recent": recent,
            "boards": await boards.list_boards(actor),
            "panels": panels,
        },
    )


async def board_list(request: Request) -> Response:
    return render(
        request, "forum/boards.html", {"boards": await boards.list_boards(actor_of(request))}
    )


async def board_page(request: Request) -> Response:
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    cursor = query(request, "cursor", CURSOR, None)
    page = await threads.list_threads(actor, board, cursor=cursor)
    return render(
        request,
        "forum/board.html",
        {
            "board": board,
            "threads": page.threads,
            "next_cursor": page.next_cursor,
            "paged": cursor is not None,
            "can_start": can_start_thread(actor, board),
            "follow": await _board_follow(request, board),
            "silence": await restrictions.silence_of(request.state.user),
        },
    )


# --- following ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowControl:
    """The follow form of a thread or board page: where it posts, the choices, the current."""

    action: str
    choices: list[tuple[str, str]]
    current: str
    note: str


def _follow_control(
    action: str, own: FollowLevel | None, on_board: FollowLevel | None, *, of_thread: bool
) -> FollowControl:
    names = {
        FollowLevel.WATCHING: _("ウォッチ（新しい投稿ごとにお知らせ）"),
        FollowLevel.TRACKING: _("追跡（未読数のみ）"),
        FollowLevel.MUTED: _("ミュート"),
    }
    unset = _("掲示板の設定に従う") if of_thread else _("フォローしない")
    choices = [("none", unset), *((level.value, name) for level, name in names.items())]
    note = ""
    if of_thread and own is None and on_board is not None:
        note = _("掲示板の設定：{level}").format(level=names[on_board])
    return FollowControl(action, choices, own.value if own else "none", note)


async def _board_follow(request: Request, board: Board) -> FollowControl | None:
    user: User | None = request.state.user
    if user is None:
        return None
    _own, on_board = await follows.levels_on_page(user, board=board)
    return _follow_control(f"/b/{board.slug}/follow", on_board, None, of_thread=False)


async def follow_thread(request: Request) -> Response:
    form = await read_form(request)
    user = require_user(request)
    thread, _board = await threads.get_thread(actor_of(request), path_id(request))
    await follows.set_thread_level(user, thread, follows.parse_level(field(form, "level")))
    return redirect(f"/t/{thread.id}")


async def follow_board(request: Request) -> Response:
    form = await read_form(request)
    user = require_user(request)
    board = await boards.get_board(actor_of(request), path_slug(request))
    await follows.set_board_level(user, board, follows.parse_level(field(form, "level")))
    return redirect(f"/b/{board.slug}")


# --- new thread ---------------------------------------------------------------------------


async def new_thread_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    if not can_start_thread(actor, board):
        raise Forbidden(_("この掲示板にはスレッドを作成できません。"))
    return render(request, "forum/new_thread.html", {"board": board})


async def new_thread(request: Request) -> Response:
    form = await read_form(request)
    user = require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    title, body = field(form, "title"), field(form, "body")
    rate_limit(request, "post", str(user.id))
    try:
        started = await threads.create_thread(
            actor, board, threads.NewThread(title=title, body=body), gate=gate_of(request)
        )
    except ValidationFailed as exc:
        context = {"board": board, "form": {"title": title, "body": body}, "errors": exc.fields}
        return render(request, "forum/new_thread.html", context, status_code=422)
    return redirect(f"/t/{started.thread_id}" + ("?posted=pending" if started.pending else ""))


# --- a thread and its replies ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostView:
    post: Post
    author: User | None  # None: an anonymous question the viewer may not attribute
    voted: bool = False  # the viewer's vote on a question
    editable: bool = False  # the viewer may edit and delete it (its author, a moderator)

    @property
    def pending(self) -> bool:
        return self.post.status is PostStatus.PENDING

    @property
    def published(self) -> bool:
        return self.post.status is PostStatus.PUBLISHED


def answers_under_questions(rows: list[Post]) -> list[Post]:
    """Posts in order, except that an expert's written answer follows its question (after
    the question's earlier answers) when the question is on the same page; live.js places
    an answer arriving live the same way."""
    on_page = {p.id for p in rows if p.kind is PostKind.QUESTION}
    answers: dict[int, list[Post]] = {}
    for p in rows:
        parent: int | None = p.reply_to_id  # type: ignore[attr-defined]
        if p.kind is PostKind.ANSWER and parent in on_page:
            answers.setdefault(parent, []).append(p)  # type: ignore[arg-type]
    placed: list[Post] = []
    for p in rows:
        if p.kind is PostKind.ANSWER and p.reply_to_id in on_page:  # type: ignore[attr-defined]
            continue
        placed.append(p)
        placed.extend(answers.get(p.id, ()))
    return placed


def _id_query(request: Request, name: str) -> int:
    """An id from the query string (``?quote=``, ``?reply_to=``), 0 when absent."""
    value: int = query(request, name, ID, 0)
    return value


async def _quoted(request: Request, thread: Thread) -> tuple[int | None, str]:
    """The reply a ``?reply_to=`` or ``?quote=`` link starts: its parent and pre-filled body."""
    quote_id = _id_query(request, "quote")
    parent_id = quote_id or _id_query(request, "reply_to")
    if not parent_id:
        return None, ""
    try:
        post, parent_thread, _board = await posts.get_post(actor_of(request), parent_id)
    except NotFound:
        return None, ""
    if parent_thread.id != thread.id:
        return None, ""
    if not quote_id:
        return post.id, ""
    lines = post.body.strip().splitlines() or [""]
    return post.id, "\n".join(f"> {line}".rstrip() for line in lines) + "\n\n"


async def _thread_context(
    request: Request,
    thread: Thread,
    board: Board,
    *,
    seq: int,
    last_read: int | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What thread.html shows; ``seq`` is read before the posts, so the page is never older.

    ``last_read`` is the signed-in reader's position: the first post past it is marked."""
    actor = actor_of(request)
    after: int = query(request, "after", AFTER, 0)
    rows = await posts.list_posts(actor, thread, board, after=after, limit=POSTS_PER_PAGE + 1)
    more = len(rows) > POSTS_PER_PAGE
    rows = rows[:POSTS_PER_PAGE]
    voted = await posts.voted_questions(actor, rows)
    views = [
        PostView(
            p,
            p.author if can_see_author(actor, p, board.id) else None,
            p.id in voted,
            can_edit_post(actor, p, board.id),
        )
        for p in answers_under_questions(rows)
    ]
    shown = [(p.id, p.author_id) for p in rows if p.status is PostStatus.PUBLISHED]  # type: ignore[attr-defined]
    first_unread = reading.first_unread(last_read, shown, actor.id or 0)
    user: User | None = request.state.user
    follow = None
    if user is not None:
        own, on_board = await follows.levels_on_page(user, thread=thread, board=board)
        follow = _follow_control(f"/t/{thread.id}/follow", own, on_board, of_thread=True)
    if form is None:
        reply_to, body = await _quoted(request, thread)
        form = {"body": body, "reply_to": str(reply_to or "")}
    return {
        "thread": thread,
        "board": board,
        "seq": seq,
        "channel": events.thread_channel(thread.id),
        "posts": views,
        "after": after,
        "next_after": rows[-1].id if more and rows else None,
        "first_unread": first_unread,
        # The unread posts start on a later page: the link starts the page there.
        "unread_after": last_read
        if not first_unread and more and rows and last_read is not None and last_read >= rows[-1].id
        else None,
        "can_reply": can_post_in(actor, thread, board),
        "silence": await restrictions.silence_of(request.state.user),
        "can_moderate": can_moderate(actor, board.id),
        # As can_edit_post decides for one's own posts: signed in and not silenced.
        "can_edit_own": actor.user is not None and not actor.is_silenced(),
        "posted_pending": request.query_params.get("posted") == "pending",
        "follow": follow,
        "form": form,
        "errors": errors or {},
    }


async def _thread_page(
    request: Request,
    thread: Thread,
    board: Board,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    seq = await outbox.head(events.thread_channel(thread.id))
    user: User | None = request.state.user
    last_read, known = (None, None) if user is None else await reading.position(user.id, thread.id)
    context = await _thread_context(
        request, thread, board, seq=seq, last_read=last_read, form=form, errors=errors
    )
    if user is not None and context["posts"]:
        # What the user has now seen no longer counts as unread in their thread lists; a
        # page seen before writes nothing.
        last_shown = context["posts"][-1].post.id
        if await reading.mark_read(user.id, thread.id, last_shown, known=known):
            await follows.mark_seen(user, thread, last_shown)
    return render(request, "forum/thread.html", context, status_code=status_code)


# The anonymous page is the same for every visitor but for the CSRF token: cached, see pagecache.
ANONYMOUS_PAGE_HEADERS = {
    # Private: the body holds the visitor's own CSRF token. Revalidated on every view.
    "Cache-Control": "private, no-cache",
    "Vary": "Accept-Language, Cookie",
}


def view_counter(request: Request) -> ViewCounter:
    """The app's batched view counts, written by the app's lifespan (one per app)."""
    counter: ViewCounter = request.app.state.view_counter
    return counter


def _page_cache(request: Request) -> pagecache.PageCache:
    """The app's cache of anonymous pages (one per app: tests make many apps in one process)."""
    state = request.app.state
    cache: pagecache.PageCache | None = getattr(state, "anonymous_page_cache", None)
    if cache is None:
        cache = state.anonymous_page_cache = pagecache.PageCache()
    return cache


def _thread_reads(request: Request) -> ThreadReads | None:
    """The app's remembered thread heads and rows (``forum.threadreads``), if it keeps any."""
    reads = getattr(request.app.state, "thread_reads", None)
    return reads if isinstance(reads, ThreadReads) else None


def _cached_anonymously(request: Request) -> bool:
    return (
        request.method == "GET"
        and request.state.user is None
        and request.query_params.keys() <= {"after"}
    )


async def _anonymous_thread_page(request: Request, thread: Thread, board: Board) -> Response:
    """The page as anyone not signed in sees it, from the cache when the thread has not changed.

    The caller has checked that the visitor may read the thread: that runs on every request.
    """
    channel = events.thread_channel(thread.id)
    reads = _thread_reads(request)
    remembered = reads.head(channel) if reads is not None else None
    seq = remembered if remembered is not None else await outbox.head(channel)
    key = pagecache.ThreadPageKey(
        thread_id=thread.id,
        seq=seq,
        locale=i18n.locale(),
        path=request.url.path,
        query=request.url.query,
        board_slug=board.slug,
        board_title=board.title,
        thread_title=thread.title,
        flags=(thread.pinned, thread.locked, thread.featured, thread.live),
    )
    cache = _page_cache(request)
    page = cache.get(key)
    if page is None and remembered is not None:
        # A page is rendered at the head the database names, never at one remembered.
        seq = await outbox.head(channel)
        key = key._replace(seq=seq)
        page = cache.get(key)
    if page is None:
        context = await _thread_context(request, thread, board, seq=seq)
        context.update(csrf=pagecache.CSRF_PLACEHOLDER, csp_nonce="")
        page = cache.put(key, render_html(request, "forum/thread.html", context).encode())
    token = csrf_token(request)
    headers = {"ETag": page.etag_for(token), **ANONYMOUS_PAGE_HEADERS}
    if pagecache.etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(page.body_for(token), headers=headers)


async def thread_page(request: Request) -> Response:
    # Who may read the thread is decided here, for every request, cached page or not.
    reads = _thread_reads(request) if request.method == "GET" else None
    thread, board = await threads.get_thread(actor_of(request), path_id(request), reads=reads)
    view_counter(request).hit(thread.id)
    if _cached_anonymously(request):
        return await _anonymous_thread_page(request, thread, board)
    return await _thread_page(request, thread, board)


async def reply(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _reply(request, form)
    finally:
        await form.close()  # the files sent with it, spooled to temporary files


async def _reply(request: Request, form: FormData) -> Response:
    user = require_user(request)
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    body, reply_to = field(form, "body"), field(form, "reply_to")
    question = thread.live and field(form, "kind") == "question"
    kept: dict[str, Any] = {"body": body, "reply_to": reply_to, "kind": field(form, "kind")}
    kept["anonymous"] = field(form, "anonymous")
    rate_limit(request, "post", str(user.id))
    try:
        files = await attached_files(request, form)
        kept["attachments"] = list(files)
        draft = posts.Draft(
            body=body,
            kind="question" if question else "post",
            reply_to=form_value(form, "reply_to", ID, None),
            anonymous=question and field(form, "anonymous") == "1",
            attachments=files,
        )
        posted = await posts.create_post(actor, thread, board, draft, gate=gate_of(request))
    except ValidationFailed as exc:
        errors = exc.fields or {"files": exc.message}
        return await _thread_page(request, thread, board, form=kept, errors=errors, status_code=422)
    notice = "?posted=pending" if posted.status is PostStatus.PENDING else ""
    return redirect(f"/t/{thread.id}{notice}#post-{posted.post_id}")


async def vote(request: Request) -> Response:
    """Vote for a question (``up=1``) or take the vote back (``up=0``); PUT is not for forms."""
    form = await read_form(request)
    require_user(request)
    actor = actor_of(request)
    thread_id, post_id = path_id(request), path_id(request, "post_id")
    _post, thread, _board = await posts.get_post(actor, post_id)
    if thread.id != thread_id:
        raise NotFound(_("投稿が見つかりません。"))
    await posts.set_vote(actor, post_id, up=field(form, "up") != "0")
    after = form_value(form, "after", AFTER, None)
    page = "" if after is None else f"?after={after}"
    return redirect(f"/t/{thread_id}{page}#post-{post_id}")


async def mark_read(request: Request) -> Response:
    """A reader's page saw posts that arrived live: live.js reports the last one it showed
    (a debounced beacon), and the read position moves forward to it, never back."""
    form = await read_form(request)
    user = require_user(request)
    thread, _board = await threads.get_thread(actor_of(request), path_id(request))
    post_id: int = form_value(form, "post_id", ID, 0)
    await reading.mark_read_upto(user.id, thread.id, post_id)
    return Response(status_code=204)


# --- people -------------------------------------------------------------------------------


async def profile(request: Request) -> Response:
    person = await accounts.get_user(path_username(request))
    recent = await posts.recent_posts_by(actor_of(request), person)
    return render(request, "forum/profile.html", {"person": person, "recent": recent})


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, methods=["GET"], name="home"),
        Route("/boards", board_list, methods=["GET"], name="boards"),
        Route("/b/{slug}", board_page, methods=["GET"], name="board"),
        Route("/b/{slug}/new", new_thread_form, methods=["GET"], name="new_thread"),
        Route("/b/{slug}/new", new_thread, methods=["POST"]),
        Route("/t/{id}", thread_page, methods=["GET"], name="thread"),
        Route("/t/{id}/reply", reply, methods=["POST"], name="reply"),
        Route("/t/{id}/follow", follow_thread, methods=["POST"], name="follow_thread"),
        Route("/b/{slug}/follow", follow_board, methods=["POST"], name="follow_board"),
        Route("/t/{id}/read", mark_read, methods=["POST"], name="mark_read"),
        Route("/t/{id}/posts/{post_id}/vote", vote, methods=["POST"], name="vote"),
        Route("/u/{username}", profile, methods=["GET"], name="profile"),
    ]
