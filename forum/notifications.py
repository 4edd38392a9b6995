"""Notices to users: what became of their own posts (approved, rejected with the reason,
sent back), and what others wrote for them (mentions, replies, quotes, new posts where they
watch, answers, sessions going live).

A moderation notice is written in the transaction of the decision that caused it. The others
are written after the post's commit (``after_publish``), for all recipients in one INSERT, and
only for people who may see the post. Each is announced on the user's own channel
``user:{id}`` as ``notification.created``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from forum import events, follows, mailbox, outbox
from forum.errors import BadRequest
from forum.i18n import gettext as _
from forum.models import (
    Board,
    BoardMember,
    FollowLevel,
    MailFrequency,
    MailSettings,
    Notification,
    NotificationKind,
    Post,
    PostKind,
    PostStatus,
    Role,
    Thread,
    User,
)
from forum.outbox import Tx
from forum.render import html_excerpt, mentioned_usernames
from forum.resources import iso

__all__ = [
    "SOCIAL_KINDS",
    "NotificationPage",
    "after_publish",
    "list_notifications",
    "mark_read",
    "notification_resource",
    "notify",
    "notify_many",
    "queue_digests",
    "unread_count",
]

EXCERPT = 80
# At most this many people are told of one post's mentions: a post naming the whole
# membership is a broadcast, which is what watching a board is for.
MAX_MENTIONS = 50
# Notices about others' posts: shown only while the post is in view.
SOCIAL_KINDS = frozenset(
    {
        NotificationKind.MENTIONED,
        NotificationKind.REPLIED,
        NotificationKind.QUOTED,
        NotificationKind.WATCHED_POST,
        NotificationKind.ANSWERED,
        NotificationKind.ANSWER_STATE,
    }
)
# A link to a post of this site ("…/t/12#post-345") quotes it.
_QUOTE = re.compile(r"/t/\d+#post-(\d+)")
_MAX_QUOTES = 10
DIGEST_ITEMS = 50  # the newest this many in one digest; the page has the rest
_INSERT_CHUNK = 500  # rows per INSERT: 5 parameters each, far below either database's bound


def _excerpt(post: Post) -> str:
    """Plain text cut from the stored rendering, so no Markdown syntax reaches a notice."""
    if post.html:
        return html_excerpt(post.html, EXCERPT)
    flat = " ".join(post.body.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


async def notify(
    tx: Tx,
    *,
    user_id: int,
    kind: NotificationKind,
    post: Post,
    thread: Thread,
    reason: str = "",
    url: str = "",
    unpublished: bool = False,
) -> Notification:
    """``unpublished``: a post that had been public was taken down (not merely not approved)."""
    notice = await Notification.create(
        user_id=user_id,
        kind=kind,
        post_id=post.id,
        data={
            "thread_id": thread.id,
            "thread_title": thread.title,
            "excerpt": _excerpt(post),
            "reason": reason,
            "url": url,
            **({"unpublished": True} if unpublished else {}),
        },
        using_db=tx.conn,
    )
    tx.emit(events.notification_created(user_id, notification_resource(notice)))
    return notice


def message(notice: Notification) -> str:
    title = str(notice.data.get("thread_title", ""))
    social = _social_message(notice.kind, title, str(notice.data.get("by") or ""))
    if social is not None:
        return social
    if notice.kind is NotificationKind.POST_APPROVED:
        return _("「{title}」への投稿が公開されました。").format(title=title)
    if notice.kind is NotificationKind.POST_REJECTED and notice.data.get("unpublished"):
        return _("「{title}」への投稿は、モデレーターが確認した結果、非公開になりました。").format(
            title=title
        )
    if notice.kind is NotificationKind.POST_REJECTED:
        return _("「{title}」への投稿は公開されませんでした。").format(title=title)
    if notice.kind is NotificationKind.EDIT_APPROVED:
        return _("「{title}」への投稿の編集が承認され、反映されました。").format(title=title)
    if notice.kind is NotificationKind.EDIT_REJECTED:
        return _("「{title}」への投稿の編集は反映されませんでした。").format(title=title)
    if notice.kind is NotificationKind.SESSION_LIVE:
        return _("フォローしているイベント「{title}」が始まりました。").format(title=title)
    return _("「{title}」への投稿について、修正の依頼があります。").format(title=title)


def _social_message(kind: NotificationKind, title: str, by: str) -> str | None:
    # "by" is empty for an anonymous question: such notices name nobody.
    if kind is NotificationKind.MENTIONED:
        if by:
            return _("{name}さんが「{title}」であなたをメンションしました。").format(
                name=by, title=title
            )
        return _("「{title}」であなたをメンションした投稿があります。").format(title=title)
    if kind is NotificationKind.REPLIED:
        if by:
            return _("{name}さんが「{title}」であなたの投稿に返信しました。").format(
                name=by, title=title
            )
        return _("「{title}」であなたの投稿に返信がありました。").format(title=title)
    if kind is NotificationKind.QUOTED:
        if by:
            return _("{name}さんが「{title}」であなたの投稿を引用しました。").format(
                name=by, title=title
            )
        return _("「{title}」であなたの投稿が引用されました。").format(title=title)
    if kind is NotificationKind.WATCHED_POST:
        if by:
            return _("ウォッチ中の「{title}」に{name}さんが投稿しました。").format(
                name=by, title=title
            )
        return _("ウォッチ中の「{title}」に新しい投稿があります。").format(title=title)
    if kind is NotificationKind.ANSWERED:
        return _("「{title}」であなたの質問に回答がありました。").format(title=title)
    if kind is NotificationKind.ANSWER_STATE:
        return _("「{title}」であなたの質問の扱いが変わりました。").format(title=title)
    return None


def notification_resource(notice: Notification) -> dict[str, Any]:
    data = notice.data
    return {
        "id": notice.id,
        "kind": notice.kind.value,
        "message": message(notice),
        "reason": data.get("reason", ""),
        "excerpt": data.get("excerpt", ""),
        "post_id": notice.post_id,  # type: ignore[attr-defined]
        "thread_id": data.get("thread_id"),
        "thread_title": data.get("thread_title", ""),
        "url": data.get("url", ""),
        "by": data.get("by"),
        "read": notice.read_at is not None,
        "created_at": iso(notice.created_at),
    }


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[Notification]
    next_cursor: str | None
    unread: int


async def list_notifications(
    user: User, *, cursor: str | None = None, limit: int = 30, unread_only: bool = False
) -> NotificationPage:
    """Newest first; the cursor is the id of the last notice of the previous page."""
    query = Notification.filter(_in_view(), user_id=user.id)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    if cursor:
        # The cursor is a notice id: past the id column's range, it is no cursor.
        if not cursor.isdigit() or len(cursor) > 10 or int(cursor) > 2**31 - 1:
            raise BadRequest(
                _("ページの指定が正しくありません。一覧を最初のページから開き直してください。"),
                code="invalid_cursor",
            )
        query = query.filter(id__lt=int(cursor))
    rows = await query.order_by("-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(
        rows, str(rows[-1].id) if more and rows else None, await unread_count(user)
    )


def _in_view() -> Q:
    """A notice about someone's post shows while that post is published; one hidden, rejected
    or deleted later takes its notices with it."""
    return Q(kind__not_in=list(SOCIAL_KINDS)) | Q(
        post__status=PostStatus.PUBLISHED, post__thread__deleted=False
    )


async def unread_count(user: User) -> int:
    return await Notification.filter(_in_view(), user_id=user.id, read_at__isnull=True).count()


async def mark_read(user: User, ids: list[int] | None = None) -> int:
    """Mark the given notices (all of them when ``ids`` is None) read; returns how many changed."""
    query = Notification.filter(user_id=user.id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=ids)
    async with outbox.atomic() as tx:
        changed = int(await query.using_db(tx.conn).update(read_at=datetime.now(UTC)))
        if changed:
            # Every open page of the user (other tabs too) sets its header's count from this.
            unread = (
                await Notification.filter(_in_view(), user_id=user.id, read_at__isnull=True)
                .using_db(tx.conn)
                .count()
            )
            tx.emit(events.notification_read(user.id, unread=unread))
    return changed


def after_publish(tx: Tx, post: Post, thread: Thread, board: Board) -> None:
    """Tell the people a newly published post concerns, once it is committed."""
    tx.after_commit(partial(_fan_out, post.id, first=thread.post_count == 1))


async def _fan_out(post_id: int, *, first: bool) -> None:
    post = await Post.get_or_none(id=post_id).select_related("author", "thread", "thread__board")
    if post is None or post.status is not PostStatus.PUBLISHED or post.thread.deleted:
        return
    thread, board = post.thread, post.thread.board
    wanted: dict[int, NotificationKind] = {}

    def add(user_ids: Iterable[int], kind: NotificationKind) -> None:
        # One notice per person per post: the first reason found (the most personal) wins.
        for user_id in user_ids:
            wanted.setdefault(int(user_id), kind)

    names = mentioned_usernames(post.html)[:MAX_MENTIONS]
    if names:
        add(await _column(User.filter(username__in=names), "id"), NotificationKind.MENTIONED)
    reply_to: int | None = post.reply_to_id  # type: ignore[attr-defined]
    if reply_to is not None:
        parents = Post.filter(id=reply_to, status=PostStatus.PUBLISHED)
        # An expert's written answer tells the asker it is an answer, not a mere reply.
        replied = (
            NotificationKind.ANSWERED if post.kind is PostKind.ANSWER else NotificationKind.REPLIED
        )
        add(await _column(parents, "author_id"), replied)
    quoted = {int(i) for i in _QUOTE.findall(post.body)[:_MAX_QUOTES]} - {post.id}
    if quoted:
        sources = Post.filter(id__in=quoted, status=PostStatus.PUBLISHED, thread__board_id=board.id)
        add(await _column(sources, "author_id"), NotificationKind.QUOTED)
    by_board, by_thread = await follows.levels_by_source(thread.id, board.id)
    levels = {**by_board, **by_thread}
    add((u for u, level in levels.items() if level is FollowLevel.WATCHING), NotificationKind.WATCHED_POST)  # fmt: skip
    author_id: int = post.author_id  # type: ignore[attr-defined]
    wanted.pop(author_id, None)
    for user_id, level in levels.items():
        if level is FollowLevel.MUTED:
            wanted.pop(user_id, None)
    # An author who follows the thread already keeps their choice (auto_follow would
    # change nothing): with nobody to tell either, no transaction is opened at all.
    follows_already = author_id in by_thread
    if follows_already and not wanted:
        return
    async with outbox.atomic() as tx:
        if not follows_already:
            await follows.auto_follow(tx, post, starts_thread=first)
        await _deliver(tx, wanted, post=post, thread=thread, board=board)


async def notify_many(
    tx: Tx | None,
    kind: NotificationKind,
    recipients: Iterable[int],
    *,
    post: Post,
    thread: Thread,
    board: Board,
    reason: str = "",
) -> int:
    """Notices of one kind about one post to many people, in one INSERT; returns how many.

    For other packages' events (an expert's answer, a question's new state, a session going
    live): only people who may see the post and thread are told, never while the post is not
    published, never its own author, never anyone who muted the thread. Without ``tx`` it
    opens its own transaction; call it after the change it reports has committed."""
    if post.status is not PostStatus.PUBLISHED or thread.deleted:
        return 0
    wanted = dict.fromkeys((int(r) for r in recipients), kind)
    levels = await follows.effective_levels(thread.id, board.id)
    for user_id, level in levels.items():
        if level is FollowLevel.MUTED:
            wanted.pop(user_id, None)
    if tx is not None:
        return await _deliver(tx, wanted, post=post, thread=thread, board=board, reason=reason)
    async with outbox.atomic() as own:
        return await _deliver(own, wanted, post=post, thread=thread, board=board, reason=reason)


async def _column(query: QuerySet[Any], name: str) -> list[int]:
    values: list[Any] = list(await query.values_list(name, flat=True))
    return [int(v) for v in values]


async def _readers(user_ids: Iterable[int], board: Board) -> list[int]:
    """Those of the users who may read the board now, suspended accounts left out."""
    ids = list(user_ids)
    if not ids:
        return []
    now = datetime.now(UTC)
    active = User.filter(id__in=ids).filter(
        Q(suspended_until__isnull=True) | Q(suspended_until__lte=now)
    )
    if not board.private:
        return await _column(active, "id")
    staff = await _column(active.filter(role__in=[Role.ADMIN, Role.MODERATOR]), "id")
    members = await _column(BoardMember.filter(board_id=board.id, user_id__in=ids), "user_id")
    allowed = set(staff) | set(members)
    return [i for i in ids if i in allowed]


_INSERT = "INSERT INTO notifications (user_id, kind, post_id, data, created_at) VALUES {rows} RETURNING id, user_id"


async def _deliver(
    tx: Tx,
    wanted: Mapping[int, NotificationKind],
    *,
    post: Post,
    thread: Thread,
    board: Board,
    reason: str = "",
) -> int:
    author_id: int = post.author_id  # type: ignore[attr-defined]
    readers = await _readers((u for u in wanted if u != author_id), board)
    if readers:
        # People who turned a kind off on the page get neither the notice nor its mail.
        off = await MailSettings.filter(user_id__in=readers).values_list(
            "user_id", "page_kinds_off"
        )
        unwanted = {int(u) for u, kinds in off if wanted[int(u)].value in (kinds or [])}
        readers = [u for u in readers if u not in unwanted]
    if not readers:
        return 0
    by = None if post.anonymous else (await User.get(id=author_id)).display_name
    data = {
        "thread_id": thread.id,
        "thread_title": thread.title,
        "excerpt": _excerpt(post),
        "reason": reason,
        "url": f"/t/{thread.id}#post-{post.id}",
        "by": by,
    }
    payload = orjson.dumps(data).decode()
    now = datetime.now(UTC)
    postgres = tx.conn.capabilities.dialect == "postgres"
    created = 0
    for start in range(0, len(readers), _INSERT_CHUNK):
        chunk = readers[start : start + _INSERT_CHUNK]
        if postgres:
            marks = ", ".join(
                f"(${n + 1}, ${n + 2}, ${n + 3}, ${n + 4}::jsonb, ${n + 5})"
                for n in range(0, 5 * len(chunk), 5)
            )
        else:
            marks = ", ".join(["(?, ?, ?, ?, ?)"] * len(chunk))
        values = [v for u in chunk for v in (u, wanted[u].value, post.id, payload, now)]
        rows = await tx.conn.execute_query_dict(_INSERT.format(rows=marks), values)
        by_kind: dict[NotificationKind, list[Notification]] = {}
        for row in rows:
            user_id = int(row["user_id"])
            notice = Notification(
                id=int(row["id"]), user_id=user_id, kind=wanted[user_id], post_id=post.id,
                data=data, read_at=None, created_at=now,
            )  # fmt: skip
            by_kind.setdefault(notice.kind, []).append(notice)
            tx.emit(events.notification_created(user_id, notification_resource(notice)))
        for same_kind in by_kind.values():
            await mailbox.enqueue_notices(tx, same_kind, notification_resource)
        created += len(rows)
    return created


async def queue_digests(now: datetime) -> int:
    """Each morning (Japan time), one mail per daily-digest reader of what they have not
    read since the last one; several processes may call this, each user gets one."""
    start = mailbox.digest_due(now)
    if start is None:
        return 0
    # Stored times compare as UTC (SQLite keeps them as text).
    now, start = now.astimezone(UTC), start.astimezone(UTC)
    due = await MailSettings.filter(
        Q(digest_sent_at__isnull=True) | Q(digest_sent_at__lt=start),
        frequency=MailFrequency.DAILY,
        confirmed_at__isnull=False,
        email__isnull=False,
    ).limit(500)
    queued = 0
    for settings in due:
        previous = settings.digest_sent_at
        since = previous or now - timedelta(days=1)
        user_id: int = settings.user_id  # type: ignore[attr-defined]
        async with outbox.atomic() as tx:
            claim = MailSettings.filter(id=settings.id).using_db(tx.conn)
            if previous is None:
                claim = claim.filter(digest_sent_at__isnull=True)
            else:
                claim = claim.filter(digest_sent_at=previous)
            if await claim.update(digest_sent_at=now) != 1:
                continue  # another process took this one
            query = Notification.filter(
                _in_view(), user_id=user_id, read_at__isnull=True, created_at__gt=since
            )
            if settings.email_kinds_off:
                query = query.exclude(kind__in=list(settings.email_kinds_off))
            notices = await query.using_db(tx.conn).order_by("-id").limit(DIGEST_ITEMS)
            if await mailbox.enqueue_digest(tx, settings, notices, notification_resource, now=now):
                queued += 1
    return queued
