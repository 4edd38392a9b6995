"""Accessibility of every page: one h1, a skip link, labelled controls, visible focus."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx2

from forum import boards, posts
from forum.gate import OpenGate
from forum.models import Board, Notification, NotificationKind, Post, Thread
from tests.conftest import Member
from tests.forum.support import log_in, new_board, new_thread

STYLE = Path(__file__).parents[2] / "forum/static/style.css"
LABELLED_BY_ATTRIBUTE = ("aria-label", "aria-labelledby")


@dataclass
class Audit(HTMLParser):
    """What a screen-reader or keyboard user meets first on a page, read from its HTML."""

    h1: int = 0
    ids: list[str] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    controls: list[dict[str, str]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, text) in order
    empty_buttons: int = 0
    _link: list[str] | None = None
    _href: str = ""
    _button: list[str] | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.ids.append(values["id"])
        if tag == "h1":
            self.h1 += 1
        elif tag == "label" and "for" in values:
            self.label_for.add(values["for"])
        elif tag in {"input", "select", "textarea"}:
            if values.get("type") not in {"hidden", "submit"}:
                self.controls.append({"tag": tag, **values})
        elif tag == "a" and "href" in values:
            self._link, self._href = [], values["href"]
        elif tag == "button":
            self._button = [values.get("aria-label", "")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            self.links.append((self._href, "".join(self._link).strip()))
            self._link = None
        elif tag == "button" and self._button is not None:
            self.empty_buttons += not "".join(self._button).strip()
            self._button = None

    def handle_data(self, data: str) -> None:
        for sink in (self._link, self._button):
            if sink is not None:
                sink.append(data)

    def unlabelled(self) -> list[str]:
        return [
            c.get("name", c["tag"])
            for c in self.controls
            if c.get("id") not in self.label_for and not any(a in c for a in LABELLED_BY_ATTRIBUTE)
        ]


def audit(page: httpx2.Response) -> Audit:
    result = Audit()
    result.feed(page.text)
    result.close()
    return result


async def pages_of_the_site(client: httpx2.AsyncClient, admin: Member, alice: Member) -> list[str]:
    """A board, a thread with a question, a notice: every kind of page has something to show."""
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    board = await Board.get(slug="kankei")
    actor = await boards.load_actor(admin.user)
    draft = posts.Draft(body="参加者をどう集めましたか？", kind="question")
    await posts.create_post(actor, await Thread.get(id=thread["id"]), board, draft, gate=OpenGate())
    first = await Post.filter(thread_id=thread["id"]).first()
    assert first is not None
    await Notification.create(
        user_id=admin.user.id,
        kind=NotificationKind.POST_APPROVED,
        post_id=first.id,
        data={"thread_id": thread["id"], "thread_title": "ふるさと納税の活用"},
    )
    return [
        "/",
        "/boards",
        "/b/kankei",
        f"/t/{thread['id']}",
        "/u/alice",
        "/nowhere",
    ]


SIGNED_IN_ONLY = [
    "/b/kankei/new",
    "/settings",
    "/notifications",
    "/admin",
    "/admin/boards/kankei",
]


async def test_every_page_has_one_h1_a_working_skip_link_and_labelled_controls(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    public = await pages_of_the_site(client, admin, alice)
    checked = 0
    for signed_in in (False, True):
        if signed_in:
            await log_in(client, "admin-sato")
        for path in [*public, "/login", "/register"] if not signed_in else public + SIGNED_IN_ONLY:
            page = await client.get(path)
            assert page.status_code in (200, 404), path
            found = audit(page)
            assert found.h1 == 1, (path, found.h1)
            assert found.links[0] == ("#main", "本文へ移動"), path
            assert "main" in found.ids, path
            assert found.unlabelled() == [], path
            assert found.empty_buttons == 0, path
            duplicates = {i for i in found.ids if found.ids.count(i) > 1}
            assert not duplicates, (path, duplicates)
            checked += 1
    assert checked == 2 * len(public) + 2 + len(SIGNED_IN_ONLY)


async def test_the_thread_page_links_to_the_reply_textarea_before_the_first_post(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    await log_in(client, "bob")
    page = await client.get(f"/t/{thread['id']}")
    found = audit(page)
    assert ("#reply-body", "返信する") in found.links
    assert '<textarea id="reply-body" name="body"' in page.text
    assert page.text.index('href="#reply-body"') < page.text.index('id="posts"')

    client.cookies.clear()
    visitor = await client.get(f"/t/{thread['id']}")
    assert ("#reply", "返信する") in audit(visitor).links
    assert 'id="reply"' in visitor.text


async def test_a_locked_thread_offers_no_reply_link(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    await Thread.filter(id=thread["id"]).update(locked=True)
    await log_in(client, "alice")
    page = await client.get(f"/t/{thread['id']}")
    assert "返信する</a>" not in page.text


def css_rules() -> dict[str, str]:
    text = re.sub(r"/\*.*?\*/", "", STYLE.read_text(), flags=re.S)
    return {
        selector.strip(): body
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text)
        for selector in selectors.split(",")
    }


def test_keyboard_focus_is_always_visible_and_the_skip_link_appears_on_focus() -> None:
    rules = css_rules()
    assert re.search(r"outline:\s*3px solid", rules[":focus-visible"])
    hidden_outlines = [s for s, body in rules.items() if re.search(r"outline:\s*(none|0)", body)]
    # Only <main> loses its ring: it is focused by the skip link, never by Tab.
    assert hidden_outlines == ["main:focus"]
    assert "top: -3rem" in rules[".skip-link"]
    assert "top: 0.5rem" in rules[".skip-link:focus"]
