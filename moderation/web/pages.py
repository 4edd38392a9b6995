"""The moderation queue page and its forms; each action works without JavaScript."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import events, outbox
from forum.errors import ForumError
from forum.formatting import format_duration
from forum.i18n import gettext as _
from forum.i18n import ngettext
from forum.web.common import actor_of, require_user
from forum.web.forms import field, login_redirect, read_form, redirect, safe_next
from forum.web.params import path_id, query
from forum.web.parsers import Choice
from forum.web.responses import JSON
from forum.web.templating import render
from moderation import actions, bulk, ruleset
from moderation.access import check_moderator, list_moderated_boards
from moderation.labels import reason_label
from moderation.queue import list_queue, session_choices, session_thread
from moderation.stats import Per, chart, queue_stats, time_label
from moderation.web.api import session_directory
from moderation.web.inputs import QUERY

__all__ = ["NOTICES", "notice_text", "routes"]

FILTERS = ("board", "kind", "reason", "session")
# The chart's buckets: by the hour (the last day) or by the minute (the last hour).
PER = Choice(values=tuple(p.value for p in Per))
REASON_FILTERS = (
    "premoderated",
    "first_posts",
    "live_question",
    "watched_word",
    "new_account_link",
    "duplicate",
    "burst",
    "resubmitted",
    "hidden",
    "spam",
    "offtopic",
    "inappropriate",
    "other",
)
NOTICES = frozenset(
    {
        "claimed",
        "approved",
        "rejected",
        "revision",
        "stale_version",
        "already_claimed",
        "post_deleted",
        "invalid",
        "not_found",
        "bulk_approved",
        "bulk_rejected",
        "bulk_partial",
        "bulk_empty",
    }
)
DONE = frozenset({"claimed", "approved", "rejected", "revision", "bulk_approved", "bulk_rejected"})


def notice_text(code: str) -> str:
    texts = {
        "claimed": _("担当しました。"),
        "approved": _("判断を記録しました。投稿は公開中です。"),
        "rejected": _("判断を記録しました。投稿は公開されません。投稿者に理由をお知らせしました。"),
        "revision": _("修正を依頼しました。投稿者にお知らせしました。"),
        "stale_version": _("ほかのモデレーターが先に判断しました。最新の状態を表示しています。"),
        "already_claimed": _("ほかのモデレーターが担当しています。"),
        "post_deleted": _("この投稿は削除されています。"),
        "invalid": _("入力内容を確認してください。"),
        "not_found": _("この件は見つかりません。すでに判断されたか、削除された可能性があります。"),
        "bulk_approved": _("選んだ件を公開しました。"),
        "bulk_rejected": _("選んだ件を公開しないことにし、投稿者に理由を知らせました。"),
        "bulk_partial": _(
            "一部の件はほかのモデレーターが先に判断していたため、そのままにしました。"
        ),
        "bulk_empty": _("判断する件を選んでください。"),
    }
    return texts.get(code, "")


def age_label(created: str | None, now: datetime) -> str:
    if not created:
        return ""
    minutes = int((now - datetime.fromisoformat(created)).total_seconds() // 60)
    return minutes_label(minutes)


def minutes_label(minutes: int) -> str:
    return format_duration(minutes)


async def queue_page(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    actor = actor_of(request)
    check_moderator(actor)
    specs = QUERY["/moderation/queue"]
    filters: dict[str, Any] = {name: query(request, name, specs[name], "") for name in FILTERS}
    directory = session_directory(request)
    thread = None
    if filters["session"]:
        thread = await session_thread(actor, directory, filters["session"])
    now = datetime.now(UTC)
    # The channels' heads are read before the items, so the page is never older than the
    # position moderation.js resumes from: nothing between render and subscribe is lost.
    boards = await list_moderated_boards(actor)
    channels = [events.moderation_channel(b.slug) for b in boards]
    heads = [await outbox.head(name) for name in channels]
    page = await list_queue(
        actor,
        board=filters["board"] or None,
        kind=filters["kind"] or None,
        reason=filters["reason"] or None,
        thread=thread,
        cursor=query(request, "cursor", specs["cursor"], None),
        limit=30,
    )
    figures = await queue_stats(actor, now)
    per = Per(query(request, "chart", PER, Per.HOUR.value))
    shown = figures.buckets(per)
    items = page.resources()
    for item in items:
        item["age"] = age_label(item["created_at"], now)
    notice = request.query_params.get("notice", "")
    oldest = figures.oldest_minutes(now)
    context: dict[str, Any] = {
        "items": items,
        "next_cursor": page.next_cursor,
        "filters": filters,
        "query": urlencode(
            {
                k: v
                for k, v in {**filters, "chart": per.value if per is Per.MINUTE else ""}.items()
                if v
            }
        ),
        "boards": boards,
        "sessions": await session_choices(actor, directory),
        "reasons": [(code, reason_label(code)) for code in REASON_FILTERS],
        "size": figures.size,
        "oldest": minutes_label(oldest) if oldest is not None else "",
        "chart": chart(shown),
        "buckets": [(time_label(b.start), b) for b in shown],
        "per": per.value,
        "chart_links": {
            p.value: "/moderation?"
            + urlencode({**{k: v for k, v in filters.items() if v}, "chart": p.value})
            for p in Per
        },
        "templates": await ruleset.list_templates(),
        "notice": notice_text(notice) if notice in NOTICES else "",
        "notice_is_error": notice not in DONE,
        "channels": " ".join(channels),
        "heads": " ".join(str(head) for head in heads),
    }
    return render(request, "moderation/queue.html", context)


def _reason(form: FormData) -> str:
    """A picked template and the moderator's own words, joined."""
    parts = [field(form, "template").strip(), field(form, "reason").strip()]
    return "\n".join(p for p in parts if p)


def _back(form: FormData, notice: str, anchor: str = "") -> Response:
    target = safe_next(field(form, "next"), "/moderation")
    if not target.startswith("/moderation"):
        target = "/moderation"
    separator = "&" if "?" in target else "?"
    return redirect(f"{target}{separator}notice={notice}{anchor}")


def _answer(code: str, status: int = 200, **extra: Any) -> Response:
    """What moderation.js reads instead of a redirect: the notice, translated, and the item."""
    return JSON({"notice": code, "message": notice_text(code), **extra}, status_code=status)


def decision_form(action: str) -> Callable[[Request], Awaitable[Response]]:
    async def decide(request: Request) -> Response:
        form = await read_form(request)
        require_user(request)
        actor = actor_of(request)
        item_id = path_id(request)
        # The queue page's script posts the same forms and asks for JSON, so it stays in place.
        script = "application/json" in request.headers.get("accept", "")
        version_raw = field(form, "version")
        version = int(version_raw) if version_raw.isdigit() and len(version_raw) < 12 else -1
        anchor = ""
        try:
            if action == "claim":
                result = await actions.claim(actor, item_id, version)
                notice, anchor = "claimed", f"#item-{item_id}"
            elif action == "approve":
                body = field(form, "body") if "body" in form else None
                result = await actions.approve(
                    actor, item_id, version, body=body, reason=_reason(form)
                )
                notice = "approved"
            elif action == "reject":
                result = await actions.reject(actor, item_id, version, reason=_reason(form))
                notice = "rejected"
            else:
                result = await actions.revise(actor, item_id, version, reason=_reason(form))
                notice = "revision"
        except ForumError as exc:
            if exc.status in (401, 403):
                raise
            code = exc.code if exc.code in NOTICES else "invalid"
            if script:
                return _answer(code, exc.status, id=item_id)
            return _back(form, code, f"#item-{item_id}")
        if script:
            assert actor.user is not None
            return _answer(
                notice,
                id=item_id,
                version=result.version,
                state=result.state,
                by=actor.user.username,
            )
        return _back(form, notice, anchor)

    return decide


def _selection(form: FormData) -> list[tuple[int, int]]:
    """The checked items, each with the version its row was showing (``v{id}``)."""
    chosen = []
    for raw in form.getlist("item"):
        if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 10:
            continue
        version = field(form, f"v{raw}")
        chosen.append((int(raw), int(version) if version.isdigit() and len(version) < 12 else -1))
    return chosen[: bulk.MAX_ITEMS]


def bulk_message(decided: int, failed: int, decision: bulk.BulkDecision) -> str:
    if decision is bulk.BulkDecision.APPROVE:
        done = ngettext("%(num)d件を公開しました。", "%(num)d件を公開しました。", decided)
    else:
        done = ngettext(
            "%(num)d件を公開しないことにしました。",
            "%(num)d件を公開しないことにしました。",
            decided,
        )
    text = done % {"num": decided}
    if failed:
        left = ngettext(
            "%(num)d件はほかのモデレーターが先に判断していたため、そのままにしました。",
            "%(num)d件はほかのモデレーターが先に判断していたため、そのままにしました。",
            failed,
        )
        text += " " + left % {"num": failed}
    return text


async def decide_many_form(request: Request) -> Response:
    """The queue's bulk bar: approve or reject every checked item, each on its own."""
    form = await read_form(request)
    require_user(request)
    actor = actor_of(request)
    script = "application/json" in request.headers.get("accept", "")
    raw_decision = field(form, "decision")
    decision = bulk.BulkDecision(raw_decision) if raw_decision in ("approve", "reject") else None
    selection = _selection(form)
    if decision is None or not selection:
        return _answer("bulk_empty", 422) if script else _back(form, "bulk_empty")
    try:
        outcomes = await bulk.decide_many(actor, selection, decision, reason=_reason(form))
    except ForumError as exc:
        if exc.status in (401, 403):
            raise
        code = exc.code if exc.code in NOTICES else "invalid"
        return _answer(code, exc.status) if script else _back(form, code)
    decided = sum(1 for o in outcomes if o.decided)
    failed = len(outcomes) - decided
    if decision is bulk.BulkDecision.APPROVE:
        notice = "bulk_approved" if not failed else "bulk_partial"
    else:
        notice = "bulk_rejected" if not failed else "bulk_partial"
    if not script:
        return _back(form, notice)
    assert actor.user is not None
    return JSON(
        {
            "notice": notice,
            "message": bulk_message(decided, failed, decision),
            "by": actor.user.username,
            "items": [
                {
                    "id": o.item_id,
                    "decided": o.decided,
                    "code": o.error.code if o.error else None,
                    "message": o.error.message if o.error else None,
                }
                for o in outcomes
            ],
        }
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/moderation", queue_page, methods=["GET"], name="moderation"),
        Route("/moderation/items/bulk", decide_many_form, methods=["POST"]),
        *(
            Route(f"/moderation/items/{{id}}/{a}", decision_form(a), methods=["POST"])
            for a in ("claim", "approve", "reject", "revise")
        ),
    ]
