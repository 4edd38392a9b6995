"""The HTML pages: rendering in both languages, forms, CSRF, sessions, permissions, escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from starlette.applications import Starlette

from forum import boards, posts, render, threads
from forum.gate import OpenGate, Verdict
from forum.models import Board, Post, PostStatus, Role, Thread, User
from forum.permissions import Actor
from tests.conftest import PASSWORD, Member, make_member, make_user
from tests.forum.support import h1_of, log_in, new_board, new_thread, token_for, token_in


class HoldEverything(OpenGate):
    """A gate that sends every post to the moderation queue."""

    async def review(
        self,
        actor: Actor,
        board: Board,
        thread: Thread | None,
        body: str,
        *,
        kind: str = "post",
        editing: Post | None = None,
    ) -> Verdict:
        return Verdict(PostStatus.PENDING, ("test",))


# --- rendering ----------------------------------------------------------------------------


async def test_every_page_renders_in_japanese_with_a_japanese_heading(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    pages = {
        "/": "地域の実践をつなぐ交流掲示板",
        "/boards": "掲示板一覧",
        "/b/kankei": "関係人口の創出・拡大",
        f"/t/{thread['id']}": "ふるさと納税の活用",
        "/login": "ログイン",
        "/register": "新規登録",
        "/u/alice": "alice さん",
    }
    for path, heading in pages.items():
        page = await client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="ja">' in page.text
        assert h1_of(page) == heading, path
        assert "本文へ移動" in page.text
    await log_in(client, "admin-sato")
    for path, heading in {
        "/b/kankei/new": "新しいスレッド",
        "/admin": "管理",
        "/admin/boards/kankei": "掲示板の設定：関係人口の創出・拡大",
    }.items():
        page = await client.get(path)
        assert page.status_code == 200, path
        assert h1_of(page) == heading, path


async def test_every_page_renders_in_english_with_accept_language_en(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    pages = {
        "/": "Connecting local practice: an exchange board",
        "/boards": "Boards",
        "/b/kankei": "関係人口の創出・拡大",
        f"/t/{thread['id']}": "ふるさと納税の活用",
        "/login": "Log in",
        "/register": "Create an account",
        "/u/alice": "alice さん",
    }
    for path, heading in pages.items():
        page = await client.get(path, headers=english)
        assert page.status_code == 200, path
        assert '<html lang="en">' in page.text
        assert h1_of(page) == heading, path
        assert "Skip to main content" in page.text
        assert "本文へ移動" not in page.text
    thread_page = await client.get(f"/t/{thread['id']}", headers=english)
    assert "Log in to reply" in thread_page.text
    await log_in(client, "admin-sato")
    admin_page = await client.get("/admin", headers=english)
    assert h1_of(admin_page) == "Administration"
    assert "Every post approved first" in admin_page.text


async def test_the_language_switch_sets_a_cookie_that_wins_over_the_browser_language(
    client: httpx2.AsyncClient,
) -> None:
    token = await token_for(client, "/boards")
    response = await client.post(
        "/lang", data={"lang": "en", "next": "/boards", "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/boards"
    assert client.cookies["koryu_lang"] == "en"
    page = await client.get("/boards", headers={"Accept-Language": "ja"})
    assert h1_of(page) == "Boards"
    response = await client.post(
        "/lang", data={"lang": "ja", "next": "https://evil.example/", "csrf_token": token}
    )
    assert response.headers["location"] == "/"
    assert h1_of(await client.get("/boards")) == "掲示板一覧"


async def test_dates_show_in_japan_time_in_the_language_of_the_page(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    stamp = datetime(2026, 11, 26, 5, 5, tzinfo=UTC)
    await Post.filter(thread_id=thread["id"]).update(created_at=stamp)
    japanese = await client.get(f"/t/{thread['id']}")
    assert "2026年11月26日 14:05" in japanese.text
    english = await client.get(f"/t/{thread['id']}", headers={"Accept-Language": "en"})
    assert "Nov 26, 2026, 14:05 JST" in english.text


async def test_empty_home_page_says_so_in_natural_japanese(client: httpx2.AsyncClient) -> None:
    page = await client.get("/")
    assert "紹介できる実践事例はまだありません。" in page.text
    assert "掲示板はまだ用意されていません。" in page.text


async def test_featured_practice_cases_are_highlighted_on_the_home_page(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    case = await new_thread(client, alice, title="空き家バンクから始まった二地域居住")
    await new_thread(client, alice, title="ただの雑談")
    await Thread.filter(id=case["id"]).update(featured=True)
    page = await client.get("/")
    featured = page.text.split("実践事例のハイライト", 1)[1].split("最近の話題", 1)[0]
    assert "空き家バンクから始まった二地域居住" in featured
    assert "ただの雑談" not in featured


async def test_unknown_pages_answer_404_with_the_html_error_page(
    client: httpx2.AsyncClient,
) -> None:
    page = await client.get("/nowhere")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert h1_of(page) == "ページが見つかりません"
    assert (await client.get("/t/99999")).status_code == 404
    assert (await client.get("/t/abc")).status_code == 404


async def test_pages_send_a_content_security_policy_with_a_nonce(
    client: httpx2.AsyncClient,
) -> None:
    page = await client.get("/")
    policy = page.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}'", policy)
    assert "style-src 'self'" in policy
    assert " style=" not in page.text
    assert "<script" not in page.text


# --- permissions --------------------------------------------------------------------------


async def test_anonymous_visitor_gets_404_for_a_private_board_and_its_threads(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_board(client, admin, slug="staff-room", private=True)
    thread = await new_thread(client, admin, slug="staff-room", title="内部の打ち合わせ")
    assert (await client.get("/b/staff-room")).status_code == 404
    assert (await client.get(f"/t/{thread['id']}")).status_code == 404
    assert "内部の打ち合わせ" not in (await client.get("/")).text
    assert "staff-room" not in (await client.get("/boards")).text


async def test_the_admin_page_is_forbidden_for_participants_and_asks_visitors_to_log_in(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    anonymous = await client.get("/admin")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/admin"
    await log_in(client, "alice")
    page = await client.get("/admin")
    assert page.status_code == 403
    assert h1_of(page) == "この操作は許可されていません"
    token = token_in(page)
    response = await client.post(
        "/admin/boards", data={"slug": "mine", "title": "私の掲示板", "csrf_token": token}
    )
    assert response.status_code == 403
    assert not await Board.exists(slug="mine")


async def test_new_thread_form_sends_visitors_to_the_login_page_first(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_board(client, admin)
    response = await client.get("/b/kankei/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/b/kankei/new"


# --- sessions and CSRF --------------------------------------------------------------------


async def test_login_sets_the_session_cookie_and_logout_ends_the_session_at_once(
    app: Starlette, client: httpx2.AsyncClient, alice: Member
) -> None:
    token = await token_for(client, "/login")
    response = await client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": "/boards"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/boards"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("koryu_session=")
    for flag in ("HttpOnly", "SameSite=lax", "Path=/", "Max-Age=2592000"):
        assert flag.lower() in cookie.lower()
    assert "secure" not in cookie.lower()
    old_session = client.cookies["koryu_session"]

    home = await client.get("/")
    assert "alice さん" in home.text
    assert "ログアウト" in home.text
    session_token = token_in(home)
    assert session_token != token

    response = await client.post("/logout", data={"csrf_token": session_token})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "koryu_session" not in client.cookies

    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://testserver", cookies={"koryu_session": old_session}
    ) as replay:
        assert (await replay.get("/api/v1/me")).status_code == 401
        assert "ログアウト" not in (await replay.get("/")).text


async def test_a_wrong_password_rerenders_the_login_form_with_the_name_kept(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    token = await token_for(client, "/login")
    response = await client.post(
        "/login", data={"username": "alice", "password": "not the password", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "ユーザー名またはパスワードが違います。" in response.text
    assert 'value="alice"' in response.text
    assert "koryu_session" not in client.cookies


async def test_login_goes_on_only_to_a_path_of_this_site(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    token = await token_for(client, "/login")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await client.post(
            "/login",
            data={"username": "alice", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert response.headers["location"] == "/", target
        client.cookies.delete("koryu_session")


async def test_the_login_rate_limit_answers_429_with_retry_after(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    token = await token_for(client, "/login")
    form = {"username": "alice", "password": "wrong password!", "csrf_token": token}
    statuses = [(await client.post("/login", data=form)).status_code for _ in range(10)]
    assert statuses == [401] * 10
    limited = await client.post("/login", data={**form, "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert h1_of(limited) == "少し時間をおいてください"
    assert "koryu_session" not in client.cookies


async def test_a_form_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    await log_in(client, "alice")
    token = await token_for(client)
    attempts = [
        ("/b/kankei/new", {"title": "勝手なスレッド", "body": "本文"}),
        (f"/t/{thread['id']}/reply", {"body": "勝手な返信"}),
        ("/logout", {}),
        ("/lang", {"lang": "en"}),
    ]
    for path, data in attempts:
        for bad in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-1] + "x"}):
            response = await client.post(path, data={**data, **bad})
            assert response.status_code == 403, (path, bad)
            assert "フォームの有効期限が切れました" in response.text
    assert await Thread.filter(board__slug="kankei").count() == 1
    assert await Post.filter(thread_id=thread["id"]).count() == 1
    assert "koryu_lang" not in client.cookies
    assert "ログアウト" in (await client.get("/")).text


async def test_a_visitor_form_post_needs_the_visitor_csrf_cookie(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    token = await token_for(client, "/login")
    client.cookies.delete("koryu_csrf")
    response = await client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 403
    assert "koryu_session" not in client.cookies


# --- posting through the forms ------------------------------------------------------------


async def test_a_participant_starts_a_thread_and_replies_through_the_forms(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await log_in(client, "alice")
    token = await token_for(client, "/b/kankei/new")
    response = await client.post(
        "/b/kankei/new",
        data={
            "title": "地域おこし協力隊の定着",
            "body": "任期後も残ってもらうには？",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    thread = await Thread.get(title="地域おこし協力隊の定着")
    assert response.headers["location"] == f"/t/{thread.id}"

    page = await client.get(f"/t/{thread.id}")
    assert "任期後も残ってもらうには？" in page.text
    assert f'data-thread-id="{thread.id}"' in page.text
    assert 'data-seq="1"' in page.text
    assert 'id="posts"' in page.text
    assert '<div id="live-status" aria-live="polite"></div>' in page.text

    response = await client.post(
        f"/t/{thread.id}/reply",
        data={"body": "住まいと仕事の両方が鍵です。", "csrf_token": token_in(page)},
    )
    assert response.status_code == 303
    reply = await Post.get(body="住まいと仕事の両方が鍵です。")
    assert response.headers["location"] == f"/t/{thread.id}#post-{reply.id}"
    page = await client.get(f"/t/{thread.id}")
    assert f'id="post-{reply.id}"' in page.text
    assert "承認待ち" not in page.text


async def test_quote_link_prefills_the_reply_with_a_markdown_blockquote(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice, body="一行目\n二行目")
    first = await Post.get(thread_id=thread["id"])
    await log_in(client, "bob")
    page = await client.get(f"/t/{thread['id']}")
    assert f'href="/t/{thread["id"]}?quote={first.id}#reply"' in page.text
    page = await client.get(f"/t/{thread['id']}?quote={first.id}")
    assert ">&gt; 一行目\n&gt; 二行目\n\n</textarea>" in page.text
    assert f'name="reply_to" value="{first.id}"' in page.text
    response = await client.post(
        f"/t/{thread['id']}/reply",
        data={
            "body": "> 一行目\n\n同感です",
            "reply_to": str(first.id),
            "csrf_token": token_in(page),
        },
    )
    assert response.status_code == 303
    reply = await Post.get(body="> 一行目\n\n同感です")
    assert reply.reply_to_id == first.id  # type: ignore[attr-defined]
    page = await client.get(f"/t/{thread['id']}")
    assert f"#{first.id} への返信" in page.text


async def test_validation_errors_rerender_the_new_thread_form_with_422_and_keep_the_input(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await log_in(client, "alice")
    token = await token_for(client, "/b/kankei/new")
    response = await client.post(
        "/b/kankei/new", data={"title": "", "body": "本文<だけ>は書いた", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "タイトルは1〜120文字で入力してください。" in response.text
    assert "本文&lt;だけ&gt;は書いた</textarea>" in response.text
    assert 'aria-invalid="true"' in response.text
    assert not await Thread.exists(board__slug="kankei")


async def test_an_empty_reply_rerenders_the_thread_with_422_and_keeps_the_reply_target(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    first = await Post.get(thread_id=thread["id"])
    await log_in(client, "alice")
    token = await token_for(client, f"/t/{thread['id']}")
    response = await client.post(
        f"/t/{thread['id']}/reply",
        data={"body": "   ", "reply_to": str(first.id), "csrf_token": token},
    )
    assert response.status_code == 422
    assert "本文を入力してください。" in response.text
    assert f'name="reply_to" value="{first.id}"' in response.text
    assert await Post.filter(thread_id=thread["id"]).count() == 1


async def test_own_pending_post_is_marked_and_the_author_told_it_awaits_approval(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    app.state.gate = HoldEverything()
    await log_in(client, "bob")
    token = await token_for(client, f"/t/{thread['id']}")
    response = await client.post(
        f"/t/{thread['id']}/reply", data={"body": "確認待ちの意見", "csrf_token": token}
    )
    pending = await Post.get(body="確認待ちの意見")
    assert pending.status is PostStatus.PENDING
    assert response.headers["location"] == f"/t/{thread['id']}?posted=pending#post-{pending.id}"
    page = await client.get(response.headers["location"].split("#")[0])
    assert "投稿は承認待ちです。モデレーターの確認後に公開されます。" in page.text
    assert "承認待ち</span>" in page.text
    assert "確認待ちの意見" in page.text
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://testserver"
    ) as anonymous:
        others = await anonymous.get(f"/t/{thread['id']}")
    assert "確認待ちの意見" not in others.text


async def test_a_locked_thread_says_so_and_hides_the_reply_form(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    await Thread.filter(id=thread["id"]).update(locked=True)
    await log_in(client, "alice")
    page = await client.get(f"/t/{thread['id']}")
    assert "このスレッドはロックされています。" in page.text
    assert f'action="/t/{thread["id"]}/reply"' not in page.text
    response = await client.post(
        f"/t/{thread['id']}/reply", data={"body": "それでも書く", "csrf_token": token_in(page)}
    )
    assert response.status_code == 403
    assert not await Post.exists(body="それでも書く")


async def test_board_and_thread_pages_link_to_their_next_pages(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    actor = await boards.load_actor(alice.user)
    board = await Board.get(slug="kankei")
    for n in range(31):
        new = threads.NewThread(title=f"話題{n:02d}", body="本文")
        await threads.create_thread(actor, board, new, gate=OpenGate())
    page = await client.get("/b/kankei")
    assert page.text.count('class="thread-item"') == 30
    cursor = re.search(r'href="/b/kankei\?cursor=([^"]+)"', page.text)
    assert cursor and "次のページ" in page.text
    second = await client.get(f"/b/kankei?cursor={cursor.group(1)}")
    assert second.text.count('class="thread-item"') == 1
    assert "話題00" in second.text
    assert (await client.get("/b/kankei?cursor=garbage")).status_code == 400

    thread = await Thread.get(title="話題00")
    for n in range(50):
        await posts.create_post(actor, thread, board, posts.Draft(body=f"返信{n}"), gate=OpenGate())
    page = await client.get(f"/t/{thread.id}")
    assert page.text.count('<article class="post') == 50
    after = re.search(rf'href="/t/{thread.id}\?after=(\d+)"', page.text)
    assert after
    second = await client.get(f"/t/{thread.id}?after={after.group(1)}")
    assert "返信49" in second.text
    assert "次のページ" not in second.text


# --- accounts -----------------------------------------------------------------------------


async def test_registration_through_the_form_creates_the_account_and_logs_in(
    client: httpx2.AsyncClient,
) -> None:
    page = await client.get("/register")
    for label in ("自治体", "中間支援組織", "民間事業者", "市民", "その他"):
        assert f">{label}</option>" in page.text
    response = await client.post(
        "/register",
        data={
            "username": "tanaka-npo",
            "password": PASSWORD,
            "display_name": "田中 美咲",
            "affiliation": "intermediary",
            "organisation": "NPO法人 つなぐ",
            "csrf_token": token_in(page),
        },
    )
    assert response.status_code == 303
    user = await User.get(username="tanaka-npo")
    assert user.affiliation == "intermediary"
    assert "田中 美咲" in (await client.get("/")).text


async def test_registration_errors_rerender_with_422_and_keep_the_input_but_not_the_password(
    client: httpx2.AsyncClient,
) -> None:
    token = await token_for(client, "/register")
    response = await client.post(
        "/register",
        data={
            "username": "A",
            "password": "short",
            "display_name": "鈴木",
            "affiliation": "business",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "パスワードは10文字以上256文字以下にしてください。" in response.text
    assert 'value="鈴木"' in response.text
    assert 'value="business" selected' in response.text
    assert "short" not in response.text
    assert await User.all().count() == 0


async def test_closed_registration_shows_a_message_and_creates_no_account(
    app: Starlette, client: httpx2.AsyncClient
) -> None:
    app.state.settings = replace(app.state.settings, registration_open=False)
    page = await client.get("/register")
    assert "現在、新規登録を受け付けていません。" in page.text
    assert 'action="/register"' not in page.text
    response = await client.post(
        "/register",
        data={
            "username": "late-comer",
            "password": PASSWORD,
            "display_name": "遅れて来た人",
            "csrf_token": token_in(page),
        },
    )
    assert response.status_code == 403
    assert not await User.exists(username="late-comer")


async def test_profile_shows_the_expert_badge_affiliation_and_recent_posts(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    expert = await make_member(
        username="prof-ito", role=Role.EXPERT, display_name="伊藤 教授", organisation="信州大学"
    )
    await User.filter(id=expert.user.id).update(expert_field="地域経済")
    await new_board(client, admin)
    thread = await new_thread(client, expert, title="関係人口の測り方")
    page = await client.get("/u/prof-ito")
    assert h1_of(page) == "伊藤 教授"
    assert "有識者" in page.text and "地域経済" in page.text
    assert "自治体" in page.text and "信州大学" in page.text
    assert f'href="/t/{thread["id"]}#post-' in page.text
    assert "寄附者と継続的な関係をつくるには？" in page.text  # a plain-text excerpt
    post_page = await client.get(f"/t/{thread['id']}")
    assert '<span class="badge badge-expert">有識者</span>' in post_page.text
    assert '<span class="expert-field">地域経済</span>' in post_page.text
    assert (await client.get("/u/nobody")).status_code == 404


async def test_the_profile_summarises_stored_html_without_rendering_markdown(
    client: httpx2.AsyncClient, admin: Member, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    await new_board(client, admin)
    body = "`<b>` と **継続的な関係**\n\n- 一\n- 二 " + "[" * 19000
    await new_thread(client, alice, title="寄附の続け方", body=body)

    def refuse(source: str) -> str:
        raise AssertionError("the profile page rendered Markdown")

    monkeypatch.setattr(render, "_to_html", refuse)
    page = await client.get(f"/u/{alice.user.username}")
    assert page.status_code == 200
    assert "&lt;b&gt; と 継続的な関係 一 二 [[[" in page.text
    assert "**" not in page.text and "<b>" not in page.text


# --- administration -----------------------------------------------------------------------


async def test_an_admin_creates_a_board_assigns_an_expert_and_changes_a_role_through_forms(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await log_in(client, "admin-sato")
    token = await token_for(client, "/admin")
    response = await client.post(
        "/admin/boards",
        data={
            "slug": "iju",
            "title": "移住・定住",
            "description": "移住相談の現場から",
            "moderation": "premoderated",
            "private": "1",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/boards/iju?done=created"
    board = await Board.get(slug="iju")
    assert board.private and board.moderation == "premoderated"

    response = await client.post(
        "/admin/boards/iju/staff", data={"username": "alice", "role": "expert", "csrf_token": token}
    )
    assert response.status_code == 303
    page = await client.get("/admin/boards/iju?done=staff")
    assert "担当者を設定しました。" in page.text
    assert "alice さん" in page.text

    response = await client.post(
        "/admin/boards/iju/staff", data={"username": "ghost", "role": "expert", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "ユーザーが見つかりません。" in response.text

    response = await client.post(
        "/admin/boards/iju",
        data={"title": "移住・定住の相談", "moderation": "open", "csrf_token": token},
    )
    assert response.status_code == 303
    board = await Board.get(slug="iju")
    assert board.title == "移住・定住の相談" and not board.private

    response = await client.post(
        "/admin/boards/iju/staff/remove", data={"username": "alice", "csrf_token": token}
    )
    assert response.status_code == 303
    assert "alice さん" not in (await client.get("/admin/boards/iju")).text

    response = await client.post(
        "/admin/users/role", data={"username": "alice", "role": "moderator", "csrf_token": token}
    )
    assert response.status_code == 303
    assert (await User.get(username="alice")).role is Role.MODERATOR


async def test_admin_board_form_errors_rerender_with_422_and_keep_the_input(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await log_in(client, "admin-sato")
    token = await token_for(client, "/admin")
    response = await client.post(
        "/admin/boards",
        data={
            "slug": "Bad Slug!",
            "title": "良いタイトル",
            "moderation": "open",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert (
        "URL名は半角の英小文字・数字・ハイフンで、40文字以内で入力してください。" in response.text
    )
    assert 'value="良いタイトル"' in response.text
    assert await Board.all().count() == 0


# --- escaping -----------------------------------------------------------------------------


async def test_script_in_a_post_and_markup_in_a_display_name_never_appear_unescaped(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    mallory = await make_member(username="mallory", display_name="<img src=x onerror=alert(1)>")
    await new_board(client, admin)
    thread = await new_thread(
        client, mallory, title="<script>alert(1)</script>", body="<script>alert(1)</script>"
    )
    first = await Post.get(thread_id=thread["id"])
    await make_user(username="viewer")
    await log_in(client, "viewer")
    for path in (
        "/",
        "/b/kankei",
        f"/t/{thread['id']}",
        f"/t/{thread['id']}?quote={first.id}",
        "/u/mallory",
    ):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)</script>" not in page.text, path
        assert "<img src=x" not in page.text, path
        assert "onerror=alert(1)>" not in page.text, path
    page = await client.get(f"/t/{thread['id']}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


# --- catalogs -----------------------------------------------------------------------------


def test_every_message_of_the_pages_has_an_english_translation() -> None:
    root = Path(__file__).parents[2]
    with (root / "forum/locale/en/LC_MESSAGES/messages.po").open("rb") as handle:
        english = read_po(handle, locale="en")
    method_map = [
        ("forum/templates/**.html", "jinja2"),
        ("forum/web/**.py", "python"),
        ("moderation/web/**.py", "python"),
    ]
    untranslated = set()
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map=method_map
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = english.get(msgid)
        string = entry.string if entry is not None else ""
        strings = string if isinstance(string, list | tuple) else [string]
        if not all(strings):
            untranslated.add(f"{filename}: {msgid}")
    assert not untranslated, "run pybabel extract and translate:\n" + "\n".join(
        sorted(untranslated)
    )
