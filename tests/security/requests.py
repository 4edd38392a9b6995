"""One valid request for each row of the matrix, made for a given person.

A request that changes or uses up what it acts on (a decision, a deletion, a logout)
gets a fresh object, or a fresh user of the same kind, for every person; the rest share
the site built once per database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from moderation.policies import RuleSettings
from moderation.ruleset import SETTING_NAMES
from tests.conftest import PASSWORD
from tests.security.site import Person, Site


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    api: bool = True
    person: Person | None = field(default=None)  # when the request needs a fresh user
    files: dict[str, tuple[str, bytes]] | None = None  # a multipart upload


Make = Callable[[Site, Person], Awaitable[Call]]
REQUESTS: dict[str, Make] = {}


def row(key: str) -> Callable[[Make], Make]:
    def register(make: Make) -> Make:
        assert key not in REQUESTS, key
        REQUESTS[key] = make
        return make

    return register


def simple(key: str, path: str, **options: Any) -> None:
    method = key.split()[0]

    async def make(site: Site, person: Person) -> Call:
        return Call(method, path.format(**site.ids, me=person.username), **options)

    row(key)(make)


def page(key: str, path: str, form: dict[str, str] | None = None) -> None:
    method = key.split()[0]

    async def make(site: Site, person: Person) -> Call:
        filled = path.format(**site.ids, me=person.username)
        return Call(method, filled, form=form if method == "POST" else None, api=False)

    row(key)(make)


# --- API: accounts ------------------------------------------------------------------------


@row("POST /api/v1/users")
async def _register(site: Site, person: Person) -> Call:
    name = site.unique("newcomer")
    return Call(
        "POST", "/api/v1/users", {"username": name, "password": PASSWORD, "display_name": "新規"}
    )


simple("GET /api/v1/users/{username}", "/api/v1/users/author-ito")


@row("PUT /api/v1/users/{username}/role")
async def _role(site: Site, person: Person) -> Call:
    return Call("PUT", "/api/v1/users/target-kimura/role", {"role": "expert"})


@row("POST /api/v1/tokens")
async def _token(site: Site, person: Person) -> Call:
    username = person.username or "author-ito"
    return Call("POST", "/api/v1/tokens", {"username": username, "password": PASSWORD})


simple("GET /api/v1/tokens", "/api/v1/tokens")


@row("DELETE /api/v1/tokens/{id}")
async def _revoke(site: Site, person: Person) -> Call:
    return Call("DELETE", f"/api/v1/tokens/{await site.token_of(person)}")


simple("GET /api/v1/me", "/api/v1/me")


@row("POST /api/v1/me/password")
async def _password(site: Site, person: Person) -> Call:
    fresh = await site.person(person.role)
    body = {"current_password": PASSWORD, "new_password": "another horse battery"}
    return Call("POST", "/api/v1/me/password", body, person=fresh)


# --- API: boards --------------------------------------------------------------------------

simple("GET /api/v1/boards", "/api/v1/boards")


@row("POST /api/v1/boards")
async def _new_board(site: Site, person: Person) -> Call:
    slug = site.unique("board")
    return Call("POST", "/api/v1/boards", {"slug": slug, "title": "新しい掲示板"})


simple("GET /api/v1/boards/{slug} @here", "/api/v1/boards/here")
simple("GET /api/v1/boards/{slug} @closed", "/api/v1/boards/closed")
simple("PATCH /api/v1/boards/{slug}", "/api/v1/boards/here", json={"description": "更新"})


@row("PUT /api/v1/boards/{slug}/moderators/{username}")
async def _add_staff(site: Site, person: Person) -> Call:
    return Call("PUT", "/api/v1/boards/open/moderators/target-kimura", {"role": "expert"})


@row("DELETE /api/v1/boards/{slug}/moderators/{username}")
async def _remove_staff(site: Site, person: Person) -> Call:
    return Call("DELETE", f"/api/v1/boards/here/moderators/{await site.staff_member()}")


simple("GET /api/v1/boards/{slug}/threads @here", "/api/v1/boards/here/threads")
simple("GET /api/v1/boards/{slug}/threads @closed", "/api/v1/boards/closed/threads")
THREAD = {"title": "新しい話題", "body": "本文です"}
simple("POST /api/v1/boards/{slug}/threads @here", "/api/v1/boards/here/threads", json=THREAD)
simple("POST /api/v1/boards/{slug}/threads @closed", "/api/v1/boards/closed/threads", json=THREAD)

# --- API: threads and posts ---------------------------------------------------------------

simple("GET /api/v1/threads/{id} @here", "/api/v1/threads/{thread_here}")
simple("GET /api/v1/threads/{id} @closed", "/api/v1/threads/{thread_closed}")
simple("PATCH /api/v1/threads/{id}", "/api/v1/threads/{thread_here}", json={"title": "改題"})
simple("GET /api/v1/threads/{id}/posts @here", "/api/v1/threads/{thread_here}/posts")
simple("GET /api/v1/threads/{id}/posts @closed", "/api/v1/threads/{thread_closed}/posts")
REPLY = {"body": "ありがとうございます"}
simple("POST /api/v1/threads/{id}/posts @here", "/api/v1/threads/{thread_here}/posts", json=REPLY)
simple(
    "POST /api/v1/threads/{id}/posts @closed", "/api/v1/threads/{thread_closed}/posts", json=REPLY
)
simple("GET /api/v1/posts/{id} @here", "/api/v1/posts/{post_here}")
simple("GET /api/v1/posts/{id} @closed", "/api/v1/posts/{post_closed}")
simple("GET /api/v1/posts/{id} @pending", "/api/v1/posts/{pending_post}")


@row("PATCH /api/v1/posts/{id}")
async def _edit(site: Site, person: Person) -> Call:
    return Call(
        "PATCH", f"/api/v1/posts/{await site.here_post_by_author()}", {"body": "直しました"}
    )


@row("DELETE /api/v1/posts/{id}")
async def _delete(site: Site, person: Person) -> Call:
    return Call("DELETE", f"/api/v1/posts/{await site.here_post_by_author()}")


simple("GET /api/v1/posts/{id}/revisions @here", "/api/v1/posts/{post_here}/revisions")
simple("GET /api/v1/posts/{id}/revisions @closed", "/api/v1/posts/{post_closed}/revisions")
simple("GET /api/v1/posts/{id}/revisions @pending", "/api/v1/posts/{pending_post}/revisions")
simple("PUT /api/v1/posts/{id}/vote", "/api/v1/posts/{question_here}/vote")
simple("DELETE /api/v1/posts/{id}/vote", "/api/v1/posts/{question_here}/vote")


@row("POST /api/v1/posts/{id}/flags")
async def _flag(site: Site, person: Person) -> Call:
    # Flags hide a post at the threshold: each person flags one of their own finding.
    return Call("POST", f"/api/v1/posts/{await site.post()}/flags", {"reason": "spam"})


simple("POST /api/v1/posts/{id}/resubmit", "/api/v1/posts/{revision_post}/resubmit", json=REPLY)
simple("GET /api/v1/notifications", "/api/v1/notifications")
simple("POST /api/v1/notifications/read", "/api/v1/notifications/read", json={})
WATCH = {"level": "watching"}
for _target in ("here", "closed"):
    _thread = f"/api/v1/threads/{{thread_{_target}}}/follow"
    simple(f"GET /api/v1/threads/{{id}}/follow @{_target}", _thread)
    simple(f"PUT /api/v1/threads/{{id}}/follow @{_target}", _thread, json=WATCH)
    simple(f"GET /api/v1/boards/{{slug}}/follow @{_target}", f"/api/v1/boards/{_target}/follow")
    simple(
        f"PUT /api/v1/boards/{{slug}}/follow @{_target}",
        f"/api/v1/boards/{_target}/follow",
        json=WATCH,
    )

# --- API: mail settings and search --------------------------------------------------------


@row("PUT /api/v1/me/email")
async def _email(site: Site, person: Person) -> Call:
    return Call("PUT", "/api/v1/me/email", {"email": f"{site.unique('tanto')}@example.jp"})


simple("GET /api/v1/me/mail", "/api/v1/me/mail")
simple("PATCH /api/v1/me/mail", "/api/v1/me/mail", json={"frequency": "daily"})
simple("GET /api/v1/search @here", "/api/v1/search?q=はじめに&board=here")
simple("GET /api/v1/search @closed", "/api/v1/search?q=はじめに&board=closed")

# --- API: moderation ----------------------------------------------------------------------

simple("GET /api/v1/moderation/queue", "/api/v1/moderation/queue")
simple("GET /api/v1/moderation/stats", "/api/v1/moderation/stats")
simple("GET /api/v1/moderation/items/{id}", "/api/v1/moderation/items/{item}")


def _decision(action: str) -> None:
    @row(f"POST /api/v1/moderation/items/{{id}}/{action}")
    async def make(site: Site, person: Person) -> Call:
        item, version = await site.pending_item()
        return Call("POST", f"/api/v1/moderation/items/{item}/{action}", {"version": version})


for _action in ("claim", "approve", "reject", "revise"):
    _decision(_action)


@row("POST /api/v1/moderation/items/bulk")
async def _bulk(site: Site, person: Person) -> Call:
    item, version = await site.pending_item()
    selection = {"items": [{"id": item, "version": version}], "decision": "approve"}
    return Call("POST", "/api/v1/moderation/items/bulk", selection)


simple("GET /api/v1/moderation/templates", "/api/v1/moderation/templates")
simple("GET /api/v1/moderation/log", "/api/v1/moderation/log")
simple("GET /api/v1/moderation/rules", "/api/v1/moderation/rules")
SETTINGS = {name: getattr(RuleSettings(), name) for name in SETTING_NAMES}
simple("PATCH /api/v1/moderation/rules", "/api/v1/moderation/rules", json=SETTINGS)


@row("POST /api/v1/moderation/rules/words")
async def _add_word(site: Site, person: Person) -> Call:
    return Call("POST", "/api/v1/moderation/rules/words", {"word": site.unique("ことば")})


@row("DELETE /api/v1/moderation/rules/words/{id}")
async def _remove_word(site: Site, person: Person) -> Call:
    return Call("DELETE", f"/api/v1/moderation/rules/words/{await site.word()}")


@row("POST /api/v1/moderation/rules/templates")
async def _add_template(site: Site, person: Person) -> Call:
    return Call("POST", "/api/v1/moderation/rules/templates", {"text": site.unique("定型 ")})


@row("PATCH /api/v1/moderation/rules/templates/{id}")
async def _change_template(site: Site, person: Person) -> Call:
    path = f"/api/v1/moderation/rules/templates/{await site.template()}"
    return Call("PATCH", path, {"text": "書き直し"})


@row("DELETE /api/v1/moderation/rules/templates/{id}")
async def _remove_template(site: Site, person: Person) -> Call:
    return Call("DELETE", f"/api/v1/moderation/rules/templates/{await site.template()}")


simple(
    "POST /api/v1/moderation/users/{username}/sanctions",
    "/api/v1/moderation/users/target-kimura/sanctions",
    json={"kind": "silence", "hours": 1},
)
for _tool in ("lock", "unlock", "pin", "unpin"):
    simple(
        f"POST /api/v1/moderation/threads/{{id}}/{_tool}",
        f"/api/v1/moderation/threads/{{thread_here}}/{_tool}",
        json={},
    )


@row("POST /api/v1/moderation/threads/{id}/move")
async def _move(site: Site, person: Person) -> Call:
    thread = await site.thread_on("here")
    return Call("POST", f"/api/v1/moderation/threads/{thread}/move", {"board": "elsewhere"})


simple("GET /api/openapi.json", "/api/openapi.json")
simple("GET /healthz", "/healthz")
simple("GET /static", "/static/style.css", api=False)

# --- pages --------------------------------------------------------------------------------

page("GET /", "/")
page("GET /boards", "/boards")
page("GET /b/{slug} @here", "/b/here")
page("GET /b/{slug} @closed", "/b/closed")
page("GET /b/{slug}/new", "/b/here/new")
page("POST /b/{slug}/new", "/b/here/new", {"title": "ページから", "body": "本文"})
page("GET /t/{id} @here", "/t/{thread_here}")
page("GET /t/{id} @closed", "/t/{thread_closed}")
page("POST /t/{id}/reply", "/t/{thread_here}/reply", {"body": "ページから返信"})


@row("GET /t/{id}/posts/{post_id}/edit")
async def _edit_page(site: Site, person: Person) -> Call:
    post = await site.here_post_by_author()
    return Call("GET", f"/t/{site.ids['thread_here']}/posts/{post}/edit", api=False)


@row("POST /t/{id}/posts/{post_id}/edit")
async def _edit_from_page(site: Site, person: Person) -> Call:
    post = await site.here_post_by_author()
    path = f"/t/{site.ids['thread_here']}/posts/{post}/edit"
    return Call("POST", path, form={"body": "ページで直しました"}, api=False)


@row("POST /t/{id}/posts/{post_id}/delete")
async def _delete_from_page(site: Site, person: Person) -> Call:
    post = await site.here_post_by_author()
    return Call("POST", f"/t/{site.ids['thread_here']}/posts/{post}/delete", form={}, api=False)


page("GET /posts/{id}/revisions @here", "/posts/{post_here}/revisions")
page("GET /posts/{id}/revisions @closed", "/posts/{post_closed}/revisions")
page("POST /t/{id}/read @here", "/t/{thread_here}/read", {"post_id": "1"})
page("POST /t/{id}/read @closed", "/t/{thread_closed}/read", {"post_id": "1"})
page(
    "POST /t/{id}/posts/{post_id}/vote", "/t/{thread_here}/posts/{question_here}/vote", {"up": "1"}
)
page("POST /t/{id}/follow @here", "/t/{thread_here}/follow", {"level": "watching"})
page("POST /t/{id}/follow @closed", "/t/{thread_closed}/follow", {"level": "tracking"})
page("POST /b/{slug}/follow @here", "/b/here/follow", {"level": "watching"})
page("POST /b/{slug}/follow @closed", "/b/closed/follow", {"level": "muted"})
page("GET /u/{username}", "/u/author-ito")
page("GET /login", "/login")


@row("POST /login")
async def _login(site: Site, person: Person) -> Call:
    # Logging in rotates the session the browser had: a fresh user keeps the others' intact.
    fresh = await site.person(person.role)
    form = {"username": fresh.username or "author-ito", "password": PASSWORD}
    return Call("POST", "/login", form=form, api=False, person=fresh)


@row("POST /logout")
async def _logout(site: Site, person: Person) -> Call:
    return Call("POST", "/logout", form={}, api=False, person=await site.person(person.role))


page("GET /register", "/register")


@row("POST /register")
async def _register_page(site: Site, person: Person) -> Call:
    form = {"username": site.unique("visitor"), "password": PASSWORD, "display_name": "来訪者"}
    return Call("POST", "/register", form=form, api=False)


page("POST /lang", "/lang", {"lang": "en"})
page("GET /settings", "/settings")
page("POST /settings", "/settings", {"display_name": "表示名", "affiliation": "other"})
page("POST /settings/tokens", "/settings/tokens", {"name": "スクリプト", "days": "30"})


@row("POST /settings/tokens/{id}/revoke")
async def _revoke_page(site: Site, person: Person) -> Call:
    return Call(
        "POST", f"/settings/tokens/{await site.token_of(person)}/revoke", form={}, api=False
    )


@row("POST /settings/password")
async def _password_page(site: Site, person: Person) -> Call:
    form = {"current_password": PASSWORD, "new_password": "another horse battery"}
    fresh = await site.person(person.role)
    return Call("POST", "/settings/password", form=form, api=False, person=fresh)


page("GET /notifications", "/notifications")
page("POST /notifications/read", "/notifications/read", {})
page("GET /admin", "/admin")


@row("POST /notifications/{id}/read @own")
async def _read_own(site: Site, person: Person) -> Call:
    path = f"/notifications/{await site.notice_of(person)}/read"
    return Call("POST", path, form={}, api=False)


@row("POST /notifications/{id}/read @other")
async def _read_other(site: Site, person: Person) -> Call:
    path = f"/notifications/{await site.notice_of(site.people['anonymous'])}/read"
    return Call("POST", path, form={}, api=False)


page("GET /settings/notifications", "/settings/notifications")
page("POST /settings/notifications", "/settings/notifications", {"frequency": "daily"})


@row("GET /mail/confirm")
async def _confirm(site: Site, person: Person) -> Call:
    return Call("GET", f"/mail/confirm?t={site.confirm_token()}", api=False)


@row("GET /mail/unsubscribe")
async def _unsubscribe_ask(site: Site, person: Person) -> Call:
    return Call("GET", f"/mail/unsubscribe?t={site.unsubscribe_token()}", api=False)


@row("POST /mail/unsubscribe")
async def _unsubscribe(site: Site, person: Person) -> Call:
    return Call("POST", f"/mail/unsubscribe?t={site.unsubscribe_token()}", form={}, api=False)


page("GET /password/forgot", "/password/forgot")


@row("POST /password/forgot")
async def _forgot(site: Site, person: Person) -> Call:
    form = {"email": f"{site.unique('wasure')}@example.jp"}
    return Call("POST", "/password/forgot", form=form, api=False)


@row("GET /password/reset")
async def _reset_form(site: Site, person: Person) -> Call:
    return Call("GET", f"/password/reset?t={await site.reset_token()}", api=False)


@row("POST /password/reset")
async def _reset(site: Site, person: Person) -> Call:
    form = {"t": await site.reset_token(), "new_password": "another horse battery"}
    return Call("POST", "/password/reset", form=form, api=False)


page("GET /search @here", "/search?q=はじめに&board=here")
page("GET /search @closed", "/search?q=はじめに&board=closed")

# --- practice cases and their themes --------------------------------------------------------

CASE_FORM = {
    "title": "ページから登録した事例",
    "prefecture": "1",
    "municipality": "東川町",
    "population_band": "5k_20k",
    "background": "写真の町づくり。",
    "actions": "写真甲子園を開きました。",
    "results": "移住者が増えました。",
    "challenges": "住まいの確保です。",
}
page("GET /admin/themes", "/admin/themes")


@row("POST /admin/themes")
async def _add_theme(site: Site, person: Person) -> Call:
    return Call("POST", "/admin/themes", form={"name": site.unique("新テーマ ")}, api=False)


@row("POST /admin/themes/{id}")
async def _rename_theme(site: Site, person: Person) -> Call:
    form = {"name": site.unique("改名テーマ ")}
    return Call("POST", f"/admin/themes/{await site.theme()}", form=form, api=False)


@row("POST /admin/themes/{id}/remove")
async def _remove_theme(site: Site, person: Person) -> Call:
    return Call("POST", f"/admin/themes/{await site.theme()}/remove", form={}, api=False)


page("GET /cases", "/cases")
page("GET /cases/new", "/cases/new")
page("POST /cases/new", "/cases/new", CASE_FORM)
page("GET /cases/{id}", "/cases/{case}")
page("GET /cases/{id}/edit", "/cases/{case}/edit")
page("POST /cases/{id}/edit", "/cases/{case}/edit", {**CASE_FORM, "title": "書き直した事例"})


@row("POST /cases/{id}/delete")
async def _delete_case(site: Site, person: Person) -> Call:
    return Call("POST", f"/cases/{await site.case()}/delete", form={}, api=False)


@row("POST /admin/boards")
async def _admin_board(site: Site, person: Person) -> Call:
    form = {"slug": site.unique("page-board"), "title": "新しい掲示板", "moderation": "open"}
    return Call("POST", "/admin/boards", form=form, api=False)


page("POST /admin/users/role", "/admin/users/role", {"username": "target-kimura", "role": "expert"})
page("GET /admin/boards/{slug}", "/admin/boards/here")
page(
    "POST /admin/boards/{slug}",
    "/admin/boards/here",
    {"title": "掲示板 here", "description": "説明", "moderation": "premoderated"},
)
page(
    "POST /admin/boards/{slug}/staff",
    "/admin/boards/open/staff",
    {"username": "target-kimura", "role": "expert"},
)


@row("POST /admin/boards/{slug}/staff/remove")
async def _remove_staff_page(site: Site, person: Person) -> Call:
    form = {"username": await site.staff_member()}
    return Call("POST", "/admin/boards/here/staff/remove", form=form, api=False)


page("GET /moderation", "/moderation")


def _decision_page(action: str) -> None:
    @row(f"POST /moderation/items/{{id}}/{action}")
    async def make(site: Site, person: Person) -> Call:
        item, version = await site.pending_item()
        form = {"version": str(version)}
        return Call("POST", f"/moderation/items/{item}/{action}", form=form, api=False)


for _action in ("claim", "approve", "reject", "revise"):
    _decision_page(_action)


@row("POST /moderation/items/bulk")
async def _bulk_page(site: Site, person: Person) -> Call:
    item, version = await site.pending_item()
    form = {"item": str(item), f"v{item}": str(version), "decision": "approve"}
    return Call("POST", "/moderation/items/bulk", form=form, api=False)


page("GET /moderation/rules", "/moderation/rules")
page("POST /moderation/rules", "/moderation/rules", {k: str(v) for k, v in SETTINGS.items()})


@row("POST /moderation/rules/words")
async def _add_word_page(site: Site, person: Person) -> Call:
    form = {"word": site.unique("ページ語"), "action": "hold"}
    return Call("POST", "/moderation/rules/words", form=form, api=False)


@row("POST /moderation/rules/words/{id}/delete")
async def _remove_word_page(site: Site, person: Person) -> Call:
    return Call("POST", f"/moderation/rules/words/{await site.word()}/delete", form={}, api=False)


@row("POST /moderation/rules/templates")
async def _add_template_page(site: Site, person: Person) -> Call:
    form = {"text": site.unique("ページ定型 ")}
    return Call("POST", "/moderation/rules/templates", form=form, api=False)


@row("POST /moderation/rules/templates/{id}")
async def _change_template_page(site: Site, person: Person) -> Call:
    path = f"/moderation/rules/templates/{await site.template()}"
    return Call("POST", path, form={"text": "書き直し"}, api=False)


page("GET /moderation/posts/{id}/flag", "/moderation/posts/{post_here}/flag")


@row("POST /moderation/posts/{id}/flag")
async def _flag_page(site: Site, person: Person) -> Call:
    path = f"/moderation/posts/{await site.post()}/flag"
    return Call("POST", path, form={"reason": "spam"}, api=False)


page("GET /moderation/posts/{id}/revise", "/moderation/posts/{revision_post}/revise")
page(
    "POST /moderation/posts/{id}/revise",
    "/moderation/posts/{revision_post}/revise",
    {"body": "直しました"},
)
page("GET /moderation/log", "/moderation/log")
page("GET /moderation/users/{username}", "/moderation/users/target-kimura")
page(
    "POST /moderation/users/{username}",
    "/moderation/users/target-kimura",
    {"kind": "silence", "hours": "1"},
)
page("GET /moderation/threads/{id}", "/moderation/threads/{thread_here}")
page("POST /moderation/threads/{id}", "/moderation/threads/{thread_here}", {"action": "pin"})

# --- the programme: sessions (live/) --------------------------------------------------------

SESSION_EDIT = {"venue": "第2会議室"}

simple("GET /api/v1/sessions", "/api/v1/sessions")


@row("POST /api/v1/sessions @here")
async def _new_session(site: Site, person: Person) -> Call:
    body = {
        "title": site.unique("研修会 "),
        "kind": "training",
        "board": "here",
        "starts_at": "2030-02-01T13:00+09:00",
        "ends_at": "2030-02-01T15:00+09:00",
    }
    return Call("POST", "/api/v1/sessions", body)


simple("GET /api/v1/sessions/{id} @here", "/api/v1/sessions/{session_live}")
simple("GET /api/v1/sessions/{id} @closed", "/api/v1/sessions/{session_closed}")
simple("PATCH /api/v1/sessions/{id}", "/api/v1/sessions/{session_scheduled}", json=SESSION_EDIT)


@row("POST /api/v1/sessions/{id}/start")
async def _start(site: Site, person: Person) -> Call:
    return Call("POST", f"/api/v1/sessions/{await site.session()}/start")


@row("POST /api/v1/sessions/{id}/end")
async def _end(site: Site, person: Person) -> Call:
    return Call("POST", f"/api/v1/sessions/{await site.session(state='live')}/end")


simple("PUT /api/v1/sessions/{id}/follow", "/api/v1/sessions/{session_scheduled}/follow")
simple("DELETE /api/v1/sessions/{id}/follow", "/api/v1/sessions/{session_scheduled}/follow")
simple("GET /api/v1/sessions/{id}/metrics @here", "/api/v1/sessions/{session_live}/metrics")
simple("GET /api/v1/sessions/{id}/metrics @closed", "/api/v1/sessions/{session_closed}/metrics")
simple("PUT /api/v1/sessions/{id}/follow @closed", "/api/v1/sessions/{session_closed}/follow")


@row("POST /api/v1/posts/{id}/answer-state")
async def _answer_state(site: Site, person: Person) -> Call:
    question = await site.live_question()
    return Call("POST", f"/api/v1/posts/{question}/answer-state", {"state": "deferred"})


@row("POST /api/v1/posts/{id}/merge")
async def _merge(site: Site, person: Person) -> Call:
    target, duplicate = await site.live_question(), await site.live_question()
    return Call("POST", f"/api/v1/posts/{duplicate}/merge", {"into": target})


page("GET /sessions", "/sessions")
page("GET /sessions.ics", "/sessions.ics")
page("GET /sessions/new", "/sessions/new?board=here")
SESSION_FORM = {
    "title": "ページから作る分科会",
    "kind": "breakout",
    "board": "here",
    "starts_at": "2030-03-01T13:00",
    "ends_at": "2030-03-01T14:30",
    "premoderate": "1",
    "slow_mode_seconds": "30",
}
page("POST /sessions/new @here", "/sessions/new", SESSION_FORM)
for _target, _name in (("@here", "session_live"), ("@closed", "session_closed")):
    _id = f"{{{_name}}}"
    page(f"GET /sessions/{{id}} {_target}", f"/sessions/{_id}")
    page(f"GET /sessions/{{id}}.ics {_target}", f"/sessions/{_id}.ics")
    page(f"GET /sessions/{{id}}/qr.svg {_target}", f"/sessions/{_id}/qr.svg")
    page(f"GET /sessions/{{id}}/report {_target}", f"/sessions/{_id}/report")
    page(f"GET /sessions/{{id}}/questions {_target}", f"/sessions/{_id}/questions?sort=new")
    page(f"GET /sessions/{{id}}/presenter {_target}", f"/sessions/{_id}/presenter")
    page(f"GET /sessions/{{id}}/console {_target}", f"/sessions/{_id}/console")
page("GET /sessions/{id}/export.csv @here", "/sessions/{session_ended}/export.csv")
page("GET /sessions/{id}/export.md @here", "/sessions/{session_ended}/export.md")
page("GET /sessions/{id}/export.csv @closed", "/sessions/{session_closed}/export.csv")
page("GET /sessions/{id}/export.md @closed", "/sessions/{session_closed}/export.md")
page("GET /sessions/{id}/edit", "/sessions/{session_scheduled}/edit")
page(
    "POST /sessions/{id}/edit",
    "/sessions/{session_scheduled}/edit",
    {**SESSION_FORM, "title": "書き直した分科会"},
)


@row("POST /sessions/{id}/control @start")
async def _start_page(site: Site, person: Person) -> Call:
    path = f"/sessions/{await site.session()}/control"
    return Call("POST", path, form={"action": "start"}, api=False)


@row("POST /sessions/{id}/control @end")
async def _end_page(site: Site, person: Person) -> Call:
    path = f"/sessions/{await site.session(state='live')}/control"
    return Call("POST", path, form={"action": "end"}, api=False)


page(
    "POST /sessions/{id}/control @follow",
    "/sessions/{session_scheduled}/control",
    {"action": "follow"},
)


@row("GET /j/{code} @here")
async def _join(site: Site, person: Person) -> Call:
    return Call("GET", f"/j/{site.codes['session_live']}", api=False)


@row("GET /j/{code} @closed")
async def _join_closed(site: Site, person: Person) -> Call:
    return Call("GET", f"/j/{site.codes['session_closed']}", api=False)


async def _own_case(site: Site, person: Person) -> int:
    """The person's own case; the visitor, who has none, tries the author's."""
    return await site.case(person.member or site.author)


@row("GET /cases/{id}/edit @own")
async def _edit_own_case_form(site: Site, person: Person) -> Call:
    return Call("GET", f"/cases/{await _own_case(site, person)}/edit", api=False)


@row("POST /cases/{id}/edit @own")
async def _edit_own_case(site: Site, person: Person) -> Call:
    path = f"/cases/{await _own_case(site, person)}/edit"
    return Call("POST", path, form={**CASE_FORM, "title": "自分で直した事例"}, api=False)


@row("POST /cases/{id}/delete @own")
async def _delete_own_case(site: Site, person: Person) -> Call:
    return Call("POST", f"/cases/{await _own_case(site, person)}/delete", form={}, api=False)


# --- uploads ------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@row("POST /api/v1/uploads")
async def _upload(site: Site, person: Person) -> Call:
    return Call("POST", "/api/v1/uploads", files={"file": ("報告.pdf", PDF)})


def _file(key: str, which: str, suffix: str = "") -> None:
    async def make(site: Site, person: Person) -> Call:
        return Call("GET", f"/files/{site.files[which]}{suffix}", api=False)

    row(key)(make)


for _which in ("here", "closed", "pending", "orphan"):
    _file(f"GET /files/{{key}} @{_which}", _which)
_file("GET /files/{key}/thumb @here", "here", "/thumb")
_file("GET /files/{key}/thumb @pending", "pending", "/thumb")
