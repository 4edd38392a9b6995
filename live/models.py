"""Tortoise models of the programme: sessions, the people who run them, their followers."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from forum.models import Board, Thread, User


class SessionKind(StrEnum):
    FORUM = "forum"  # 全国フォーラム
    TRAINING = "training"  # 研修会
    BREAKOUT = "breakout"  # 分科会
    OTHER = "other"  # その他


class SessionState(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    ARCHIVED = "archived"


class StaffRole(StrEnum):
    EXPERT = "expert"
    MODERATOR = "moderator"


class LiveSession(Model):
    """One session of the programme, owning the live thread made with it."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=120)
    kind = fields.CharEnumField(SessionKind, max_length=16, default=SessionKind.OTHER)
    description = fields.TextField(default="")
    board: fields.ForeignKeyRelation[Board] = fields.ForeignKeyField(
        "models.Board", related_name="live_sessions", on_delete=fields.CASCADE
    )
    thread: fields.OneToOneRelation[Thread] = fields.OneToOneField(
        "models.Thread", related_name="live_session", on_delete=fields.CASCADE
    )
    organiser: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="organised_sessions", on_delete=fields.RESTRICT
    )
    parent: fields.ForeignKeyNullableRelation[LiveSession] = fields.ForeignKeyField(
        "models.LiveSession", related_name="children", null=True, on_delete=fields.SET_NULL
    )
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    state = fields.CharEnumField(SessionState, max_length=16, default=SessionState.SCHEDULED)
    venue = fields.CharField(max_length=200, default="")
    url = fields.CharField(max_length=500, default="")
    join_code = fields.CharField(max_length=16, unique=True)
    premoderate = fields.BooleanField(default=True)
    slow_mode_seconds = fields.IntField(default=30)
    # The most viewers its live thread had at once, across processes, sampled by the clock.
    viewer_peak = fields.IntField(default=0)
    started_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "live_sessions"
        indexes = (("state", "starts_at"),)


class SessionStaff(Model):
    """An expert answering in a session, or a moderator running its questions."""

    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[LiveSession] = fields.ForeignKeyField(
        "models.LiveSession", related_name="staff", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="session_roles", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(StaffRole, max_length=16)

    class Meta:
        table = "live_session_staff"
        unique_together = (("session", "user"),)


class SessionFollower(Model):
    """A participant who wants a notice when the session goes live."""

    id = fields.IntField(primary_key=True)
    session: fields.ForeignKeyRelation[LiveSession] = fields.ForeignKeyField(
        "models.LiveSession", related_name="followers", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="followed_sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "live_session_followers"
        unique_together = (("session", "user"),)
