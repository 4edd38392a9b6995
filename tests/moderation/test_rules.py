"""Auto-hold rules: pure checks, then each rule through the posting API on both databases."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from forum.models import Post, PostStatus
from moderation.models import QueueItem, WordAction
from moderation.policies import RuleSettings
from moderation.rules import Word, has_link, normalize, screen, watched_hits
from tests.conftest import Member
from tests.moderation.support import (
    age,
    error_code,
    new_board,
    new_thread,
    queue,
    reply,
    site_moderator,
)

OLD = timedelta(days=365)
SETTINGS = RuleSettings()


def test_normalize_folds_width_case_and_invisible_characters() -> None:
    assert normalize("ＳＰＡＭ") == "spam"
    assert normalize("ｶﾀｶﾅ") == "カタカナ"
    assert normalize("Ｓｐａｍ\u200b") == "spam"
    assert normalize("①") == "1"


@pytest.mark.parametrize(
    ("watched", "body"),
    [
        ("ＳＰＡＭ", "this is spam"),
        ("spam", "ＳＰＡＭです"),
        ("ｶﾀｶﾅ", "カタカナの投稿"),
        ("カタカナ", "ｶﾀｶﾅの投稿"),
        ("激安", "本日限り激安セール"),
        ("viagra", "V\u200bIAGRA here"),
    ],
)
def test_watched_words_match_across_full_and_half_width_forms(watched: str, body: str) -> None:
    assert watched_hits(body, [Word(watched, WordAction.HOLD)]) == [Word(watched, WordAction.HOLD)]


def test_a_watched_word_that_is_absent_does_not_match() -> None:
    assert watched_hits("地域おこし協力隊の募集", [Word("spam", WordAction.HOLD)]) == []


@pytest.mark.parametrize(
    "body",
    ["https://example.com/x", "ｈｔｔｐｓ：／／example.com", "www.example.org", "see spam.jp now"],
)
def test_links_are_found_in_every_width(body: str) -> None:
    assert has_link(body)


def test_plain_japanese_text_has_no_link() -> None:
    assert not has_link("関係人口の取り組みについて。よろしくお願いします。")


def test_a_link_from_a_young_account_is_held_and_from_an_old_one_is_not() -> None:
    young = screen(
        "https://example.com",
        account_age=timedelta(hours=5),
        words=[],
        duplicate=False,
        recent_posts=0,
        settings=SETTINGS,
    )
    old = screen(
        "https://example.com",
        account_age=OLD,
        words=[],
        duplicate=False,
        recent_posts=0,
        settings=SETTINGS,
    )
    off = screen(
        "https://example.com",
        account_age=timedelta(0),
        words=[],
        duplicate=False,
        recent_posts=0,
        settings=RuleSettings(link_account_days=0),
    )
    assert young.reasons == ("new_account_link",)
    assert old.reasons == off.reasons == ()


def test_hold_words_give_a_reason_and_block_words_refuse() -> None:
    words = [Word("宣伝", WordAction.HOLD), Word("ＢＡＤ", WordAction.BLOCK)]
    result = screen(
        "宣伝です bad",
        account_age=OLD,
        words=words,
        duplicate=False,
        recent_posts=0,
        settings=SETTINGS,
    )
    assert result.reasons == ("watched_word:宣伝",)
    assert result.blocked == ("ＢＡＤ",)


def test_repeats_and_bursts_are_held_and_zero_turns_them_off() -> None:
    held = screen(
        "同じ", account_age=OLD, words=[], duplicate=True, recent_posts=5, settings=SETTINGS
    )
    assert held.reasons == ("duplicate", "burst")
    under = screen(
        "同じ", account_age=OLD, words=[], duplicate=False, recent_posts=4, settings=SETTINGS
    )
    assert under.reasons == ()
    off = screen(
        "同じ",
        account_age=OLD,
        words=[],
        duplicate=True,
        recent_posts=100,
        settings=RuleSettings(duplicate_minutes=0, burst_posts=0),
    )
    assert off.reasons == ()


# --- through the API --------------------------------------------------------------------


async def _watch(client: httpx2.AsyncClient, admin: Member, word: str, action: str) -> None:
    response = await client.post(
        "/api/v1/moderation/rules/words",
        json={"word": word, "action": action},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text


@pytest.mark.asyncio
async def test_a_watched_hold_word_in_full_width_holds_a_half_width_post_with_its_reason(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    await _watch(client, admin, "ＳＰＡＭ", "hold")
    thread = await new_thread(client, bob)
    post = await reply(client, alice, thread["thread"]["id"], "this is Spam, really")
    assert post["status"] == "pending"
    [item] = await queue(client, admin)
    assert item["post"]["id"] == post["id"]
    assert {"code": "watched_word", "detail": "ＳＰＡＭ", "label": "監視語句"} in item["reasons"]


@pytest.mark.asyncio
async def test_a_watched_block_word_refuses_the_post_with_422_blocked_word(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    await _watch(client, admin, "ｶﾀｶﾅ", "block")
    thread = await new_thread(client, bob)
    response = await client.post(
        f"/api/v1/threads/{thread['thread']['id']}/posts",
        json={"body": "カタカナを含む"},
        headers=alice.headers,
    )
    assert response.status_code == 422
    assert error_code(response) == "blocked_word"
    assert "body" in response.json()["error"]["fields"]
    assert await Post.filter(author_id=alice.user.id).count() == 0


@pytest.mark.asyncio
async def test_board_staff_are_not_held_by_the_rules(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_board(client, admin)
    await _watch(client, admin, "spam", "block")
    moderator = await site_moderator()
    thread = await new_thread(client, moderator, body="spam の例: https://example.com")
    assert thread["post"]["status"] == "published"


@pytest.mark.asyncio
async def test_a_link_from_a_new_account_is_held_and_from_an_older_one_is_published(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    await age(bob, days=30)
    thread_id = (await new_thread(client, bob, body="https://example.jp の資料"))["thread"]["id"]
    assert (await Post.get(thread_id=thread_id)).status is PostStatus.PUBLISHED
    held = await reply(client, alice, thread_id, "詳しくは https://example.com を")
    assert held["status"] == "pending"
    [item] = await queue(client, admin, reason="new_account_link")
    assert item["post"]["id"] == held["id"]


@pytest.mark.asyncio
async def test_the_same_body_twice_within_the_window_is_held_as_a_repeat(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, bob))["thread"]["id"]
    first = await reply(client, alice, thread_id, "同じ内容の投稿です")
    second = await reply(client, alice, thread_id, "同じ内容の投稿です")
    other = await reply(client, bob, thread_id, "同じ内容の投稿です")
    assert (first["status"], second["status"], other["status"]) == (
        "published",
        "pending",
        "published",
    )
    [item] = await queue(client, admin, reason="duplicate")
    assert item["post"]["id"] == second["id"]


@pytest.mark.asyncio
async def test_more_than_n_posts_in_m_seconds_are_held_as_a_burst(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, bob))["thread"]["id"]
    statuses = [
        (await reply(client, alice, thread_id, f"連続投稿 {i}"))["status"] for i in range(6)
    ]
    assert statuses == ["published"] * 5 + ["pending"]
    items = await queue(client, admin, reason="burst")
    assert [i["post"]["body"] for i in items] == ["連続投稿 5"]
    assert await QueueItem.all().count() == 1


@pytest.mark.asyncio
async def test_admins_change_thresholds_and_the_rules_follow(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    response = await client.patch(
        "/api/v1/moderation/rules", json={"burst_posts": 2}, headers=admin.headers
    )
    assert response.status_code == 200
    assert response.json()["settings"]["burst_posts"] == 2
    thread_id = (await new_thread(client, bob))["thread"]["id"]
    statuses = [(await reply(client, alice, thread_id, f"投稿 {i}"))["status"] for i in range(3)]
    assert statuses == ["published", "published", "pending"]


@pytest.mark.asyncio
async def test_only_admins_edit_rules_and_bad_values_are_422(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    moderator = await site_moderator()
    for member in (alice, moderator):
        refused = await client.patch(
            "/api/v1/moderation/rules", json={"burst_posts": 1}, headers=member.headers
        )
        assert refused.status_code == 403
        word = await client.post(
            "/api/v1/moderation/rules/words", json={"word": "x"}, headers=member.headers
        )
        assert word.status_code == 403
    bad = await client.patch(
        "/api/v1/moderation/rules",
        json={"burst_posts": -1, "flag_threshold": 0, "colour": 3},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"burst_posts", "flag_threshold", "colour"}


@pytest.mark.asyncio
async def test_a_word_is_watched_once_in_any_width(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await _watch(client, admin, "spam", "hold")
    again = await client.post(
        "/api/v1/moderation/rules/words", json={"word": "ＳＰＡＭ"}, headers=admin.headers
    )
    assert again.status_code == 422
    assert error_code(again) == "word_exists"
    rules = (await client.get("/api/v1/moderation/rules", headers=admin.headers)).json()
    [word] = rules["watched_words"]
    removed = await client.delete(
        f"/api/v1/moderation/rules/words/{word['id']}", headers=admin.headers
    )
    assert removed.status_code == 204
