"""Moderation API under /api/v1: parse, call an action, return."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from forum.resources import iso
from forum.web import inputs as forum_inputs
from forum.web.common import Endpoint, actor_of, api_route, gate_of, read_body, require_user
from forum.web.params import path_id, path_username, query
from forum.web.responses import JSON
from moderation import actions, audit, bulk, flags, queue, revisions, ruleset, sanctions, stats
from moderation.access import check_admin, check_moderator
from moderation.thread_tools import THREAD_ACTIONS, move_thread, set_thread_flag
from moderation.web import inputs
from moderation.web.inputs import QUERY

__all__ = ["routes"]

DECISIONS = ("claim", "approve", "reject", "revise")


def _result(result: actions.Result) -> Response:
    return JSON(asdict(result))


# --- the queue ----------------------------------------------------------------------------


def session_directory(request: Request) -> queue.SessionDirectory | None:
    """Live sessions, as ``forum.app`` gave them (moderation knows nothing of live)."""
    found: queue.SessionDirectory | None = getattr(request.app.state, "queue_sessions", None)
    return found


async def list_queue(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    specs = QUERY["/moderation/queue"]
    session: int | None = query(request, "session", specs["session"], None)
    thread = None
    if session is not None:
        thread = await queue.session_thread(actor, session_directory(request), session)
    page = await queue.list_queue(
        actor,
        board=query(request, "board", specs["board"], None),
        kind=query(request, "kind", specs["kind"], None),
        reason=query(request, "reason", specs["reason"], None),
        thread=thread,
        cursor=query(request, "cursor", specs["cursor"], None),
        limit=query(request, "limit", specs["limit"], 50),
    )
    return JSON({"items": page.resources(), "next_cursor": page.next_cursor})


def _bucket(bucket: stats.Bucket) -> dict[str, Any]:
    return {
        "start": iso(bucket.start),
        "created": bucket.created,
        "decided": bucket.decided,
        "median_minutes": bucket.median_minutes,
    }


async def queue_stats(request: Request) -> Response:
    require_user(request)
    now = datetime.now(UTC)
    figures = await stats.queue_stats(actor_of(request), now)
    return JSON(
        {
            "size": figures.size,
            "oldest_created_at": iso(figures.oldest),
            "oldest_minutes": figures.oldest_minutes(now),
            "hours": [_bucket(b) for b in figures.hours],
            "minutes": [_bucket(b) for b in figures.minutes],
        }
    )


async def get_item(request: Request) -> Response:
    require_user(request)
    item = await queue.load_item(actor_of(request), path_id(request))
    found = await queue.flags_by_item([item.id])
    return JSON(queue.item_resource(item, found[item.id]))


def decision(action: str) -> Endpoint:
    async def decide(request: Request) -> Response:
        require_user(request)
        actor = actor_of(request)
        item_id = path_id(request)
        data = await read_body(request, inputs.DECISION)
        version: int = data["version"]
        reason: str = data.get("reason", "")
        if action == "claim":
            return _result(await actions.claim(actor, item_id, version))
        if action == "approve":
            body: str | None = data.get("body")
            return _result(await actions.approve(actor, item_id, version, body=body, reason=reason))
        if action == "reject":
            return _result(await actions.reject(actor, item_id, version, reason=reason))
        return _result(await actions.revise(actor, item_id, version, reason=reason))

    return decide


def outcome_resource(outcome: bulk.Outcome) -> dict[str, Any]:
    """One item of a selection: 200 and its decision, or the status and error of its own."""
    error = outcome.error
    return {
        "id": outcome.item_id,
        "status": error.status if error else 200,
        "result": asdict(outcome.result) if outcome.result else None,
        "error": {"code": error.code, "message": error.message} if error else None,
    }


async def decide_many(request: Request) -> Response:
    require_user(request)
    data = await read_body(request, inputs.BULK_DECISION)
    outcomes = await bulk.decide_many(
        actor_of(request),
        [(entry["id"], entry["version"]) for entry in data["items"]],
        bulk.BulkDecision(data["decision"]),
        reason=data.get("reason", ""),
    )
    return JSON(
        {
            "decision": data["decision"],
            "decided": sum(1 for o in outcomes if o.decided),
            "failed": sum(1 for o in outcomes if not o.decided),
            "items": [outcome_resource(o) for o in outcomes],
        }
    )


async def reject_templates(request: Request) -> Response:
    require_user(request)
    check_moderator(actor_of(request))
    rows = await ruleset.list_templates()
    return JSON({"items": [{"id": t.id, "text": t.text} for t in rows], "next_cursor": None})


async def log(request: Request) -> Response:
    require_user(request)
    page = await audit.list_log(
        actor_of(request),
        board=query(request, "board", QUERY["/moderation/log"]["board"], None),
        cursor=query(request, "cursor", QUERY["/moderation/log"]["cursor"], None),
        limit=query(request, "limit", QUERY["/moderation/log"]["limit"], 50),
    )
    items = [audit.entry_resource(e) for e in page.entries]
    return JSON({"items": items, "next_cursor": page.next_cursor})


# --- rules (administrators) ---------------------------------------------------------------


async def get_rules(request: Request) -> Response:
    require_user(request)
    check_admin(actor_of(request))
    return JSON(await _rules_body())


async def _rules_body() -> dict[str, Any]:
    words = await ruleset.list_words()
    templates = await ruleset.list_templates()
    return {
        "settings": asdict(await ruleset.load_settings()),
        "watched_words": [{"id": w.id, "word": w.word, "action": w.action.value} for w in words],
        "reject_templates": [{"id": t.id, "text": t.text} for t in templates],
    }


async def patch_rules(request: Request) -> Response:
    require_user(request)
    data = await read_body(request, inputs.RULE_SETTINGS)
    changes = ruleset.SettingChanges(**data)
    await ruleset.update_settings(actor_of(request), changes)
    return JSON(await _rules_body())


async def add_word(request: Request) -> Response:
    require_user(request)
    data = await read_body(request, inputs.WATCHED_WORD)
    row = await ruleset.add_word(actor_of(request), data["word"], data.get("action", "hold"))
    return JSON({"id": row.id, "word": row.word, "action": row.action.value}, status_code=201)


async def remove_word(request: Request) -> Response:
    require_user(request)
    await ruleset.remove_word(actor_of(request), path_id(request))
    return Response(status_code=204)


async def add_template(request: Request) -> Response:
    require_user(request)
    data = await read_body(request, inputs.TEMPLATE)
    row = await ruleset.add_template(actor_of(request), data["text"])
    return JSON({"id": row.id, "text": row.text}, status_code=201)


async def change_template(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    template_id = path_id(request)
    if request.method == "DELETE":
        await ruleset.remove_template(actor, template_id)
        return Response(status_code=204)
    data = await read_body(request, inputs.TEMPLATE)
    row = await ruleset.update_template(actor, template_id, data["text"])
    return JSON({"id": row.id, "text": row.text})


# --- posts, users, threads ----------------------------------------------------------------


async def flag(request: Request) -> Response:
    require_user(request)
    post_id = path_id(request)
    data = await read_body(request, inputs.FLAG)
    result = await flags.flag_post(actor_of(request), post_id, data["reason"], data.get("note", ""))
    return JSON(asdict(result), status_code=201)


async def resubmit(request: Request) -> Response:
    require_user(request)
    post_id = path_id(request)
    data = await read_body(request, forum_inputs.POST_PATCH)
    post = await revisions.resubmit(actor_of(request), post_id, data["body"], gate=gate_of(request))
    return JSON(post)


async def sanction(request: Request) -> Response:
    require_user(request)
    username = path_username(request)
    data = await read_body(request, inputs.SANCTION)
    order = sanctions.SanctionOrder(
        kind=data["kind"], hours=data["hours"], reason=data.get("reason", "")
    )
    result = await sanctions.sanction(actor_of(request), username, order)
    return JSON({**asdict(result), "until": iso(result.until)})


def thread_action(action: str) -> Endpoint:
    async def act(request: Request) -> Response:
        require_user(request)
        actor = actor_of(request)
        thread_id = path_id(request)
        data = await read_body(
            request, inputs.THREAD_MOVE if action == "move" else inputs.THREAD_ACTION
        )
        reason: str = data.get("reason", "")
        if action == "move":
            change = await move_thread(actor, thread_id, data["board"], reason=reason)
        else:
            change = await set_thread_flag(actor, thread_id, action, reason=reason)
        return JSON(asdict(change))

    return act


def routes() -> list[BaseRoute]:
    route = api_route
    return [
        route("/moderation/queue", list_queue, ["GET"]),
        route("/moderation/stats", queue_stats, ["GET"]),
        route("/moderation/items/bulk", decide_many, ["POST"]),
        route("/moderation/items/{id}", get_item, ["GET"]),
        *(route(f"/moderation/items/{{id}}/{a}", decision(a), ["POST"]) for a in DECISIONS),
        route("/moderation/templates", reject_templates, ["GET"]),
        route("/moderation/log", log, ["GET"]),
        route("/moderation/rules", get_rules, ["GET"]),
        route("/moderation/rules", patch_rules, ["PATCH"]),
        route("/moderation/rules/words", add_word, ["POST"]),
        route("/moderation/rules/words/{id}", remove_word, ["DELETE"]),
        route("/moderation/rules/templates", add_template, ["POST"]),
        route("/moderation/rules/templates/{id}", change_template, ["PATCH", "DELETE"]),
        route("/moderation/users/{username}/sanctions", sanction, ["POST"]),
        *(
            route(f"/moderation/threads/{{id}}/{a}", thread_action(a), ["POST"])
            for a in (*THREAD_ACTIONS, "move")
        ),
        route("/posts/{id}/flags", flag, ["POST"]),
        route("/posts/{id}/resubmit", resubmit, ["POST"]),
    ]
