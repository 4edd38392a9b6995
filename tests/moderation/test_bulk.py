"""Burst moderation: a selection approved or rejected at once, each item on its own."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from forum.models import Post, PostStatus
from moderation.models import AuditEntry, Decision, ItemState, QueueItem
from tests.conftest import Member
from tests.moderation.support import (
    board_staff,
    decide,
    error_code,
    event_names,
    new_board,
    new_thread,
    queue,
    reply,
)
from tests.moderation.test_pages import sign_in

pytestmark = pytest.mark.asyncio


async def held(
    client: httpx2.AsyncClient, admin: Member, author: Member, count: int, slug: str = "kankei"
) -> list[dict[str, Any]]:
    """A premoderated board, a published thread and ``count`` held replies: their items."""
    await new_board(client, admin, slug, moderation="premoderated")
    thread_id = (await new_thread(client, admin, slug))["thread"]["id"]
    for n in range(count):
        await reply(client, author, thread_id, f"承認待ちの質問 {n}")
    items = await queue(client, admin, board=slug)
    assert len(items) == count
    return items


def selection(items: list[dict[str, Any]]) -> list[dict[str, int]]:
    return [{"id": i["id"], "version": i["version"]} for i in items]


async def bulk(
    client: httpx2.AsyncClient,
    member: Member,
    items: list[dict[str, int]],
    decision: str,
    **extra: Any,
) -> httpx2.Response:
    return await client.post(
        "/api/v1/moderation/items/bulk",
        json={"items": items, "decision": decision, **extra},
        headers=member.headers,
    )


async def test_a_selection_is_approved_at_once_each_with_its_own_result_and_events(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    items = await held(client, admin, alice, 3)
    response = await bulk(client, admin, selection(items), "approve")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["decision"], body["decided"], body["failed"]) == ("approve", 3, 0)
    assert [r["id"] for r in body["items"]] == [i["id"] for i in items]
    assert all(r["status"] == 200 and r["error"] is None for r in body["items"])
    assert {r["result"]["decision"] for r in body["items"]} == {"approved"}
    posts = await Post.filter(id__in=[i["post"]["id"] for i in items])
    assert {p.status for p in posts} == {PostStatus.PUBLISHED}
    # The single-item path ran for each: one decision event and one audit row per item.
    names = await event_names("moderation:kankei")
    assert names.count("item.decided") == 3
    assert await AuditEntry.filter(action="post.approve").count() == 3
    assert await queue(client, admin) == []


async def test_a_stale_item_gets_its_own_409_and_the_rest_are_decided(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    items = await held(client, admin, alice, 3)
    # Another moderator claimed the middle one meanwhile: the version shown is stale.
    claimed = await decide(client, admin, items[1], "claim")
    assert claimed.status_code == 200
    response = await bulk(client, admin, selection(items), "reject", reason="重複しています")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["decided"], body["failed"]) == (2, 1)
    first, stale, last = body["items"]
    assert first["status"] == last["status"] == 200
    assert stale["status"] == 409 and stale["result"] is None
    assert stale["error"]["code"] == "stale_version" and stale["error"]["message"]
    # Never half-applied: the stale item and its post are exactly as they were.
    row = await QueueItem.get(id=items[1]["id"])
    assert row.state is ItemState.OPEN and row.decision is None
    assert (await Post.get(id=items[1]["post"]["id"])).status is PostStatus.PENDING
    rejected = await QueueItem.filter(decision=Decision.REJECTED).values_list("id", flat=True)
    assert sorted(rejected) == sorted([items[0]["id"], items[2]["id"]])
    assert await QueueItem.filter(decision_reason="重複しています").count() == 2


async def test_an_item_of_a_board_one_does_not_moderate_refuses_the_whole_selection(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    mine = await held(client, admin, alice, 1, "kankei")
    theirs = await held(client, admin, alice, 1, "chiiki")
    moderator = await board_staff(client, admin, "kankei", username="mod-sato")
    response = await bulk(client, moderator, selection(mine + theirs), "approve")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert await QueueItem.filter(state=ItemState.OPEN).count() == 2
    # Their own board's item alone goes through.
    alone = await bulk(client, moderator, selection(mine), "approve")
    assert alone.status_code == 200 and alone.json()["decided"] == 1


async def test_a_participant_may_not_decide_a_selection(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    items = await held(client, admin, alice, 1)
    response = await bulk(client, bob, selection(items), "approve")
    assert response.status_code == 403
    assert await QueueItem.filter(state=ItemState.OPEN).count() == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"items": [], "decision": "approve"},
        {"items": [{"id": 1}], "decision": "approve"},
        {"items": [{"id": 1, "version": 1, "extra": 1}], "decision": "approve"},
        {"items": [1], "decision": "approve"},
        {"items": [{"id": 1, "version": 1}], "decision": "claim"},
        {"items": [{"id": 1, "version": 1}] * 101, "decision": "approve"},
        {"items": [{"id": 1, "version": 1}], "decision": "reject", "reason": "a" * 1001},
    ],
)
async def test_a_malformed_selection_is_422_and_changes_nothing(
    client: httpx2.AsyncClient, admin: Member, payload: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/v1/moderation/items/bulk", json=payload, headers=admin.headers
    )
    assert response.status_code == 422, response.text
    assert error_code(response) == "invalid"


async def test_the_same_item_twice_in_one_selection_is_refused(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    items = await held(client, admin, alice, 1)
    response = await bulk(client, admin, selection(items) * 2, "approve")
    assert response.status_code == 422
    assert await QueueItem.filter(state=ItemState.OPEN).count() == 1


async def test_the_queue_page_offers_checkboxes_in_the_bulk_form_and_its_keys(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    items = await held(client, admin, alice, 2)
    await sign_in(client, admin)
    page = (await client.get("/moderation")).text
    assert '<form id="mod-bulk"' in page and 'action="/moderation/items/bulk"' in page
    for item in items:
        assert f'name="item" value="{item["id"]}" id="select-{item["id"]}" form="mod-bulk"' in page
        assert (
            f'name="v{item["id"]}" value="{item["version"]}" form="mod-bulk" data-version' in page
        )
    assert 'name="decision" value="approve"' in page and 'name="decision" value="reject"' in page
    assert "Shift+A" in page and "Shift+R" in page and "<kbd>x</kbd>" in page


async def test_the_bulk_form_works_without_javascript_and_reports_a_stale_item(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    first, second = await held(client, admin, alice, 2)
    assert (await decide(client, admin, second, "claim")).status_code == 200
    token = await sign_in(client, admin)
    form = {
        "csrf_token": token,
        "next": "/moderation",
        "decision": "approve",
        "item": [str(first["id"]), str(second["id"])],
        f"v{first['id']}": str(first["version"]),
        f"v{second['id']}": str(second["version"]),  # shown before the claim: stale
    }
    response = await client.post("/moderation/items/bulk", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == "/moderation?notice=bulk_partial"
    assert (await Post.get(id=first["post"]["id"])).status is PostStatus.PUBLISHED
    assert (await Post.get(id=second["post"]["id"])).status is PostStatus.PENDING
    page = await client.get(response.headers["location"])
    assert "ほかのモデレーターが先に判断していた" in page.text


async def test_the_bulk_form_answers_the_script_with_each_items_outcome(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    first, second = await held(client, admin, alice, 2)
    token = await sign_in(client, admin)
    form = {
        "csrf_token": token,
        "decision": "reject",
        "template": "重複しています",
        "item": [str(first["id"]), str(second["id"])],
        f"v{first['id']}": str(first["version"]),
        f"v{second['id']}": "99",
    }
    response = await client.post(
        "/moderation/items/bulk", data=form, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["notice"] == "bulk_partial"
    assert answer["message"] == (
        "1件を公開しないことにしました。 1件はほかのモデレーターが先に判断していたため、そのままにしました。"
    )
    assert [(o["id"], o["decided"], o["code"]) for o in answer["items"]] == [
        (first["id"], True, None),
        (second["id"], False, "stale_version"),
    ]
    assert (await QueueItem.get(id=first["id"])).decision_reason == "重複しています"


async def test_the_bulk_form_without_a_selection_changes_nothing(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await held(client, admin, alice, 1)
    token = await sign_in(client, admin)
    response = await client.post(
        "/moderation/items/bulk", data={"csrf_token": token, "decision": "approve"}
    )
    assert response.headers["location"] == "/moderation?notice=bulk_empty"
    assert await QueueItem.filter(state=ItemState.OPEN).count() == 1
