"""Tortoise models of the forum domain and the realtime outbox."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    PARTICIPANT = "participant"
    EXPERT = "expert"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Affiliation(StrEnum):
    MUNICIPALITY = "municipality"  # 自治体
    INTERMEDIARY = "intermediary"  # 中間支援組織
    BUSINESS = "business"  # 民間事業者
    CITIZEN = "citizen"  # 市民
    OTHER = "other"  # その他


class ModerationPolicy(StrEnum):
    OPEN = "open"
    PREMODERATED = "premoderated"
    FIRST_POSTS = "first_posts"


class BoardRole(StrEnum):
    MEMBER = "member"
    EXPERT = "expert"
    MODERATOR = "moderator"


class PostKind(StrEnum):
    POST = "post"
    QUESTION = "question"
    # An expert's written answer to a question of a live session: ``reply_to`` is the question.
    ANSWER = "answer"


class PostStatus(StrEnum):
    PUBLISHED = "published"
    PENDING = "pending"
    REJECTED = "rejected"
    DELETED = "deleted"


class AnswerState(StrEnum):
    """Where a live question stands: open → assigned → answering → one of the last three."""

    OPEN = "open"
    ASSIGNED = "assigned"  # an expert took it, or a moderator routed it to one
    ANSWERING = "answering"  # on stage now: at most one per expert
    ANSWERED_LIVE = "answered_live"
    ANSWERED_WRITTEN = "answered_written"
    DEFERRED = "deferred"


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=32, unique=True)
    display_name = fields.CharField(max_length=50)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=16, default=Role.PARTICIPANT)
    affiliation = fields.CharEnumField(Affiliation, max_length=16, default=Affiliation.OTHER)
    organisation = fields.CharField(max_length=100, default="")
    expert_field = fields.CharField(max_length=100, default="")
    bio = fields.TextField(default="")
    locale = fields.CharField(max_length=8, default="")
    suspended_until = fields.DatetimeField(null=True)
    silenced_until = fields.DatetimeField(null=True)
    published_posts = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"


class LoginSession(Model):
    """A browser login. The cookie holds the raw id, the table its SHA-256."""

    id = fields.CharField(max_length=64, primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="login_sessions", on_delete=fields.CASCADE
    )
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "login_sessions"


class ApiToken(Model):
    """A bearer token. The table keeps its SHA-256 and a short prefix to recognise it by."""

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=50, default="", db_default="")
    hint = fields.CharField(max_length=16, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    # Written at most once a minute per token, so a busy client does not write per request.
    last_used_at = fields.DatetimeField(null=True)
    # Null only on tokens made before tokens expired; accounts.token_expiry covers those.
    expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_tokens"


class Board(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=40, unique=True)
    title = fields.CharField(max_length=100)
    description = fields.TextField(default="")
    moderation = fields.CharEnumField(
        ModerationPolicy, max_length=16, default=ModerationPolicy.OPEN
    )
    private = fields.BooleanField(default=False)
    position = fields.IntField(default=0)
    thread_count = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "boards"


class BoardMember(Model):
    """A user's standing on one board: experts and moderators run it, members read it."""

    id = fields.IntField(primary_key=True)
    board: fields.ForeignKeyRelation[Board] = fields.ForeignKeyField(
        "models.Board", related_name="members", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="board_roles", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(BoardRole, max_length=16)

    class Meta:
        table = "board_members"
        unique_together = (("board", "user"),)


class Thread(Model):
    id = fields.IntField(primary_key=True)
    board: fields.ForeignKeyRelation[Board] = fields.ForeignKeyField(
        "models.Board", related_name="threads", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="threads", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=120)
    pinned = fields.BooleanField(default=False)
    locked = fields.BooleanField(default=False)
    featured = fields.BooleanField(default=False)
    live = fields.BooleanField(default=False)
    moderation = fields.CharEnumField(ModerationPolicy, max_length=16, null=True)
    post_count = fields.IntField(default=0)
    last_post_at = fields.DatetimeField(auto_now_add=True)
    # Who wrote the latest published post: a thread list shows it without a query per row.
    last_poster: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="last_posts_in", null=True, on_delete=fields.SET_NULL
    )
    # Page views, added in batches by forum.views (never one write per view).
    view_count = fields.IntField(default=0, db_default=0)
    deleted = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "threads"
        indexes = (("board_id", "pinned", "last_post_at"),)


class Post(Model):
    id = fields.IntField(primary_key=True)
    thread: fields.ForeignKeyRelation[Thread] = fields.ForeignKeyField(
        "models.Thread", related_name="posts", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="posts", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(PostKind, max_length=16, default=PostKind.POST)
    body = fields.TextField()
    html = fields.TextField()
    status = fields.CharEnumField(PostStatus, max_length=16, default=PostStatus.PUBLISHED)
    reply_to: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="replies", null=True, on_delete=fields.SET_NULL
    )
    anonymous = fields.BooleanField(default=False)
    votes = fields.IntField(default=0)
    answer_state = fields.CharEnumField(AnswerState, max_length=24, null=True)
    # The expert a question is assigned to (also while answering and after).
    assigned_to: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="assigned_questions", null=True, on_delete=fields.SET_NULL
    )
    # A duplicate question merged into another: it leaves view, its votes and followers move.
    merged_into: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="merged_questions", null=True, on_delete=fields.SET_NULL
    )
    # How many questions were merged into this one (同様の質問 N件).
    similar_count = fields.IntField(default=0, db_default=0)
    # The vote count last sent to viewers in a coalesced tally (votes.tallied).
    tallied_votes = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    edited_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    # An edit of a published post that must wait for a moderator: the published body stays
    # until the proposal is approved. Only its author and moderators ever see these.
    proposed_body = fields.TextField(null=True)
    proposed_html = fields.TextField(null=True)
    # The files attached, as forum.attachments keeps them: [{id, name, type, kind, size,
    # width, height, url, thumbnail_url}]. Null for a post without any.
    attachments: Any = fields.JSONField(null=True)

    class Meta:
        table = "posts"
        indexes = (("thread_id", "status", "id"),)


class PostRevision(Model):
    """The body a post had before an edit."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="revisions", on_delete=fields.CASCADE
    )
    editor: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="revisions", on_delete=fields.RESTRICT
    )
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "post_revisions"


class ReadPosition(Model):
    """How far one user has read one thread: the id of the last post they saw there."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="read_positions", on_delete=fields.CASCADE
    )
    thread: fields.ForeignKeyRelation[Thread] = fields.ForeignKeyField(
        "models.Thread", related_name="read_positions", on_delete=fields.CASCADE
    )
    last_read_post_id = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "read_positions"
        unique_together = (("user", "thread"),)


class Vote(Model):
    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="vote_rows", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="votes", on_delete=fields.CASCADE
    )

    class Meta:
        table = "votes"
        unique_together = (("post", "user"),)


class IdempotencyRecord(Model):
    """The first response to a create request, returned again for a retry with the same key."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="idempotency_records", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=128)
    scope = fields.CharField(max_length=64)
    # SHA-256 of the request's content: the same key with another body is a client bug.
    body_hash = fields.CharField(max_length=64, default="", db_default="")
    status_code = fields.IntField()
    response: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_records"
        unique_together = (("user", "key"),)


class ChannelHead(Model):
    """The last sequence number handed out on a realtime channel."""

    channel = fields.CharField(max_length=80, primary_key=True)
    last_seq = fields.BigIntField(default=0)

    class Meta:
        table = "channel_heads"


class OutboxEvent(Model):
    """A realtime event, committed with the change that caused it (transactional outbox)."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=80)
    seq = fields.BigIntField()
    name = fields.CharField(max_length=40)
    payload: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "events"
        unique_together = (("channel", "seq"),)


class NotificationKind(StrEnum):
    POST_APPROVED = "post_approved"
    POST_REJECTED = "post_rejected"
    REVISION_REQUESTED = "revision_requested"
    EDIT_APPROVED = "edit_approved"
    EDIT_REJECTED = "edit_rejected"
    MENTIONED = "mentioned"
    REPLIED = "replied"
    QUOTED = "quoted"
    WATCHED_POST = "watched_post"
    ANSWERED = "answered"
    ANSWER_STATE = "answer_state"
    SESSION_LIVE = "session_live"


class Notification(Model):
    """A notice to one user about what became of their post, with the reason given."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    post: fields.ForeignKeyNullableRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="notifications", null=True, on_delete=fields.SET_NULL
    )
    data: dict[str, Any] = fields.JSONField(default=dict)
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notifications"
        indexes = (("user_id", "read_at", "id"),)


class PopulationBand(StrEnum):
    UNDER_5K = "under_5k"
    FROM_5K = "5k_20k"
    FROM_20K = "20k_50k"
    FROM_50K = "50k_100k"
    FROM_100K = "100k_300k"
    OVER_300K = "over_300k"


class CaseTheme(Model):
    """A theme practice cases are filed under, in a list administrators keep."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=40, unique=True)
    position = fields.IntField(default=0)

    class Meta:
        table = "case_themes"


class PracticeCase(Model):
    """A practice case (実践事例): where, who, when, and what was done, learnt and left."""

    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="cases", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=120)
    prefecture = fields.IntField()  # JIS X 0401 code, 1 (北海道) to 47 (沖縄県)
    municipality = fields.CharField(max_length=60)
    population_band = fields.CharEnumField(PopulationBand, max_length=16)
    organisation = fields.CharField(max_length=100, default="")
    period = fields.CharField(max_length=60, default="")
    background = fields.TextField()
    actions = fields.TextField()
    results = fields.TextField()
    challenges = fields.TextField()
    # The cover photo and the attached reports, as forum.attachments keeps a post's.
    cover: Any = fields.JSONField(null=True)
    attachments: Any = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "practice_cases"
        indexes = (("prefecture", "id"),)


class CaseThemeLink(Model):
    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[PracticeCase] = fields.ForeignKeyField(
        "models.PracticeCase", related_name="theme_links", on_delete=fields.CASCADE
    )
    theme: fields.ForeignKeyRelation[CaseTheme] = fields.ForeignKeyField(
        "models.CaseTheme", related_name="case_links", on_delete=fields.CASCADE
    )

    class Meta:
        table = "case_theme_links"
        unique_together = (("case", "theme"),)


class FollowLevel(StrEnum):
    """Discourse's levels: a notice for every new post, an unread count only, or silence."""

    WATCHING = "watching"
    TRACKING = "tracking"
    MUTED = "muted"


class Follow(Model):
    """One user's follow level on one thread or one board (exactly one of the two is set).

    A thread's own level wins over its board's."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="follows", on_delete=fields.CASCADE
    )
    thread: fields.ForeignKeyNullableRelation[Thread] = fields.ForeignKeyField(
        "models.Thread", related_name="follows", null=True, on_delete=fields.CASCADE
    )
    board: fields.ForeignKeyNullableRelation[Board] = fields.ForeignKeyField(
        "models.Board", related_name="follows", null=True, on_delete=fields.CASCADE
    )
    level = fields.CharEnumField(FollowLevel, max_length=16)
    # The id of the last post the user saw in a tracked or watched thread: unread counts.
    last_read_post_id = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follows"
        unique_together = (("user", "thread"), ("user", "board"))
        indexes = (("thread_id", "level"), ("board_id", "level"))


class MailFrequency(StrEnum):
    IMMEDIATELY = "immediately"
    DAILY = "daily"  # one digest each morning, Japan time
    NEVER = "never"


class MailSettings(Model):
    """A user's email address (shown to nobody) and what they want by email.

    ``email_key`` is the address case-folded: two accounts cannot hold the same address in
    different cases. ``email_kinds_off`` lists the notice kinds the user wants on the page
    only; ``page_kinds_off`` those they do not want on the page (nor, then, by email)."""

    id = fields.IntField(primary_key=True)
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="mail_settings", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254, null=True)
    email_key = fields.CharField(max_length=254, null=True, unique=True)
    confirmed_at = fields.DatetimeField(null=True)
    frequency = fields.CharEnumField(
        MailFrequency, max_length=16, default=MailFrequency.IMMEDIATELY
    )
    email_kinds_off: list[str] = fields.JSONField(default=list)
    page_kinds_off: list[str] = fields.JSONField(default=list)
    digest_sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mail_settings"


class MailStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by one worker, with its claim token
    SENT = "sent"
    DROPPED = "dropped"  # its post left view before it went out: never sent
    FAILED = "failed"  # refused for good, or out of attempts


class OutgoingMail(Model):
    """The durable mail outbox: a row is written in the transaction of what it reports and
    sent by ``forum.mailbox``'s worker, which claims it with a conditional UPDATE."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="mails", null=True, on_delete=fields.CASCADE
    )
    notification: fields.ForeignKeyNullableRelation[Notification] = fields.ForeignKeyField(
        "models.Notification", related_name="mails", null=True, on_delete=fields.SET_NULL
    )
    to_addr = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=200)
    text_body = fields.TextField()
    html_body = fields.TextField()
    unsubscribe_url = fields.CharField(max_length=500, default="")
    message_id = fields.CharField(max_length=200, unique=True)
    status = fields.CharEnumField(MailStatus, max_length=16, default=MailStatus.QUEUED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claim_token = fields.CharField(max_length=64, null=True)
    claimed_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "mail_outbox"
        indexes = (("status", "next_attempt_at"),)
