"""Search on both databases: a Japanese corpus, what may never be found, facets, pages."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from forum.models import Post
from tests.conftest import Member, make_member
from tests.moderation.support import decide, new_board, new_thread, queue, reply

pytestmark = pytest.mark.asyncio

CORPUS = [
    ("移住者の住まい探し", "空き家バンクで移住者の住まいを探しています。"),
    ("人口減少への対応", "人口減少が続く町で、関係人口を増やす取組を紹介します。"),
    ("自治体ＤＸの進め方", "窓口のＤＸを進めるとき、職員の研修をどうしましたか？"),
    ("観光案内", "ｶﾀｶﾅの看板とインバウンド向けのガイドを作りました。"),
]


async def found(
    client: httpx2.AsyncClient, q: str, member: Member | None = None, /, **params: str
) -> dict[str, Any]:
    headers = member.headers if member else {}
    response = await client.get("/api/v1/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def titles(client: httpx2.AsyncClient, q: str, member: Member | None = None) -> set[str]:
    return {hit["title"] for hit in (await found(client, q, member))["items"]}


async def corpus(client: httpx2.AsyncClient, admin: Member, author: Member) -> dict[str, int]:
    await new_board(client, admin)
    ids = {}
    for title, body in CORPUS:
        ids[title] = (await new_thread(client, author, title=title, body=body))["thread"]["id"]
    return ids


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("人口", {"人口減少への対応"}),
        ("移住", {"移住者の住まい探し"}),
        ("町", {"人口減少への対応"}),
        ("DX", {"自治体ＤＸの進め方"}),
        ("ｄｘ 研修", {"自治体ＤＸの進め方"}),
        ("カタカナ", {"観光案内"}),
        ("空き家バンク", {"移住者の住まい探し"}),
        ("移住 人口", set()),
        ('"関係人口"', {"人口減少への対応"}),
        ('"人口 関係"', set()),
    ],
)
async def test_japanese_queries_find_their_posts(
    client: httpx2.AsyncClient, admin: Member, alice: Member, q: str, expected: set[str]
) -> None:
    await corpus(client, admin, alice)
    assert await titles(client, q) == expected


async def test_title_hits_come_before_body_hits(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await corpus(client, admin, alice)
    result = await found(client, "人口")
    kinds = [hit["kind"] for hit in result["items"]]
    assert kinds == ["thread", "post"]
    assert result["total"] == 2
    assert result["facets"] == {
        "board": {"kankei": 2},
        "kind": {"post": 1, "thread": 1},
        "prefecture": {},
        "theme": {},
    }


async def test_an_exact_phrase_ranks_above_the_same_words_apart(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    apart = await new_thread(client, alice, title="報告", body="地域の課題と、おこしの協力隊")
    together = await new_thread(client, alice, title="報告二", body="地域おこし協力隊の募集")
    items = (await found(client, "地域 おこし 協力隊"))["items"]
    assert [hit["thread_id"] for hit in items] == [
        together["thread"]["id"],
        apart["thread"]["id"],
    ]


async def test_pending_rejected_deleted_and_private_posts_are_never_found(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, "naibu", private=True)
    await new_thread(client, admin, "naibu", title="内部の移住相談", body="非公開の移住相談")
    await new_board(client, admin, "shinsa", moderation="premoderated")
    open_thread = (await new_thread(client, admin, "shinsa", title="審査", body="公開"))["thread"]
    pending = await reply(client, alice, open_thread["id"], "承認待ちの移住の話")
    rejected = await reply(client, alice, open_thread["id"], "却下される移住の話")
    assert pending["status"] == rejected["status"] == "pending"
    [_, item] = await queue(client, admin)
    assert (await decide(client, admin, item, "reject")).status_code == 200
    await new_board(client, admin)
    gone = (await new_thread(client, alice, title="消える話", body="削除する移住の投稿"))["post"]
    deleted = await client.delete(f"/api/v1/posts/{gone['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    for reader in (None, alice, bob):
        assert await titles(client, "移住", reader) == set(), reader
    assert await titles(client, "消える") == set()
    assert await titles(client, "移住", admin) == {"内部の移住相談"}


async def test_approval_and_approved_edits_move_the_index_with_them(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread = (await new_thread(client, admin, title="交流", body="はじめに"))["thread"]
    post = await reply(client, alice, thread["id"], "棚田の保全について")
    [item] = await queue(client, admin)
    assert await titles(client, "棚田") == set()
    assert (await decide(client, admin, item, "approve")).status_code == 200
    assert await titles(client, "棚田") == {"交流"}
    edited = await client.patch(
        f"/api/v1/posts/{post['id']}", json={"body": "段々畑の保全について"}, headers=alice.headers
    )
    assert edited.status_code == 200
    # On a premoderated board the edit waits for approval: the published text stays found.
    assert await titles(client, "棚田") == {"交流"}
    assert await titles(client, "段々畑") == set()
    [proposal] = await queue(client, admin)
    assert (await decide(client, admin, proposal, "approve")).status_code == 200
    assert await titles(client, "棚田") == set()
    assert await titles(client, "段々畑") == {"交流"}


async def test_a_new_title_is_found_and_the_old_one_is_not(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = (await new_thread(client, alice, title="古い題名", body="本文"))["thread"]
    changed = await client.patch(
        f"/api/v1/threads/{thread['id']}", json={"title": "新しい題名"}, headers=alice.headers
    )
    assert changed.status_code == 200
    assert await titles(client, "古い") == set()
    assert await titles(client, "新しい") == {"新しい題名"}


async def test_an_anonymous_questions_author_is_never_shown_or_filtered_on(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = (await new_thread(client, admin, title="質疑", body="質問をどうぞ"))["thread"]
    await reply(client, alice, thread["id"], "財源の確保は？", kind="question", anonymous=True)
    await reply(client, alice, thread["id"], "財源の話の続きです")
    for reader in (None, admin):
        items = (await found(client, "財源", reader))["items"]
        authors = {hit["kind"]: hit["author"] for hit in items}
        assert authors["question"] is None
        assert authors["post"]["username"] == "alice"
    by_alice = (await found(client, "財源", admin, author="alice"))["items"]
    assert [hit["kind"] for hit in by_alice] == ["post"]


async def test_filters_narrow_and_facets_count_every_board(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, "kita")
    await new_board(client, admin, "minami")
    await new_thread(client, alice, "kita", title="北の移住", body="雪国への移住")
    await new_thread(client, alice, "minami", title="南の話題", body="島への移住")
    result = await found(client, "移住", board="minami")
    assert [hit["board"] for hit in result["items"]] == ["minami"]
    assert result["total"] == 1
    assert result["facets"]["board"] == {"kita": 2, "minami": 1}
    threads_only = await found(client, "移住", kind="thread")
    assert [hit["title"] for hit in threads_only["items"]] == ["北の移住"]
    assert (await found(client, "移住", **{"from": "2000-01-01", "to": "2000-12-31"}))[
        "items"
    ] == []


async def test_results_page_by_cursor_without_repeats(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = (await new_thread(client, alice, title="連載", body="第0回 農業"))["thread"]
    for n in range(1, 5):
        await reply(client, alice, thread["id"], f"第{n}回 農業の担い手")
    seen: list[int] = []
    cursor = ""
    for _ in range(5):
        page = await found(client, "農業", limit="2", **({"cursor": cursor} if cursor else {}))
        seen += [hit["post_id"] for hit in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == {p.id for p in await Post.filter(thread_id=thread["id"])}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": "あ" * 201}, "bad_query"),
        ({"q": "移住", "cursor": "!!"}, "invalid_cursor"),
        ({"q": "移住", "kind": "board"}, "bad_query"),
        ({"q": "移住", "from": "昨日"}, "bad_query"),
        ({"q": "移住", "limit": "0"}, "bad_query"),
        ({"q": "移住", "board": "nowhere"}, "not_found"),
    ],
)
async def test_bad_search_parameters_are_4xx_with_a_code(
    client: httpx2.AsyncClient, params: dict[str, str], code: str
) -> None:
    response = await client.get("/api/v1/search", params=params)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] == code


async def test_the_api_snippet_escapes_the_post_and_marks_the_hit(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    body = "移住 `<img src=x onerror=alert(1)>` と <script>alert(1)</script>"
    await new_thread(client, alice, title="安全", body=body)
    [hit] = (await found(client, "移住", kind="post"))["items"]
    assert hit["snippet"].startswith("<mark>移住</mark>")
    assert "&lt;img src=x onerror=alert(1)&gt;" in hit["snippet"]
    assert "<img" not in hit["snippet"] and "<script" not in hit["snippet"]


async def test_every_page_has_a_search_box_and_the_search_page_shows_hits(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await corpus(client, admin, alice)
    home = await client.get("/")
    assert 'role="search"' in home.text and 'action="/search"' in home.text
    page = await client.get("/search", params={"q": "移住"})
    assert page.status_code == 200
    assert "<mark>移住</mark>" in page.text
    assert "移住者の住まい探し" in page.text
    empty = await client.get("/search", params={"q": "。"})
    assert empty.status_code == 200
    assert "検索語を入力してください。" in empty.text


async def test_a_member_of_a_private_board_finds_its_posts(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_board(client, admin, "naibu", private=True)
    member = await make_member(username="naibu-member")
    joined = await client.put(
        "/api/v1/boards/naibu/moderators/naibu-member",
        json={"role": "member"},
        headers=admin.headers,
    )
    assert joined.status_code == 200, joined.text
    await new_thread(client, admin, "naibu", title="内部の相談", body="非公開の相談")
    assert await titles(client, "相談", member) == {"内部の相談"}
    assert await titles(client, "相談") == set()


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "、。"}, {"q": "「」"}])
async def test_a_query_with_nothing_searchable_finds_nothing(
    client: httpx2.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/api/v1/search", params=params)
    assert response.status_code == 200
    body = response.json()
    assert (body["items"], body["total"], body["next_cursor"]) == ([], 0, None)
    assert set(body["facets"]) == {"board", "kind", "prefecture", "theme"}


async def test_the_search_page_names_boards_by_title_and_dates_in_japan_time(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await new_thread(client, admin, title="移住の相談", body="移住の話")
    page = await client.get("/search", params={"q": "移住"})
    assert page.status_code == 200
    assert ">kankei (" not in page.text
    assert "年" in page.text.split('class="meta"', 1)[1].split("</time>", 1)[0]


async def test_a_broad_query_ranks_and_counts_only_its_newest_matches(
    client: httpx2.AsyncClient, admin: Member, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forum import search

    await new_board(client, admin)
    await new_thread(client, alice, title="古い人口の話", body="人口の統計")  # two matches
    for title, body in CORPUS:  # "人口減少への対応" matches twice
        await new_thread(client, alice, title=title, body=body)
    await new_board(client, admin, "other")
    for n in range(3):  # three posts match, their titles do not (by three people: no burst)
        writer = await make_member(username=f"writer-{n}")
        await new_thread(client, writer, "other", title=f"報告{n}", body=f"人口の動き{n}")
    whole = await found(client, "人口")
    assert whole["total"] == 7 and whole["total_capped"] is False
    assert "古い人口の話" in {hit["title"] for hit in whole["items"]}

    monkeypatch.setattr(search, "CANDIDATES", 4)
    capped = await found(client, "人口")
    # The newest four: the three posts of "other" and one of "人口減少への対応".
    assert capped["total"] == 4 and capped["total_capped"] is True
    assert capped["facets"]["board"] == {"kankei": 1, "other": 3}
    assert {hit["title"] for hit in capped["items"]} == {
        "報告0",
        "報告1",
        "報告2",
        "人口減少への対応",
    }
    # A chosen board ranks its own newest matches, however far back the site's go.
    kankei = await found(client, "人口", board="kankei")
    assert {hit["title"] for hit in kankei["items"]} == {"古い人口の話", "人口減少への対応"}
    page = await client.get("/search", params={"q": "人口"})
    assert "4件以上見つかりました。" in page.text
