"""The sessions part of the OpenAPI document; forum.app adds it to the forum's."""

from __future__ import annotations

from forum.web.openapi import (
    BOOL,
    INT,
    STR,
    TIME,
    Operation,
    Part,
    Schema,
    list_of,
    nullable,
    obj,
    ref,
)
from forum.web.parsers import Spec
from live.web.inputs import (
    ANSWER_STATE_INPUT,
    MERGE_INPUT,
    SESSION_INPUT,
    SESSION_PATCH,
    SESSION_QUERY,
)

__all__ = ["OPENAPI"]

KIND = {"enum": ["forum", "training", "breakout", "other"]}
STATE = {"enum": ["scheduled", "live", "ended", "archived"]}
USERS = {"type": "array", "items": {"$ref": "#/components/schemas/User"}}

SCHEMAS: dict[str, Schema] = {
    "Session": obj(
        [
            "id",
            "title",
            "kind",
            "board",
            "starts_at",
            "ends_at",
            "state",
            "experts",
            "moderators",
            "parent",
            "thread",
            "join_url",
        ],
        id=INT,
        title=STR,
        kind=KIND,
        description=STR,
        description_html=STR,
        board=STR,
        starts_at=TIME,
        ends_at=TIME,
        state=STATE,
        venue=STR,
        url=STR,
        organiser=ref("User"),
        experts=USERS,
        moderators=USERS,
        parent=nullable(INT),
        premoderate=BOOL,
        slow_mode_seconds=INT,
        viewer_peak=INT,
        started_at=nullable(TIME),
        ended_at=nullable(TIME),
        thread=ref("Thread"),
        seq=INT,
        join_url=STR,
    ),
    "SessionList": list_of("Session"),
    "SessionInput": SESSION_INPUT.schema(),
    "SessionPatch": SESSION_PATCH.schema(),
    "Following": obj(["session", "following"], session=INT, following=BOOL),
    "SessionMetrics": obj(
        [
            "session",
            "from",
            "to",
            "waiting",
            "approved",
            "rejected",
            "median_seconds",
            "p90_seconds",
            "minutes",
        ],
        session=INT,
        waiting=INT,
        approved=INT,
        rejected=INT,
        median_seconds=nullable({"type": "number"}),
        p90_seconds=nullable({"type": "number"}),
        minutes={
            "type": "array",
            "items": obj(["start", "approved", "rejected"], start=TIME, approved=INT, rejected=INT),
        },
        **{"from": TIME, "to": TIME},
    ),
    "AnswerStateInput": ANSWER_STATE_INPUT.schema(),
    "MergeInput": MERGE_INPUT.schema(),
}

RUN = "the organiser, the board's moderators, the session's moderators"
STAFF = f"the session's experts, {RUN}"
OPERATIONS: list[Operation] = [
    ("get", "/sessions", "The programme, by start time", None, 200, "SessionList", "anyone", False),
    ("post", "/sessions", "Create a session and its live thread", "SessionInput", 201, "Session", "moderators of the board", False),
    ("get", "/sessions/{id}", "One session", None, 200, "Session", "anyone", False),
    ("patch", "/sessions/{id}", "Change a session", "SessionPatch", 200, "Session", RUN, False),
    ("post", "/sessions/{id}/start", "Go live now (409 invalid_state)", None, 200, "Session", RUN, False),
    ("post", "/sessions/{id}/end", "End now (409 invalid_state)", None, 200, "Session", RUN, False),
    ("put", "/sessions/{id}/follow", "Get a notice when the session goes live", None, 200, "Following", "user", False),
    ("delete", "/sessions/{id}/follow", "Stop following", None, 200, "Following", "user", False),
    ("get", "/sessions/{id}/metrics", "Held questions per minute: waiting now, approved and rejected, median and p90 seconds to approval", None, 200, "SessionMetrics", "moderators of the session's board", False),
    ("post", "/posts/{id}/answer-state", "Move a live question: open, assigned, answering (one per expert: the previous goes back to assigned), answered_live, answered_written, deferred; expert routes it (moderators). 403 not_session_staff, route_forbidden; 409 answer_state_changed, assigned_to_other, not_published; 422 not_a_question, not_a_live_question, not_an_expert, expert_required, expert_not_allowed", "AnswerStateInput", 200, "Post", STAFF, False),
    ("post", "/posts/{id}/merge", "Merge a duplicate question into another of the same session: votes once per person, similar_count grows; the same merge again answers alike. 403 not_session_moderator; 409 already_merged, merge_target_changed; 422 merge_into_itself, invalid_merge_target", "MergeInput", 200, "Post", RUN, False),
]  # fmt: skip

QUERY: dict[str, dict[str, Spec]] = {"/sessions": SESSION_QUERY}

OPENAPI = Part(OPERATIONS, SCHEMAS, QUERY)
