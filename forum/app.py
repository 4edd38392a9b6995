"""Composition root: settings, database, broker, moderation and the routes, put together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope
from tortoise.contrib.starlette import RegisterTortoise

from forum import accounts, attachments, mail, mailbox, notifications, outbox, restrictions, tallies
from forum import web as forum_web
from forum.channels import ChannelAccess, ForumHub
from forum.config import Settings
from forum.demo import load_demo
from forum.errors import ForumError, NotFound
from forum.gate import Gatekeeper
from forum.i18n import gettext as _
from forum.logins import LoginCache
from forum.ratelimit import RateLimiter
from forum.threadreads import ThreadReads
from forum.views import ViewCounter
from forum.web.middleware import BodyLimitMiddleware, IdentityMiddleware, SecurityHeadersMiddleware
from forum.web.openapi import openapi_route
from forum.web.pages import error_page
from forum.web.responses import JSON, error_response, is_api
from forum.web.socket import SocketShortcut
from live import web as live_web
from live.demo import load_programme
from live.metrics import FiguresSource
from live.queue_scope import QueueSessions
from live.sessions import board_of_session, join_allowance_key
from live.slowmode import SlowModeGate
from live.ticker import run_ticker
from live.written import WrittenAnswerGate
from moderation import web as moderation_web
from moderation.gate import ModerationGate
from moderation.queue import SessionDirectory
from moderation.sanctions import reason_in_force
from moderation.stats import thread_figures
from realtime.backends import create_broker
from realtime.rawsocket import CaptureRawSend
from uploads import web as uploads_web
from uploads.attach import PostAttacher
from uploads.cleanup import clean_uploads
from uploads.intake import Limits
from uploads.storage import Storage, create_storage

__all__ = ["clean_uploads_once", "create_app", "load_demo_content"]

log = logging.getLogger("koryu")
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, *, gate: Gatekeeper | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    accounts.use_password_hasher(settings.password_hasher)
    restrictions.bind(reason_in_force)

    access = ChannelAccess(session_board=board_of_session)
    logins, reads = LoginCache(), ThreadReads()
    hub = ForumHub(create_broker(settings.realtime_broker_url), access, logins=logins, reads=reads)
    storage = create_storage(settings.uploads_url)
    attachments.bind(PostAttacher(settings.uploads_per_post))
    view_counter = ViewCounter()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=settings.tortoise_config()), hub:
            outbox.bind_publisher(hub)
            stop = asyncio.Event()
            pruner = asyncio.create_task(_prune_forever(settings, stop), name="koryu-prune")
            ticker = asyncio.create_task(
                run_ticker(stop, viewers=hub.viewers), name="koryu-sessions"
            )
            tallier = asyncio.create_task(tallies.run_tallies(stop), name="koryu-tallies")
            mailer = _start_mail(settings, stop)
            cleaner = asyncio.create_task(
                _clean_uploads_forever(settings, storage, stop), name="koryu-uploads"
            )
            try:
                yield
            finally:
                # Let a prune in flight finish rather than cancel it mid-statement: a
                # cancelled query keeps running on the driver's thread after the
                # connections close.
                stop.set()
                try:
                    await view_counter.close()
                except Exception:
                    log.exception("writing the last view counts failed")
                # Notices of the last posts are written before the database closes.
                try:
                    async with asyncio.timeout(30):
                        await outbox.settled()
                except TimeoutError:
                    log.warning("notices after the last commits did not finish in time")
                try:
                    async with asyncio.timeout(30):
                        await pruner
                except TimeoutError:
                    log.warning("pruning realtime events did not stop in time")
                try:
                    async with asyncio.timeout(30):
                        await ticker
                except TimeoutError:
                    log.warning("the sessions' clock did not stop in time")
                try:
                    async with asyncio.timeout(30):
                        await cleaner
                except TimeoutError:
                    log.warning("cleaning uploads did not stop in time")
                await storage.close()
                try:
                    async with asyncio.timeout(30):
                        await tallier
                except TimeoutError:
                    log.warning("the vote tallies did not stop in time")
                if mailer is not None:
                    try:
                        async with asyncio.timeout(30):
                            await mailer
                    except TimeoutError:
                        log.warning("the mail worker did not stop in time")
                    mailbox.bind(None)
                outbox.bind_publisher(None)

    async def forum_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ForumError)
        if is_api(request.scope):
            return error_response(request.scope, exc)
        return error_page(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            # Starlette names only the first route of the path; Allow lists them all.
            # The scope has passed through mounts by now: match again from the top.
            top = {**request.scope, "root_path": request.scope.get("app_root_path", "")}
            allow = ", ".join(sorted(allowed_methods(app.router.routes, top)))
            error: ForumError = ForumError(
                _(
                    "このページでは、この操作（{method}）はできません。リンクやボタンから開き直してください。"
                ).format(method=request.method),
                code="method_not_allowed",
            )
            error.status = 405  # type: ignore[misc]
            response = await forum_error(request, error)
            response.headers["Allow"] = allow
            return response
        if exc.status_code == 404:
            error = NotFound(_("ページが見つかりません。"))
        else:
            error = ForumError(str(exc.detail), code=_http_code(exc.status_code))
            error.status = exc.status_code  # type: ignore[misc]
        return await forum_error(request, error)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        message = _("サーバーで問題が起きました。時間をおいてもう一度お試しください。")
        if is_api(request.scope):
            return JSON({"error": {"code": "internal", "message": message}}, status_code=500)
        error = ForumError(message, code="internal")
        error.status = 500  # type: ignore[misc]
        try:
            return error_page(request, error)
        except Exception:
            # The page itself may be what is broken: fall back to plain text.
            return Response(message, status_code=500, media_type="text/plain; charset=utf-8")

    socket_routes = forum_web.socket_routes(hub, access, settings)

    def identify(inner: ASGIApp) -> ASGIApp:
        return IdentityMiddleware(inner, secure_cookies=settings.secure_cookies, logins=logins)

    # The whole route table: each package lists its own routes, composed here.
    app = Starlette(
        routes=[
            Mount(
                "/api/v1",
                routes=[
                    *forum_web.api_routes(),
                    *moderation_web.api_routes(),
                    *live_web.api_routes(),
                    *uploads_web.api_routes(),
                ],
            ),
            openapi_route(
                *forum_web.OPENAPI,
                moderation_web.OPENAPI,
                live_web.OPENAPI,
                uploads_web.OPENAPI,
                forum_web.settings_part(settings),
            ),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
            *socket_routes,
            *uploads_web.file_routes(),
            *moderation_web.page_routes(),
            *live_web.page_routes(),
            *forum_web.page_routes(),
        ],
        middleware=[
            # Outermost: fan-out writes pre-built frames to uvicorn's own transport.
            Middleware(CaptureRawSend),
            # An idle socket keeps every layer it passed suspended: it skips the HTTP ones.
            Middleware(SocketShortcut, routes=socket_routes, identify=identify),
            Middleware(SecurityHeadersMiddleware),
            Middleware(
                BodyLimitMiddleware,
                max_bytes=settings.max_body_bytes,
                # One file and the form around it (framing, the post's text fields).
                multipart_bytes=settings.upload_max_bytes + 1_000_000,
            ),
            Middleware(IdentityMiddleware, secure_cookies=settings.secure_cookies, logins=logins),
        ],
        exception_handlers={
            ForumError: forum_error,
            HTTPException: http_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.hub = hub
    app.state.uploads = storage
    app.state.upload_limits = Limits(
        max_bytes=settings.upload_max_bytes,
        per_post=settings.uploads_per_post,
        per_day=settings.uploads_per_day,
        bytes_per_day=settings.upload_bytes_per_day,
    )
    # The pages' forms (no JavaScript needed) send files with the post itself.
    app.state.receive_upload = uploads_web.receive_form_file
    app.state.logins = logins
    app.state.thread_reads = reads
    app.state.view_counter = view_counter
    # Typed here so that a gate missing a method of the protocol fails mypy, not a request.
    default_gate: Gatekeeper = WrittenAnswerGate(SlowModeGate(ModerationGate()))
    app.state.gate = gate or default_gate
    app.state.home_panels = [live_web.home_panel]
    # The queue narrowed to a live session: moderation asks live through this, knowing nothing
    # of it.
    queue_sessions: SessionDirectory = QueueSessions()
    app.state.queue_sessions = queue_sessions
    # And the session page's figures come from moderation's queue the same way round.
    session_figures: FiguresSource = thread_figures
    app.state.session_figures = session_figures
    # A session's join link counts its sign-ups against the link, not the hall's one address.
    app.state.join_allowance = join_allowance_key
    app.state.limiters = {
        "login_ip": RateLimiter(settings.login_attempts_per_minute * 3, 60),
        "login_account": RateLimiter(settings.login_attempts_per_minute, 60),
        "register": RateLimiter(settings.registrations_per_hour_per_ip, 3600),
        # Each allowance brings its own limit (RegistrationAllowance.per_hour).
        "register_allowance": RateLimiter(settings.registrations_per_hour_per_ip, 3600),
        # Password reset mails: per address and per requesting address of the network.
        "reset_ip": RateLimiter(10, 3600),
        "reset_account": RateLimiter(3, 3600),
        "post": RateLimiter(settings.posts_per_minute, 60),
    }
    return app


async def load_demo_content() -> bool:
    """``koryu demo``: the forum's boards, users and threads, then the programme on them."""
    created = await load_demo()
    if created:
        await load_programme()
    return created


PRUNE_FIRST_AFTER = 60.0  # seconds after start-up: a restart loop should not prune each time
PRUNE_EVERY = 3600.0


def _start_mail(settings: Settings, stop: asyncio.Event) -> asyncio.Task[None] | None:
    """With ``KORYU_SMTP_URL`` set: notices are mailed through the outbox by one worker task
    per process (claims keep processes from sending a row twice)."""
    if not settings.smtp_url:
        return None
    config = mail.parse_smtp_url(settings.smtp_url)
    mailbox.bind(mailbox.MailSite(settings.site_url, settings.secret_key))

    async def send(message: EmailMessage) -> None:
        await mail.send(config, message)

    worker = mailbox.run_forever(send, stop, digests=notifications.queue_digests)
    return asyncio.create_task(worker, name="koryu-mail")


async def _prune_forever(settings: Settings, stop: asyncio.Event) -> None:
    """Drop realtime history past the retention window; late subscribers get a resync."""
    wait = PRUNE_FIRST_AFTER
    while not await _stopped_within(stop, wait):
        wait = PRUNE_EVERY
        try:
            pruned = await outbox.prune(timedelta(days=settings.event_retention_days))
            if pruned:
                log.info("pruned %d realtime events", pruned)
        except Exception:
            log.warning("pruning realtime events failed", exc_info=True)


async def clean_uploads_once(settings: Settings) -> tuple[int, int]:
    """``koryu cleanup-uploads``: one pass; the database must be open."""
    storage = create_storage(settings.uploads_url)
    try:
        cleaned = await clean_uploads(
            storage,
            retention=timedelta(days=settings.upload_retention_days),
            grace=timedelta(hours=settings.upload_orphan_hours),
        )
    finally:
        await storage.close()
    return cleaned.withdrawn, cleaned.orphans


async def _clean_uploads_forever(settings: Settings, storage: Storage, stop: asyncio.Event) -> None:
    """Hourly, like pruning: files of rejected or deleted posts past retention, and orphans."""
    wait = PRUNE_FIRST_AFTER
    while not await _stopped_within(stop, wait):
        wait = PRUNE_EVERY
        try:
            cleaned = await clean_uploads(
                storage,
                retention=timedelta(days=settings.upload_retention_days),
                grace=timedelta(hours=settings.upload_orphan_hours),
            )
            if cleaned.withdrawn or cleaned.orphans:
                log.info(
                    "removed %d files of withdrawn posts and %d orphans",
                    cleaned.withdrawn,
                    cleaned.orphans,
                )
        except Exception:
            log.warning("cleaning uploads failed", exc_info=True)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return False
    return True


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route answers at this request's path, through mounts."""
    methods: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            methods |= allowed_methods(route.routes, {**scope, **child})
        elif isinstance(route, Route) and route.methods:
            methods |= route.methods
    return methods


def _http_code(status: int) -> str:
    return {405: "method_not_allowed", 400: "bad_request"}.get(status, "http_error")
