"""Every kind of page, read as its reader reads it: no code, no machine values, no English
on a Japanese page (docs/glossary.md). The demo site gives each page something to show;
moderation leaves a trail (a held post, a flag, a lock, a silence) for the queue and the log.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import httpx2
import pytest

from forum import accounts, boards, posts
from forum.demo import load_demo
from forum.models import Board, Post, PostKind, PracticeCase, Thread, User
from live.demo import load_programme
from live.models import LiveSession, SessionState
from moderation import flags, sanctions, thread_tools
from moderation.gate import ModerationGate
from tests.forum.test_wording import banned

pytestmark = pytest.mark.asyncio

SNAKE_KEY = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
LITERAL = re.compile(r"\b(None|True|False|null|undefined|NaN)\b")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\b\d{1,2}:\d{2}:\d{2}\b")
# Four English words in a row is a sentence that was not translated.
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,}){3,}")
SEEN_ATTRIBUTES = re.compile(r'\s(?:title|aria-label|placeholder|alt)="([^"]*)"')
HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S)


def visible_text(page: str) -> str:
    """What a reader meets: the text between tags and the attributes read aloud or shown."""
    body = HIDDEN.sub(" ", page)
    said = " ".join(SEEN_ATTRIBUTES.findall(body))
    return html.unescape(re.sub(r"<[^>]+>", " ", body) + " " + said)


def problems(text: str, *, japanese: bool) -> list[str]:
    found = [f"key {m}" for m in SNAKE_KEY.findall(text)]
    found += [f"literal {m}" for m in LITERAL.findall(text)]
    found += [f"timestamp {m}" for m in ISO_TIME.findall(text)]
    if japanese:
        found += [f"English {m!r}" for m in ENGLISH.findall(text)]
        found += [f"banned {w!r}" for w in banned("## 使わない語") if w.strip() and w in text]
    return found


async def moderation_trail() -> None:
    """A held post, a flagged post, a locked thread and a silenced participant."""
    admin = await boards.load_actor(await User.get(username="jimukyoku"))
    premoderated = await Board.get(slug="jirei")
    thread = await Thread.filter(board_id=premoderated.id).first()
    assert thread is not None
    author = await boards.load_actor(await User.get(username="kato-npo"))
    draft = posts.Draft(body="**はじめて**投稿します。よろしくお願いします。")
    await posts.create_post(author, thread, premoderated, draft, gate=ModerationGate())
    flagged = await Post.filter(kind=PostKind.POST, author__username="kobayashi").first()
    assert flagged is not None
    watcher = await boards.load_actor(await User.get(username="watanabe"))
    await flags.flag_post(watcher, flagged.id, "offtopic", "話題がずれています")
    other = await Thread.filter(board__slug="digital").first()
    assert other is not None
    await thread_tools.set_thread_flag(admin, other.id, "lock", reason="議論が一段落したため")
    await thread_tools.set_thread_flag(admin, other.id, "pin")
    order = sanctions.SanctionOrder("silence", 24, "同じ宣伝の繰り返し")
    await sanctions.sanction(admin, "watanabe", order)


async def page_paths() -> list[str]:
    thread = await Thread.filter(board__slug="kankei-jinko").first()
    live = await LiveSession.get(state=SessionState.LIVE, kind="breakout")
    case = await PracticeCase.first()
    post = await Post.filter(kind=PostKind.POST, author__username="expert-yamamoto").first()
    assert thread is not None and case is not None and post is not None
    live_thread = live.thread_id  # type: ignore[attr-defined]
    return [
        "/",
        "/boards",
        "/b/kankei-jinko",
        "/b/kankei-jinko/new",
        f"/t/{thread.id}",
        f"/t/{live_thread}",
        "/u/expert-yamamoto",
        "/u/sato-town",
        "/settings",
        "/settings/notifications",
        "/notifications",
        "/search?q=関係人口",
        "/search?q=空き家",
        "/cases",
        f"/cases/{case.id}",
        "/cases/new",
        f"/cases/{case.id}/edit",
        "/admin",
        "/admin/boards/kankei-jinko",
        "/admin/themes",
        "/moderation",
        "/moderation/log",
        "/moderation/rules",
        "/moderation/users/watanabe",
        f"/moderation/threads/{thread.id}",
        f"/moderation/posts/{post.id}/flag",
        "/sessions",
        "/sessions/new",
        f"/sessions/{live.id}",
        f"/sessions/{live.id}/edit",
        f"/sessions/{live.id}/report",
        "/no-such-page",
    ]


async def signed_in(client: httpx2.AsyncClient, username: str) -> None:
    raw, _session = await accounts.start_session(await User.get(username=username), days=1)
    client.cookies.set("koryu_session", raw)


async def test_no_page_shows_code_machine_values_or_untranslated_english(
    client: httpx2.AsyncClient,
) -> None:
    assert await load_demo()
    assert await load_programme(datetime.now(UTC))
    await moderation_trail()
    paths = await page_paths()
    found: dict[str, list[str]] = {}
    await signed_in(client, "jimukyoku")
    texts = {}
    for path in paths:
        page = await client.get(path)
        assert page.status_code in (200, 404), (path, page.status_code)
        texts[path] = visible_text(page.text)
        found[path] = problems(texts[path], japanese=True)
    # The pages have what the scan is for: a log of sentences, a queue, a live Q&A.
    assert "まで発言停止にしました。" in texts["/moderation/log"]
    assert "をロックしました。" in texts["/moderation/log"]
    assert "問題なし（公開を続ける）" in texts["/moderation"] and "公開する" in texts["/moderation"]
    assert "協力隊" in texts[paths[5]]
    for path in ("/moderation?kind=bogus", "/search?q=町&kind=bogus", "/b/kankei-jinko?cursor=x"):
        refused = await client.get(path)
        assert refused.status_code == 400, path
        found[path] = problems(visible_text(refused.text), japanese=True)
        assert "開き直してください。" in visible_text(refused.text), path
    wrong_method = await client.delete("/boards")
    assert wrong_method.status_code == 405
    found["DELETE /boards"] = problems(visible_text(wrong_method.text), japanese=True)
    client.cookies.clear()
    for path in ("/login", "/register", "/password/forgot", "/b/kankei-jinko"):
        found[f"{path} (signed out)"] = problems(
            visible_text((await client.get(path)).text), japanese=True
        )
    await signed_in(client, "watanabe")
    for path in ("/b/kankei-jinko", paths[4], "/notifications"):
        text = visible_text((await client.get(path)).text)
        if path != "/notifications":
            assert "発言停止中のため" in text and "同じ宣伝の繰り返し" in text, path
        found[f"{path} (silenced)"] = problems(text, japanese=True)
    found = {path: hits for path, hits in found.items() if hits}
    assert not found, "\n".join(f"{path}: {hits}" for path, hits in found.items())


async def test_english_pages_show_no_code_or_machine_values_either(
    client: httpx2.AsyncClient,
) -> None:
    assert await load_demo()
    assert await load_programme(datetime.now(UTC))
    await moderation_trail()
    await signed_in(client, "jimukyoku")
    client.cookies.set("koryu_lang", "en")
    found = {}
    for path in await page_paths():
        hits = problems(visible_text((await client.get(path)).text), japanese=False)
        if hits:
            found[path] = hits
    assert not found, "\n".join(f"{path}: {hits}" for path, hits in found.items())
