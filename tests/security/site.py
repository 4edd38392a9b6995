"""A small realistic site for the authorization matrix: boards, staff, threads, posts, a
queue, and one user of each kind, each with a bearer token and a browser session."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from PIL import Image

from forum import accounts, cases, mailbox, password_reset, signing
from forum.models import Notification, NotificationKind, PracticeCase, Role, User
from forum.permissions import Actor
from live.models import LiveSession
from moderation import ruleset
from moderation.models import QueueItem
from tests.conftest import PASSWORD, Member, make_member

ANON_CSRF = "matrix-anonymous-csrf-token"


@dataclass
class Person:
    """One kind of user: None for the anonymous visitor."""

    role: str
    member: Member | None
    session: str = ""
    csrf: str = ANON_CSRF

    @property
    def username(self) -> str:
        return self.member.user.username if self.member else ""

    def api_headers(self) -> dict[str, str]:
        return self.member.headers if self.member else {}

    def page_headers(self) -> dict[str, str]:
        cookie = f"koryu_csrf={ANON_CSRF}"
        if self.session:
            cookie += f"; koryu_session={self.session}"
        return {"Cookie": cookie}


@dataclass
class Site:
    client: httpx2.AsyncClient
    admin: Member
    author: Member  # writes the posts and threads others act on; a member of `closed`
    target: Member  # a participant whom roles and sanctions are tried on
    secret_key: str  # signs the links that arrive by email
    people: dict[str, Person] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # join codes of sessions
    files: dict[str, str] = field(default_factory=dict)  # keys of uploaded files
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    async def api(self, method: str, path: str, who: Member, **body: Any) -> dict[str, Any]:
        response = await self.client.request(
            method, f"/api/v1{path}", json=body or None, headers=who.headers
        )
        assert response.status_code in {200, 201}, (path, response.text)
        data: dict[str, Any] = response.json()
        return data

    async def upload(self, who: Member, name: str = "資料.png") -> dict[str, Any]:
        picture = io.BytesIO()
        Image.new("RGB", (40, 30), (10, 120, 200)).save(picture, format="PNG")
        response = await self.client.post(
            "/api/v1/uploads", files={"file": (name, picture.getvalue())}, headers=who.headers
        )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def staff(self, slug: str, username: str, role: str) -> None:
        await self.api("PUT", f"/boards/{slug}/moderators/{username}", self.admin, role=role)

    async def person(self, role: str, name: str | None = None) -> Person:
        """A user of the given kind; a fresh one for requests that use up their session."""
        if role == "anonymous":
            return Person(role, None)
        # Names without protected words ("moderator", "admin"), which only staff may take.
        name = name or self.unique("kind-")
        site_role = {"expert_elsewhere": Role.EXPERT, "expert_here": Role.EXPERT}.get(
            role, Role.ADMIN if role == "admin" else Role.PARTICIPANT
        )
        member = await make_member(username=name, role=site_role)
        if role == "expert_elsewhere":
            await self.staff("elsewhere", name, "expert")
        if role in {"expert_here", "moderator"}:
            board_role = "expert" if role == "expert_here" else "moderator"
            await self.staff("here", name, board_role)
            await self.staff("closed", name, board_role)
        raw, session = await accounts.start_session(member.user, days=1)
        if role == "suspended":
            until = datetime.now(UTC) + timedelta(days=1)
            await User.filter(id=member.user.id).update(suspended_until=until)
            # Their session is refused, so their pages carry a visitor's CSRF token.
            return Person(role, member, session=raw)
        return Person(role, member, session=raw, csrf=session.csrf_token)

    # --- fresh objects for requests that change or use up what they act on -------------

    async def post(self, slug: str = "here", *, kind: str = "post") -> int:
        thread = self.ids[f"thread_{slug}"]
        body = {"body": self.unique("返信 "), "kind": kind}
        who = self.admin if slug == "here" else self.author
        return int((await self.api("POST", f"/threads/{thread}/posts", who, **body))["id"])

    async def authored_post(self) -> int:
        """A published post by the author on `open`, where the author posts unmoderated."""
        thread = self.ids["thread_open"]
        body = {"body": self.unique("投稿 ")}
        return int((await self.api("POST", f"/threads/{thread}/posts", self.author, **body))["id"])

    async def here_post_by_author(self) -> int:
        """A post by the author on `here`, published by the admin's approval."""
        item, version = await self.pending_item()
        await self.api("POST", f"/moderation/items/{item}/approve", self.admin, version=version)
        return int((await QueueItem.get(id=item)).post_id)  # type: ignore[attr-defined]

    async def thread_on(self, slug: str) -> int:
        body = {"title": self.unique("話題 "), "body": "本文"}
        created = await self.api("POST", f"/boards/{slug}/threads", self.admin, **body)
        return int(created["thread"]["id"])

    async def pending_item(self) -> tuple[int, int]:
        """A post held on the premoderated board `here`: its queue item's id and version."""
        thread = self.ids["thread_here"]
        body = {"body": self.unique("承認待ち ")}
        post = await self.api("POST", f"/threads/{thread}/posts", self.author, **body)
        assert post["status"] == "pending", post
        item = await QueueItem.get(post_id=post["id"])
        return item.id, item.version

    async def token_of(self, person: Person) -> int:
        if person.member is None:
            return self.ids["author_token"]
        issued = await accounts.issue_token(person.member.user, days=1, max_days=90)
        return issued.token.id

    async def word(self) -> int:
        row = await ruleset.add_word(Actor(user=self.admin.user), self.unique("禁止語"), "hold")
        return row.id

    async def template(self) -> int:
        row = await ruleset.add_template(Actor(user=self.admin.user), self.unique("定型文 "))
        return row.id

    async def session(self, slug: str = "here", *, state: str = "scheduled") -> int:
        """A session of the programme on a board, made by the admin, moved to ``state``."""
        starts = datetime.now(UTC) + timedelta(days=1)
        body = {
            "title": self.unique("分科会 "),
            "kind": "breakout",
            "board": slug,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
        }
        session = int((await self.api("POST", "/sessions", self.admin, **body))["id"])
        if state in {"live", "ended"}:
            await self.api("POST", f"/sessions/{session}/start", self.admin)
        if state == "ended":
            await self.api("POST", f"/sessions/{session}/end", self.admin)
        return session

    async def live_question(self) -> int:
        """A published question in the live session's thread, asked by the admin."""
        thread = self.ids["session_live_thread"]
        body = {"body": self.unique("質問 "), "kind": "question"}
        asked = await self.api("POST", f"/threads/{thread}/posts", self.admin, **body)
        assert asked["status"] == "published", asked
        return int(asked["id"])

    async def case(self, owner: Member | None = None) -> int:
        """A practice case written by the admin, or credited to ``owner`` (whatever their role
        now: an expert made participant keeps their cases)."""
        data = cases.CaseFields(
            title=self.unique("空き家バンクの立ち上げ "),
            prefecture=13,
            municipality="檜原村",
            population_band="under_5k",
            background="空き家が増えています。",
            actions="所有者に聞き取りをしました。",
            results="移住者が5世帯増えました。",
            challenges="改修費の負担です。",
        )
        case = await cases.create_case(Actor(user=self.admin.user), data)
        if owner is not None:
            await PracticeCase.filter(id=case.id).update(author_id=owner.user.id)
        return case.id

    async def theme(self) -> int:
        return (await cases.add_theme(Actor(user=self.admin.user), self.unique("テーマ "))).id

    async def notice_of(self, person: Person) -> int:
        """A notice of the person's own (the author's for the visitor, who has none)."""
        owner = person.member or self.author
        notice = await Notification.create(
            user_id=owner.user.id, kind=NotificationKind.REPLIED, data={}
        )
        return notice.id

    def confirm_token(self) -> str:
        """A link confirming a fresh address for the target."""
        payload = {"u": self.target.user.id, "e": f"{self.unique('mail')}@example.jp"}
        expires = datetime.now(UTC) + timedelta(hours=1)
        return signing.sign(self.secret_key, mailbox.CONFIRM, payload, expires=expires)

    def unsubscribe_token(self) -> str:
        payload = {"u": self.target.user.id}
        return signing.sign(self.secret_key, mailbox.UNSUBSCRIBE, payload, expires=None)

    async def reset_token(self) -> str:
        """A password reset link for a fresh participant (a link is good for one use)."""
        user = (await make_member(username=self.unique("reset-"))).user
        payload = {"u": user.id, "f": password_reset._fingerprint(user)}
        expires = datetime.now(UTC) + timedelta(hours=1)
        return signing.sign(self.secret_key, password_reset.PURPOSE, payload, expires=expires)

    async def staff_member(self) -> str:
        name = self.unique("tanto-")
        await make_member(username=name)
        await self.staff("here", name, "expert")
        return name


async def build_site(client: httpx2.AsyncClient, *, secret_key: str) -> Site:
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    author = await make_member(username="author-ito")
    target = await make_member(username="target-kimura")
    site = Site(client, admin, author, target, secret_key)
    boards: dict[str, dict[str, Any]] = {
        "here": {"moderation": "premoderated"},
        "elsewhere": {},
        "closed": {"private": True},
        "open": {},
    }
    for slug, extra in boards.items():
        await site.api(
            "POST", "/boards", admin, slug=slug, title=f"掲示板 {slug}", description="説明", **extra
        )
    await site.api("PUT", "/boards/closed/moderators/author-ito", admin, role="member")
    await site.api("PUT", "/boards/open/moderators/author-ito", admin, role="expert")
    for slug, who in (("here", admin), ("closed", author), ("open", author)):
        created = await site.api(
            "POST", f"/boards/{slug}/threads", who, title=f"{slug} のスレッド", body="はじめに"
        )
        site.ids[f"thread_{slug}"] = created["thread"]["id"]
        site.ids[f"post_{slug}"] = created["post"]["id"]
    site.ids["question_here"] = await site.post("here", kind="question")
    item, _version = await site.pending_item()
    site.ids["pending_post"] = (await QueueItem.get(id=item)).post_id  # type: ignore[attr-defined]
    site.ids["item"] = item
    # A post sent back to its author for revision: only the author may resubmit it.
    revise_item, version = await site.pending_item()
    await site.api("POST", f"/moderation/items/{revise_item}/revise", admin, version=version)
    site.ids["revision_post"] = (await QueueItem.get(id=revise_item)).post_id  # type: ignore[attr-defined]
    # The programme: a session to come, one under way with its live thread, one over, and
    # one on the private board.
    site.ids["session_scheduled"] = await site.session()
    site.ids["session_live"] = await site.session(state="live")
    site.ids["session_ended"] = await site.session(state="ended")
    site.ids["session_closed"] = await site.session("closed", state="live")
    for name in ("session_live", "session_closed"):
        row = await LiveSession.get(id=site.ids[name])
        site.ids[f"{name}_thread"] = row.thread_id  # type: ignore[attr-defined]
        site.codes[name] = row.join_code
    site.ids["case"] = await site.case()
    # Files on a published post of `here`, on a post of `closed`, on a post held on `here`,
    # and one never posted (its uploader's alone).
    for name, slug, who in (
        ("here", "here", admin),
        ("closed", "closed", author),
        ("pending", "here", author),
    ):
        upload = await site.upload(who)
        body = {"body": site.unique("添付 "), "attachments": [upload["id"]]}
        thread = site.ids[f"thread_{slug}"]
        await site.api("POST", f"/threads/{thread}/posts", who, **body)
        site.files[name] = upload["url"].rpartition("/")[2]
    site.files["orphan"] = (await site.upload(author))["url"].rpartition("/")[2]
    site.ids["author_token"] = (
        await accounts.issue_token(author.user, days=1, max_days=90)
    ).token.id
    for role in (
        "anonymous",
        "participant",
        "expert_elsewhere",
        "expert_here",
        "moderator",
        "admin",
        "suspended",
    ):
        site.people[role] = await site.person(role)
    return site


__all__ = ["PASSWORD", "Person", "Site", "build_site"]
