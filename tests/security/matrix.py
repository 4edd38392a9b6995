"""Who may do what: every route and every channel kind, for each kind of user, written once.

Columns, in order: anonymous, participant, expert elsewhere (an expert of another board),
expert here (an expert of the board in question), moderator (of that board), admin,
suspended. ``y`` allowed: 2xx, 3xx other than to the login page, 409 or 422 on a valid
request. ``n`` denied: 401, 403, 404, a redirect to the login page, or a form's redirect
back with a ``notice=not_found`` or ``notice=forbidden`` (the queue page's forms say so).

"Here" is the board ``here`` (public, premoderated), or ``closed`` (private; the expert
here and the moderator are its staff) where a row says ``@closed``. A row may be given for
several targets (``@closed``, ``@here``); every route and method needs at least one. A
form that does several things is given once per action (``@start``, ``@follow``).

Sessions of the programme are made on ``here`` (or ``closed``) by the admin: one to come,
one live, one ended, one live on ``closed``.
"""

from __future__ import annotations

ROLES = (
    "anonymous",
    "participant",
    "expert_elsewhere",
    "expert_here",
    "moderator",
    "admin",
    "suspended",
)

EVERYONE = "y y y y y y y"
SIGNED_IN = "n y y y y y n"  # a suspended user's session and tokens are refused
STAFF_HERE = "n n n y y y n"  # the board's experts and moderators, and admins
READERS_HERE = "n n n y y y n"  # readers of a private board: its staff, site staff
MODERATORS = "n n y y y y n"  # staff of any board (an expert moderates their own board)
ADMINS = "n n n n n y n"
CASE_WRITERS = "n n y y n y n"  # experts and admins by site role
NOBODY = "n n n n n n n"

# "METHOD /path[ @target]": one mark per role, in the order of ROLES.
HTTP: dict[str, str] = {
    # --- API: accounts
    "POST /api/v1/users": EVERYONE,
    "GET /api/v1/users/{username}": EVERYONE,
    "PUT /api/v1/users/{username}/role": ADMINS,
    "POST /api/v1/tokens": "y y y y y y n",  # a suspended user's password is refused
    "GET /api/v1/tokens": SIGNED_IN,
    "DELETE /api/v1/tokens/{id}": SIGNED_IN,
    "GET /api/v1/me": SIGNED_IN,
    "POST /api/v1/me/password": SIGNED_IN,
    # --- API: boards
    "GET /api/v1/boards": EVERYONE,
    "POST /api/v1/boards": ADMINS,
    "GET /api/v1/boards/{slug} @here": EVERYONE,
    "GET /api/v1/boards/{slug} @closed": READERS_HERE,
    "PATCH /api/v1/boards/{slug}": ADMINS,
    "PUT /api/v1/boards/{slug}/moderators/{username}": ADMINS,
    "DELETE /api/v1/boards/{slug}/moderators/{username}": ADMINS,
    "GET /api/v1/boards/{slug}/threads @here": EVERYONE,
    "GET /api/v1/boards/{slug}/threads @closed": READERS_HERE,
    "POST /api/v1/boards/{slug}/threads @here": SIGNED_IN,
    "POST /api/v1/boards/{slug}/threads @closed": READERS_HERE,
    # --- API: threads and posts
    "GET /api/v1/threads/{id} @here": EVERYONE,
    "GET /api/v1/threads/{id} @closed": READERS_HERE,
    "PATCH /api/v1/threads/{id}": STAFF_HERE,  # another user's thread
    "GET /api/v1/threads/{id}/posts @here": EVERYONE,
    "GET /api/v1/threads/{id}/posts @closed": READERS_HERE,
    "POST /api/v1/threads/{id}/posts @here": SIGNED_IN,
    "POST /api/v1/threads/{id}/posts @closed": READERS_HERE,
    "GET /api/v1/posts/{id} @here": EVERYONE,
    "GET /api/v1/posts/{id} @closed": READERS_HERE,
    "GET /api/v1/posts/{id} @pending": STAFF_HERE,  # held for approval, another's post
    "PATCH /api/v1/posts/{id}": STAFF_HERE,  # another user's post
    "DELETE /api/v1/posts/{id}": STAFF_HERE,
    "GET /api/v1/posts/{id}/revisions @here": EVERYONE,
    "GET /api/v1/posts/{id}/revisions @closed": READERS_HERE,
    "GET /api/v1/posts/{id}/revisions @pending": STAFF_HERE,
    "PUT /api/v1/posts/{id}/vote": SIGNED_IN,
    "DELETE /api/v1/posts/{id}/vote": SIGNED_IN,
    "POST /api/v1/posts/{id}/flags": SIGNED_IN,
    "POST /api/v1/posts/{id}/resubmit": NOBODY,  # only its author, who is none of these
    "GET /api/v1/notifications": SIGNED_IN,
    "POST /api/v1/notifications/read": SIGNED_IN,
    "GET /api/v1/threads/{id}/follow @here": SIGNED_IN,
    "GET /api/v1/threads/{id}/follow @closed": READERS_HERE,
    "PUT /api/v1/threads/{id}/follow @here": SIGNED_IN,
    "PUT /api/v1/threads/{id}/follow @closed": READERS_HERE,
    "GET /api/v1/boards/{slug}/follow @here": SIGNED_IN,
    "GET /api/v1/boards/{slug}/follow @closed": READERS_HERE,
    "PUT /api/v1/boards/{slug}/follow @here": SIGNED_IN,
    "PUT /api/v1/boards/{slug}/follow @closed": READERS_HERE,
    # --- API: mail settings and search
    "PUT /api/v1/me/email": SIGNED_IN,
    "GET /api/v1/me/mail": SIGNED_IN,
    "PATCH /api/v1/me/mail": SIGNED_IN,
    "GET /api/v1/search @here": EVERYONE,
    "GET /api/v1/search @closed": READERS_HERE,  # narrowed to a private board
    # --- API: uploads; the files follow their post (an orphan is its uploader's alone)
    "POST /api/v1/uploads": SIGNED_IN,
    "GET /files/{key} @here": EVERYONE,
    "GET /files/{key} @closed": READERS_HERE,
    "GET /files/{key} @pending": STAFF_HERE,
    "GET /files/{key} @orphan": NOBODY,
    "GET /files/{key}/thumb @here": EVERYONE,
    "GET /files/{key}/thumb @pending": STAFF_HERE,
    # --- API: moderation
    "GET /api/v1/moderation/queue": MODERATORS,
    "GET /api/v1/moderation/stats": MODERATORS,
    "GET /api/v1/moderation/items/{id}": STAFF_HERE,
    "POST /api/v1/moderation/items/bulk": STAFF_HERE,  # an item elsewhere refuses them all
    "POST /api/v1/moderation/items/{id}/claim": STAFF_HERE,
    "POST /api/v1/moderation/items/{id}/approve": STAFF_HERE,
    "POST /api/v1/moderation/items/{id}/reject": STAFF_HERE,
    "POST /api/v1/moderation/items/{id}/revise": STAFF_HERE,
    "GET /api/v1/moderation/templates": MODERATORS,
    "GET /api/v1/moderation/log": MODERATORS,
    "GET /api/v1/moderation/rules": ADMINS,
    "PATCH /api/v1/moderation/rules": ADMINS,
    "POST /api/v1/moderation/rules/words": ADMINS,
    "DELETE /api/v1/moderation/rules/words/{id}": ADMINS,
    "POST /api/v1/moderation/rules/templates": ADMINS,
    "PATCH /api/v1/moderation/rules/templates/{id}": ADMINS,
    "DELETE /api/v1/moderation/rules/templates/{id}": ADMINS,
    "POST /api/v1/moderation/users/{username}/sanctions": ADMINS,  # site moderators and admins
    "POST /api/v1/moderation/threads/{id}/lock": STAFF_HERE,
    "POST /api/v1/moderation/threads/{id}/unlock": STAFF_HERE,
    "POST /api/v1/moderation/threads/{id}/pin": STAFF_HERE,
    "POST /api/v1/moderation/threads/{id}/unpin": STAFF_HERE,
    "POST /api/v1/moderation/threads/{id}/move": ADMINS,  # needs staff of both boards
    # --- documents, health, static files
    "GET /api/openapi.json": EVERYONE,
    "GET /healthz": EVERYONE,
    "GET /static": EVERYONE,
    # --- pages
    "GET /": EVERYONE,
    "GET /boards": EVERYONE,
    "GET /b/{slug} @here": EVERYONE,
    "GET /b/{slug} @closed": READERS_HERE,
    "GET /b/{slug}/new": SIGNED_IN,
    "POST /b/{slug}/new": SIGNED_IN,
    "GET /t/{id} @here": EVERYONE,
    "GET /t/{id} @closed": READERS_HERE,
    "POST /t/{id}/reply": SIGNED_IN,
    "GET /t/{id}/posts/{post_id}/edit": STAFF_HERE,  # another user's post
    "POST /t/{id}/posts/{post_id}/edit": STAFF_HERE,
    "POST /t/{id}/posts/{post_id}/delete": STAFF_HERE,
    "GET /posts/{id}/revisions @here": EVERYONE,
    "GET /posts/{id}/revisions @closed": READERS_HERE,
    "POST /t/{id}/read @here": SIGNED_IN,
    "POST /t/{id}/read @closed": READERS_HERE,
    "POST /t/{id}/posts/{post_id}/vote": SIGNED_IN,
    "POST /t/{id}/follow @here": SIGNED_IN,
    "POST /t/{id}/follow @closed": READERS_HERE,
    "POST /b/{slug}/follow @here": SIGNED_IN,
    "POST /b/{slug}/follow @closed": READERS_HERE,
    "GET /u/{username}": EVERYONE,
    "GET /login": EVERYONE,
    "POST /login": "y y y y y y n",
    "POST /logout": EVERYONE,
    "GET /register": EVERYONE,
    "POST /register": EVERYONE,
    "POST /lang": EVERYONE,
    "GET /settings": SIGNED_IN,
    "POST /settings": SIGNED_IN,
    "POST /settings/tokens": SIGNED_IN,
    "POST /settings/tokens/{id}/revoke": SIGNED_IN,
    "POST /settings/password": SIGNED_IN,
    "GET /notifications": SIGNED_IN,
    "POST /notifications/read": SIGNED_IN,
    "POST /notifications/{id}/read @own": SIGNED_IN,
    "POST /notifications/{id}/read @other": NOBODY,  # the author's notice
    "GET /settings/notifications": SIGNED_IN,
    "POST /settings/notifications": SIGNED_IN,
    # Links that arrive by email: the signed token is the authority, whoever opens them.
    "GET /mail/confirm": EVERYONE,
    "GET /mail/unsubscribe": EVERYONE,
    "POST /mail/unsubscribe": EVERYONE,
    "GET /password/forgot": EVERYONE,
    "POST /password/forgot": EVERYONE,
    "GET /password/reset": EVERYONE,
    "POST /password/reset": EVERYONE,
    "GET /search @here": EVERYONE,
    "GET /search @closed": READERS_HERE,
    "GET /admin": ADMINS,
    "POST /admin/boards": ADMINS,
    "POST /admin/users/role": ADMINS,
    "GET /admin/boards/{slug}": ADMINS,
    "POST /admin/boards/{slug}": ADMINS,
    "POST /admin/boards/{slug}/staff": ADMINS,
    "POST /admin/boards/{slug}/staff/remove": ADMINS,
    "GET /admin/themes": ADMINS,
    "POST /admin/themes": ADMINS,
    "POST /admin/themes/{id}": ADMINS,
    "POST /admin/themes/{id}/remove": ADMINS,
    # --- practice cases: written by experts, moderators and admins by site role (a board's
    # moderator is a participant of the site), changed by their author and site staff
    "GET /cases": EVERYONE,
    "GET /cases/new": CASE_WRITERS,
    "POST /cases/new": CASE_WRITERS,
    "GET /cases/{id}": EVERYONE,
    "GET /cases/{id}/edit": ADMINS,  # the admin's case
    "POST /cases/{id}/edit": ADMINS,
    "POST /cases/{id}/delete": ADMINS,
    "GET /cases/{id}/edit @own": CASE_WRITERS,  # a case of the person's own, while they write
    "POST /cases/{id}/edit @own": CASE_WRITERS,
    "POST /cases/{id}/delete @own": CASE_WRITERS,
    "GET /moderation": MODERATORS,
    "POST /moderation/items/bulk": STAFF_HERE,
    "POST /moderation/items/{id}/claim": STAFF_HERE,
    "POST /moderation/items/{id}/approve": STAFF_HERE,
    "POST /moderation/items/{id}/reject": STAFF_HERE,
    "POST /moderation/items/{id}/revise": STAFF_HERE,
    "GET /moderation/rules": ADMINS,
    "POST /moderation/rules": ADMINS,
    "POST /moderation/rules/words": ADMINS,
    "POST /moderation/rules/words/{id}/delete": ADMINS,
    "POST /moderation/rules/templates": ADMINS,
    "POST /moderation/rules/templates/{id}": ADMINS,
    "GET /moderation/posts/{id}/flag": SIGNED_IN,
    "POST /moderation/posts/{id}/flag": SIGNED_IN,
    "GET /moderation/posts/{id}/revise": NOBODY,  # only its author
    "POST /moderation/posts/{id}/revise": NOBODY,
    "GET /moderation/log": MODERATORS,
    "GET /moderation/users/{username}": ADMINS,
    "POST /moderation/users/{username}": ADMINS,
    "GET /moderation/threads/{id}": STAFF_HERE,
    "POST /moderation/threads/{id}": STAFF_HERE,
    # --- the programme: sessions on `here` (or `closed`), run by the board's staff
    "GET /api/v1/sessions": EVERYONE,
    "POST /api/v1/sessions @here": STAFF_HERE,
    "GET /api/v1/sessions/{id} @here": EVERYONE,
    "GET /api/v1/sessions/{id} @closed": READERS_HERE,
    "PATCH /api/v1/sessions/{id}": STAFF_HERE,
    "POST /api/v1/sessions/{id}/start": STAFF_HERE,
    "POST /api/v1/sessions/{id}/end": STAFF_HERE,
    "PUT /api/v1/sessions/{id}/follow": SIGNED_IN,
    "PUT /api/v1/sessions/{id}/follow @closed": READERS_HERE,
    "DELETE /api/v1/sessions/{id}/follow": SIGNED_IN,
    "GET /api/v1/sessions/{id}/metrics @here": STAFF_HERE,
    "GET /api/v1/sessions/{id}/metrics @closed": STAFF_HERE,
    # A live question's answer state and merges: the session's experts (none in these
    # sessions) and those who run it, the board's staff and site staff.
    "POST /api/v1/posts/{id}/answer-state": STAFF_HERE,
    "POST /api/v1/posts/{id}/merge": STAFF_HERE,
    "GET /sessions": EVERYONE,
    "GET /sessions.ics": EVERYONE,
    "GET /sessions/new": SIGNED_IN,  # the form; creating needs the board's staff
    "POST /sessions/new @here": STAFF_HERE,
    "GET /sessions/{id} @here": EVERYONE,
    "GET /sessions/{id} @closed": READERS_HERE,
    "GET /sessions/{id}.ics @here": EVERYONE,
    "GET /sessions/{id}.ics @closed": READERS_HERE,
    "GET /sessions/{id}/qr.svg @here": EVERYONE,
    "GET /sessions/{id}/qr.svg @closed": READERS_HERE,
    "GET /sessions/{id}/report @here": EVERYONE,
    "GET /sessions/{id}/report @closed": READERS_HERE,
    "GET /sessions/{id}/export.csv @here": EVERYONE,  # an ended session's published Q&A
    "GET /sessions/{id}/export.csv @closed": READERS_HERE,
    "GET /sessions/{id}/export.md @here": EVERYONE,
    "GET /sessions/{id}/export.md @closed": READERS_HERE,
    "GET /sessions/{id}/edit": STAFF_HERE,
    "POST /sessions/{id}/edit": STAFF_HERE,
    "POST /sessions/{id}/control @start": STAFF_HERE,
    "POST /sessions/{id}/control @end": STAFF_HERE,
    "POST /sessions/{id}/control @follow": SIGNED_IN,
    # The question board and the presenter view show what the thread shows (never an
    # anonymous asker); the console is for the session's experts and the board's staff.
    "GET /sessions/{id}/questions @here": EVERYONE,
    "GET /sessions/{id}/questions @closed": READERS_HERE,
    "GET /sessions/{id}/presenter @here": EVERYONE,
    "GET /sessions/{id}/presenter @closed": READERS_HERE,
    "GET /sessions/{id}/console @here": STAFF_HERE,
    "GET /sessions/{id}/console @closed": STAFF_HERE,
    "GET /j/{code} @here": EVERYONE,
    "GET /j/{code} @closed": READERS_HERE,
}

# "kind[ @target]": subscribing to a channel of that kind over /ws.
CHANNELS: dict[str, str] = {
    "thread @here": EVERYONE,
    "thread @closed": READERS_HERE,
    "board @here": EVERYONE,
    "board @closed": READERS_HERE,
    "moderation @here": STAFF_HERE,
    "session @here": EVERYONE,
    "session @closed": READERS_HERE,
    "user @own": SIGNED_IN,
    "user @participant": "n y n n n n n",  # nobody else reads a user's channel, admins neither
}


def expected(row: str) -> dict[str, bool]:
    marks = row.split()
    assert len(marks) == len(ROLES) and set(marks) <= {"y", "n"}, row
    return {role: mark == "y" for role, mark in zip(ROLES, marks, strict=True)}
