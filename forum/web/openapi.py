"""The OpenAPI 3.1 document of API v1, kept next to the routes (a test checks they match)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.web import inputs
from forum.web.api import QUERY
from forum.web.params import SLUG, USERNAME
from forum.web.parsers import ID, Spec
from forum.web.responses import JSON

__all__ = [
    "ANY_OBJECT",
    "BOOL",
    "FORUM",
    "INT",
    "OPERATIONS",
    "STR",
    "TIME",
    "Operation",
    "Part",
    "Query",
    "Schema",
    "document",
    "list_of",
    "nullable",
    "obj",
    "openapi_route",
    "ref",
]

# The building blocks every package's part of the document is written with.
Schema = dict[str, Any]
STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
ANY_OBJECT: Schema = {"type": "object"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str], **props: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": props}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def list_of(name: str) -> Schema:
    return obj(
        ["items", "next_cursor"],
        items={"type": "array", "items": ref(name)},
        next_cursor=nullable(STR),
    )


SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        ["error"],
        error=obj(
            ["code", "message"],
            code=STR,
            message=STR,
            fields={"type": "object", "additionalProperties": STR},
        ),
    ),
    "User": obj(
        ["username", "display_name", "role", "affiliation", "organisation"],
        username=STR,
        display_name=STR,
        role={"enum": ["participant", "expert", "moderator", "admin"]},
        affiliation={"enum": ["municipality", "intermediary", "business", "citizen", "other"]},
        organisation=STR,
        expert_field=STR,
        avatar=obj(["initials", "hue"], initials=STR, hue=INT),
    ),
    "Board": obj(
        ["slug", "title", "description", "moderation"],
        slug=STR,
        title=STR,
        description=STR,
        moderation={"enum": ["open", "premoderated", "first_posts"]},
        private=BOOL,
        thread_count=INT,
    ),
    "Thread": obj(
        ["id", "board", "title", "pinned", "locked", "live", "post_count", "seq", "created_at"],
        id=INT,
        board=STR,
        title=STR,
        pinned=BOOL,
        locked=BOOL,
        featured=BOOL,
        live=BOOL,
        moderation=nullable({"enum": ["open", "premoderated", "first_posts"]}),
        post_count=INT,
        seq=INT,
        created_at=TIME,
        last_post_at=TIME,
    ),
    "Post": obj(
        [
            "id",
            "thread_id",
            "author",
            "kind",
            "body",
            "html",
            "status",
            "reply_to",
            "votes",
            "answer_state",
            "created_at",
            "edited_at",
            "badge",
        ],
        id=INT,
        thread_id=INT,
        author=nullable(ref("User")),
        kind={"enum": ["post", "question", "answer"]},
        body=STR,
        html=STR,
        status={"enum": ["published", "pending", "rejected", "deleted"]},
        reply_to=nullable(INT),
        anonymous=BOOL,
        votes=INT,
        # Questions only (null for other posts): where the question stands in a live session.
        answer_state=nullable(
            {
                "enum": [
                    "open",
                    "assigned",
                    "answering",
                    "answered_live",
                    "answered_written",
                    "deferred",
                ]
            }
        ),
        # The expert a question is assigned to.
        assigned_to=nullable(obj(["username", "display_name"], username=STR, display_name=STR)),
        # How many duplicate questions were merged into this one (同様の質問 N件).
        similar_count=INT,
        created_at=TIME,
        edited_at=nullable(TIME),
        badge=nullable({"enum": ["expert", "moderator", "admin"]}),
        # Only for the post's author and its moderators: an edit waiting for approval.
        proposal=obj(["body", "html"], body=STR, html=STR),
        attachments={"type": "array", "items": ref("Attachment")},
    ),
    # A file on a post (forum.attachments keeps these); POST /uploads answers with one.
    "Attachment": obj(
        ["id", "name", "type", "kind", "size", "url", "thumbnail_url"],
        id=INT,
        name=STR,
        type=STR,
        kind={"enum": ["image", "document"]},
        size=INT,
        width=nullable(INT),
        height=nullable(INT),
        url=STR,
        thumbnail_url=nullable(STR),
    ),
    "Registration": inputs.REGISTRATION.schema(),
    "Credentials": inputs.CREDENTIALS.schema(),
    "ApiToken": obj(
        ["id", "name", "hint", "created_at", "last_used_at", "expires_at", "expired"],
        id=INT,
        name=STR,
        hint=STR,
        created_at=TIME,
        last_used_at=nullable(TIME),
        expires_at=TIME,
        expired=BOOL,
    ),
    "TokenCreated": obj(
        ["token", "user", "api_token"], token=STR, user=ref("User"), api_token=ref("ApiToken")
    ),
    "PasswordChange": inputs.PASSWORD_CHANGE.schema(),
    "PasswordChanged": obj(
        ["sessions_ended", "tokens_revoked"], sessions_ended=INT, tokens_revoked=INT
    ),
    "BoardInput": inputs.BOARD_INPUT.schema(),
    "BoardPatch": inputs.BOARD_PATCH.schema(),
    "StaffInput": inputs.STAFF_INPUT.schema(),
    "Staff": obj(["board", "username", "role"], board=STR, username=STR, role=STR),
    "RoleInput": inputs.ROLE_INPUT.schema(),
    "NewThread": inputs.NEW_THREAD.schema(),
    "ThreadCreated": obj(["thread", "post"], thread=ref("Thread"), post=ref("Post")),
    "ThreadPatch": inputs.THREAD_PATCH.schema(),
    "NewPost": inputs.NEW_POST.schema(),
    "PostPatch": inputs.POST_PATCH.schema(),
    "VoteResult": obj(["id", "votes", "voted"], id=INT, votes=INT, voted=BOOL),
    "BoardList": list_of("Board"),
    "ThreadList": list_of("Thread"),
    "PostList": list_of("Post"),
    "ApiTokenList": list_of("ApiToken"),
    "Revision": obj(
        ["number", "editor", "created_at", "before", "after"],
        number=INT,
        editor=nullable(ref("User")),
        created_at=TIME,
        before=STR,
        after=STR,
    ),
    "RevisionList": list_of("Revision"),
}

ERRORS = {
    "400": "bad_request, bad_json, bad_media_type, invalid_cursor, bad_query",
    "401": "not_authenticated, invalid_credentials, invalid_token, token_expired, suspended",
    "403": "forbidden, csrf_failed, login_required, thread_locked, silenced",
    "404": "not_found",
    "409": "idempotency_key_reused",
    "413": "payload_too_large",
    "422": (
        "invalid (with fields), username_taken, username_confusable, wrong_password, slug_taken, "
        "idempotency_key_mismatch, blocked_word, title_held"
    ),
    "429": "rate_limited (Retry-After header)",
}

# (method, path, summary, request schema, success status, response schema, auth, idempotent)
Operation = tuple[str, str, str, str | None, int, str | None, str, bool]
Query = Mapping[str, Mapping[str, Spec]]
# What a path segment of each name may be: the parsers in forum.web.params read it.
PATH: Mapping[str, Spec] = {"id": ID, "post_id": ID, "username": USERNAME, "slug": SLUG}
OPERATIONS: list[Operation] = [
    ("post", "/users", "Register an account", "Registration", 201, "User", "anyone", False),
    ("get", "/users/{username}", "A user's public profile", None, 200, "User", "anyone", False),
    (
        "put",
        "/users/{username}/role",
        "Set a user's role",
        "RoleInput",
        200,
        "User",
        "admin",
        False,
    ),
    ("post", "/tokens", "Get a bearer token", "Credentials", 201, "TokenCreated", "anyone", False),
    ("get", "/tokens", "One's own API tokens", None, 200, "ApiTokenList", "user", False),
    ("delete", "/tokens/{id}", "Revoke one of one's own tokens", None, 204, None, "user", False),
    ("get", "/me", "The current user", None, 200, "User", "user", False),
    (
        "post",
        "/me/password",
        "Change one's password; every other session and every token ends",
        "PasswordChange",
        200,
        "PasswordChanged",
        "user",
        False,
    ),
    ("get", "/boards", "Boards the caller may read", None, 200, "BoardList", "anyone", False),
    ("post", "/boards", "Create a board", "BoardInput", 201, "Board", "admin", False),
    ("get", "/boards/{slug}", "One board", None, 200, "Board", "anyone", False),
    ("patch", "/boards/{slug}", "Edit a board", "BoardPatch", 200, "Board", "admin", False),
    (
        "put",
        "/boards/{slug}/moderators/{username}",
        "Make a user an expert, moderator or member of a board",
        "StaffInput",
        200,
        "Staff",
        "admin",
        False,
    ),
    (
        "delete",
        "/boards/{slug}/moderators/{username}",
        "Remove a user from a board's staff",
        None,
        204,
        None,
        "admin",
        False,
    ),
    (
        "get",
        "/boards/{slug}/threads",
        "Threads of a board, pinned first, newest activity first",
        None,
        200,
        "ThreadList",
        "anyone",
        False,
    ),
    (
        "post",
        "/boards/{slug}/threads",
        "Start a thread with its first post",
        "NewThread",
        201,
        "ThreadCreated",
        "user",
        True,
    ),
    (
        "get",
        "/threads/{id}",
        "One thread with its current realtime seq",
        None,
        200,
        "Thread",
        "anyone",
        False,
    ),
    (
        "patch",
        "/threads/{id}",
        "Retitle (author, moderators) or pin/lock/feature (moderators)",
        "ThreadPatch",
        200,
        "Thread",
        "user",
        False,
    ),
    (
        "get",
        "/threads/{id}/posts",
        "Published posts in order (and the caller's own pending ones)",
        None,
        200,
        "PostList",
        "anyone",
        False,
    ),
    (
        "post",
        "/threads/{id}/posts",
        "Reply or ask a question",
        "NewPost",
        201,
        "Post",
        "user",
        True,
    ),
    ("get", "/posts/{id}", "One post", None, 200, "Post", "anyone", False),
    (
        "patch",
        "/posts/{id}",
        "Edit a post (the old body is kept as a revision)",
        "PostPatch",
        200,
        "Post",
        "author or moderator",
        False,
    ),
    (
        "delete",
        "/posts/{id}",
        "Delete a post (soft)",
        None,
        204,
        None,
        "author or moderator",
        False,
    ),
    (
        "get",
        "/posts/{id}/revisions",
        "A post's edits, newest first: the body before and after each",
        None,
        200,
        "RevisionList",
        "anyone",
        False,
    ),
    ("put", "/posts/{id}/vote", "Upvote a question", None, 200, "VoteResult", "user", False),
    ("delete", "/posts/{id}/vote", "Take back an upvote", None, 200, "VoteResult", "user", False),
]


def _operation(
    method: str,
    path: str,
    summary: str,
    body: str | None,
    status: int,
    result: str | None,
    who: str,
    idempotent: bool,
    query: Query = QUERY,
    schemas: Mapping[str, Schema] = SCHEMAS,
    media: Mapping[str, str] | None = None,
) -> Schema:
    params: list[Schema] = [
        {"name": name, "in": "path", "required": True, "schema": PATH[name].schema()}
        for name in (part[1:-1] for part in path.split("/") if part.startswith("{"))
    ]
    params += [
        # An empty value (`?cursor=`, a filter form left blank) is read as absent.
        {
            "name": n,
            "in": "query",
            "required": False,
            "allowEmptyValue": True,
            "schema": spec.schema(),
        }
        for n, spec in query.get(path, {}).items()
        if method == "get"
    ]
    if idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                "description": "A retry with the same key returns the first result and creates nothing.",
            }
        )
    responses: Schema = {
        str(status): {"description": "OK"}
        if result is None
        else {"description": "OK", "content": {"application/json": {"schema": ref(result)}}}
    }
    for code, meaning in ERRORS.items():
        responses[code] = {
            "description": meaning,
            "content": {"application/json": {"schema": ref("Error")}},
        }
    op: Schema = {
        "summary": summary,
        "description": f"Who: {who}.",
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "parameters": params,
        "responses": responses,
    }
    if body:
        # A body of optional fields only may be left out (forum.web.common.read_body).
        op["requestBody"] = {
            "required": bool(schemas[body].get("required")),
            "content": {(media or {}).get(body, "application/json"): {"schema": ref(body)}},
        }
    if who == "anyone":
        op["security"] = [{}, {"bearer": []}, {"session": []}]
    return op


@dataclass(frozen=True, slots=True)
class Part:
    """One package's share of the document: its operations, their schemas and query parameters."""

    operations: Sequence[Operation]
    schemas: Mapping[str, Schema] = field(default_factory=dict)
    query: Query = field(default_factory=dict)
    # A request body sent as something other than JSON: its schema's name -> media type.
    media: Mapping[str, str] = field(default_factory=dict)


FORUM = Part(OPERATIONS, SCHEMAS, QUERY)


def document(*parts: Part) -> Schema:
    """The document of every part mounted under /api/v1 (forum.app names them)."""
    paths: dict[str, Schema] = {}
    schemas: dict[str, Schema] = {}
    queries: dict[str, Mapping[str, Spec]] = {}
    media: dict[str, str] = {}
    for part in parts:
        schemas.update(part.schemas)
        queries.update(part.query)
        media.update(part.media)
    for part in parts:
        for operation in part.operations:
            method, path = operation[0], operation[1]
            paths.setdefault(f"/api/v1{path}", {})[method] = _operation(
                *operation, query=queries, schemas=schemas, media=media
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "koryu API",
            "version": "1",
            "description": (
                'Errors are {"error": {"code", "message"}}. Cookie-authenticated unsafe '
                "requests need X-CSRF-Token; bearer-token requests do not."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "koryu_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


def openapi_route(*parts: Part) -> Route:
    """GET /api/openapi.json: the document of these parts, built once."""
    built = document(*parts)

    async def openapi(request: Request) -> Response:
        return JSON(built)

    return Route("/api/openapi.json", openapi, methods=["GET"])
