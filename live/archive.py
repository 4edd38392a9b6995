"""An ended session's record: the Q&A summary, its CSV and Markdown exports, and the report.

Anonymous askers never appear here, whoever asks: an export leaves the site, and the
report is printed. Times of approval are read from the outbox, where the moment a post
came into public view is the ``post.created`` event written with it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from forum import events
from forum.formatting import format_datetime
from forum.i18n import gettext as _
from forum.models import OutboxEvent, Post, PostKind, PostStatus
from live.calendar import JST
from live.models import LiveSession

__all__ = ["QA", "Report", "load_qa", "report", "to_csv", "to_markdown", "votes_per_minute"]

TOP_QUESTIONS = 5


@dataclass(frozen=True, slots=True)
class QA:
    """One published question with its published answers (replies to it)."""

    id: int
    asked_at: datetime
    asker: str  # display name, or the anonymous label
    question: str
    votes: int
    state: str
    answers: tuple[tuple[str, str], ...]  # (who, body)


def _answer_state_label(value: str) -> str:
    labels = {
        "": _("未回答"),
        "open": _("未回答"),
        "assigned": _("担当決定"),
        "answering": _("回答中"),
        "answered_live": _("会場で回答済み"),
        "answered_written": _("文書で回答済み"),
        "deferred": _("後日回答"),
    }
    return labels.get(value, value)


async def load_qa(session: LiveSession) -> list[QA]:
    thread_id = session.thread_id  # type: ignore[attr-defined]
    rows = (
        await Post.filter(thread_id=thread_id, status=PostStatus.PUBLISHED)
        .order_by("created_at", "id")
        .select_related("author")
    )
    answers: dict[int, list[tuple[str, str]]] = {}
    for post in rows:
        parent = post.reply_to_id  # type: ignore[attr-defined]
        if parent is not None and post.kind is not PostKind.QUESTION:
            answers.setdefault(parent, []).append((post.author.display_name, post.body))
    anonymous = _("匿名")
    return [
        QA(
            id=post.id,
            asked_at=post.created_at,
            asker=anonymous if post.anonymous else post.author.display_name,
            question=post.body,
            votes=post.votes,
            state=_answer_state_label(post.answer_state.value if post.answer_state else ""),
            answers=tuple(answers.get(post.id, [])),
        )
        for post in rows
        if post.kind is PostKind.QUESTION
    ]


def _stamp(value: datetime) -> str:
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def to_csv(items: list[QA]) -> bytes:
    """UTF-8 with a BOM, so Excel on Japanese Windows reads it as UTF-8; CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            _("番号"),
            _("質問日時（日本時間）"),
            _("質問者"),
            _("質問"),
            _("投票数"),
            _("状態"),
            _("回答"),
        ]
    )
    for number, qa in enumerate(items, start=1):
        answer = "\n\n".join(f"{who}: {body}" for who, body in qa.answers)
        writer.writerow(
            [number, _stamp(qa.asked_at), qa.asker, qa.question, qa.votes, qa.state, answer]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_markdown(session: LiveSession, items: list[QA]) -> str:
    lines = [
        f"# {session.title}",
        "",
        _("開催：{start} 〜 {end}（日本時間）").format(
            start=format_datetime(session.starts_at), end=format_datetime(session.ends_at)
        ),
        "",
        f"## {_('質疑応答')}",
        "",
    ]
    if not items:
        lines += [_("質問はありませんでした。"), ""]
    for number, qa in enumerate(items, start=1):
        lines += [
            f"### Q{number}. {qa.asker}（{format_datetime(qa.asked_at)}・{qa.state}・👍 {qa.votes}）",
            "",
            *(f"> {line}" if line else ">" for line in qa.question.splitlines()),
            "",
        ]
        for who, body in qa.answers:
            lines += [f"**{who}**:", "", body, ""]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Minute:
    start: datetime
    questions: int
    votes: int


@dataclass(frozen=True, slots=True)
class Report:
    participants: int
    questions: int
    answers: int
    median_minutes_to_approval: float | None
    top: list[QA]
    minutes: list[Minute]

    @property
    def busiest(self) -> int:
        return max((max(m.questions, m.votes) for m in self.minutes), default=0)


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


async def votes_per_minute(channel: str) -> Counter[datetime]:
    """Votes cast or taken back per minute, from the thread's events: a coalesced tally
    counts each question's change since its previous tally (a ``vote.changed``, written
    before tallies were coalesced, counts one)."""
    names = [events.Name.VOTES_TALLIED.value, events.Name.VOTE_CHANGED.value]
    rows = await OutboxEvent.filter(channel=channel, name__in=names).order_by("seq")
    counts: dict[int, int] = {}
    per_minute: Counter[datetime] = Counter()
    for row in rows:
        minute = _minute(row.created_at)
        if row.name == events.Name.VOTE_CHANGED.value:
            per_minute[minute] += 1
            counts[int(row.payload["id"])] = int(row.payload["votes"])
            continue
        for tally in row.payload.get("tallies", []):
            post_id, votes = int(tally["id"]), int(tally["votes"])
            per_minute[minute] += abs(votes - counts.get(post_id, 0))
            counts[post_id] = votes
    return per_minute


async def report(session: LiveSession, items: list[QA]) -> Report:
    thread_id = session.thread_id  # type: ignore[attr-defined]
    posts = await Post.filter(thread_id=thread_id, status=PostStatus.PUBLISHED).order_by("id")
    questions = [p for p in posts if p.kind is PostKind.QUESTION]
    replies = [p.reply_to_id for p in posts if p.kind is not PostKind.QUESTION]  # type: ignore[attr-defined]
    answers = sum(1 for parent in replies if parent is not None)
    participants = len({p.author_id for p in posts})  # type: ignore[attr-defined]
    channel = events.thread_channel(thread_id)
    published = await OutboxEvent.filter(channel=channel, name=events.Name.POST_CREATED.value)
    shown_at: dict[int, datetime] = {}
    for row in published:
        post_id = row.payload.get("id")
        if isinstance(post_id, int):
            shown_at.setdefault(post_id, row.created_at)
    waits = [
        (shown_at[q.id] - q.created_at).total_seconds() / 60 for q in questions if q.id in shown_at
    ]
    per_question: Counter[datetime] = Counter(_minute(q.created_at) for q in questions)
    per_vote = await votes_per_minute(channel)
    start = _minute(session.started_at or session.starts_at)
    end = _minute(session.ended_at or session.ends_at)
    stamps = sorted({*per_question, *per_vote})
    if stamps:
        start, end = min(start, stamps[0]), max(end, stamps[-1])
    minutes: list[Minute] = []
    at = start
    while at <= end and len(minutes) < 24 * 60:
        minutes.append(Minute(at, per_question[at], per_vote[at]))
        at += timedelta(minutes=1)
    top = sorted(items, key=lambda qa: (-qa.votes, qa.asked_at))[:TOP_QUESTIONS]
    return Report(
        participants=participants,
        questions=len(questions),
        answers=answers,
        median_minutes_to_approval=round(median(waits), 1) if waits else None,
        top=top,
        minutes=minutes,
    )
