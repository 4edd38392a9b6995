"""The audit log in words: one sentence per entry, in the reader's language.

The rows keep codes and machine values (``status``, ``silenced_until`` as ISO text, board
slugs) for the API; people read what was done, to what, and until when — in Japan time,
with boards named by their titles. An action this module does not know yet still reads
as a sentence, never as its code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from forum.i18n import gettext as _
from forum.web.templating import format_datetime
from moderation.models import AuditEntry
from moderation.web.admin_pages import setting_labels

__all__ = ["describe"]

_PUBLISHED = "published"


def _who(entry: AuditEntry) -> str:
    if entry.actor is None:
        return _("システム")
    return _("{name}さん").format(name=entry.actor.display_name or entry.actor.username)


def _post(entry: AuditEntry) -> str:
    if entry.target_label:
        return _("「{thread}」の投稿（#{id}）").format(
            thread=entry.target_label, id=entry.target_id
        )
    return _("投稿（#{id}）").format(id=entry.target_id)


def _thread(entry: AuditEntry) -> str:
    return _("スレッド「{thread}」").format(thread=entry.target_label)


def _user(entry: AuditEntry) -> str:
    return _("@{username}さん").format(username=entry.target_label)


def _until(value: Any) -> str:
    if not value:
        return ""
    try:
        return format_datetime(datetime.fromisoformat(str(value)))
    except ValueError:
        return ""


def _post_sentence(entry: AuditEntry) -> str | None:
    who, post = _who(entry), _post(entry)
    was_public = entry.before.get("status") == _PUBLISHED
    if entry.action == "item.claim":
        text = _("{who}が{post}の確認を担当しました。")
    elif entry.action == "post.approve" and was_public:
        text = _("{who}が{post}への通報を確認し、問題なしとして公開を続けました。")
    elif entry.action == "post.approve":
        text = _("{who}が{post}を公開しました。")
    elif entry.action == "post.reject" and was_public:
        text = _("{who}が{post}を非公開にしました。")
    elif entry.action == "post.reject":
        text = _("{who}が{post}を公開しないことにしました。")
    elif entry.action == "post.revise":
        text = _("{who}が{post}の修正を投稿者に依頼しました。")
    elif entry.action == "post.hide":
        text = _("通報が多いため、{post}を自動で非表示にしました。")
    elif entry.action == "edit.reject":
        text = _("{who}が{post}の編集を反映しないことにしました。")
    elif entry.action == "edit.revise":
        text = _("{who}が{post}の編集について、投稿者に修正を依頼しました。")
    else:
        return None
    sentence = text.format(who=who, post=post)
    if "body" in entry.after:
        sentence += _("本文はモデレーターが編集しました。")
    return sentence


def _user_sentence(entry: AuditEntry) -> str | None:
    who, user = _who(entry), _user(entry)
    silence = entry.action == "user.silence"
    if entry.action not in ("user.silence", "user.suspend"):
        return None
    until = _until(entry.after.get("silenced_until" if silence else "suspended_until"))
    if not until:
        text = (
            _("{who}が{user}の発言停止を解除しました。")
            if silence
            else _("{who}が{user}の利用停止を解除しました。")
        )
        return text.format(who=who, user=user)
    text = (
        _("{who}が{user}を{until}まで発言停止にしました。")
        if silence
        else _("{who}が{user}を{until}まで利用停止にしました。")
    )
    return text.format(who=who, user=user, until=until)


def _thread_sentence(entry: AuditEntry, boards: Mapping[str, str]) -> str | None:
    texts = {
        "thread.lock": _("{who}が{thread}をロックしました。"),
        "thread.unlock": _("{who}が{thread}のロックを解除しました。"),
        "thread.pin": _("{who}が{thread}を固定しました。"),
        "thread.unpin": _("{who}が{thread}の固定を解除しました。"),
    }
    who, thread = _who(entry), _thread(entry)
    if entry.action in texts:
        return texts[entry.action].format(who=who, thread=thread)
    if entry.action == "thread.move":
        source = str(entry.before.get("board") or "")
        target = str(entry.after.get("board") or "")
        return _("{who}が{thread}を掲示板「{source}」から「{target}」へ移動しました。").format(
            who=who,
            thread=thread,
            source=boards.get(source, _("ほかの掲示板")),
            target=boards.get(target, _("ほかの掲示板")),
        )
    return None


def _rules_sentence(entry: AuditEntry) -> str | None:
    who = _who(entry)
    word = str(entry.after.get("word") or entry.before.get("word") or "")
    word_action = entry.after.get("action") or entry.before.get("action")
    action = _("拒否") if word_action == "block" else _("保留")
    if entry.action == "word.add":
        return _("{who}が監視語句「{word}」（{action}）を追加しました。").format(
            who=who, word=word, action=action
        )
    if entry.action == "word.remove":
        return _("{who}が監視語句「{word}」（{action}）を削除しました。").format(
            who=who, word=word, action=action
        )
    if entry.action == "template.add":
        return _("{who}が理由の定型文「{text}」を追加しました。").format(
            who=who, text=entry.after.get("text", "")
        )
    if entry.action == "template.update":
        return _("{who}が理由の定型文「{before}」を「{after}」に変更しました。").format(
            who=who, before=entry.before.get("text", ""), after=entry.after.get("text", "")
        )
    if entry.action == "template.remove":
        return _("{who}が理由の定型文「{text}」を削除しました。").format(
            who=who, text=entry.before.get("text", "")
        )
    if entry.action == "rules.update":
        labels = {name: label for name, label, _hint in setting_labels()}
        changes = _("、").join(
            _("{setting}を{before}から{after}に").format(
                setting=labels.get(name, _("しきい値")),
                before=_number(entry.before.get(name)),
                after=_number(value),
            )
            for name, value in entry.after.items()
        )
        return _("{who}が自動保留の条件を変更しました（{changes}）。").format(
            who=who, changes=changes
        )
    return None


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "—"


def describe(entry: AuditEntry, boards: Mapping[str, str]) -> str:
    """What happened, as a sentence; ``boards`` maps slugs to titles (see ``board_slugs``)."""
    for sentence in (
        _post_sentence(entry),
        _user_sentence(entry),
        _thread_sentence(entry, boards),
        _rules_sentence(entry),
    ):
        if sentence is not None:
            return sentence
    return _("{who}がモデレーションの操作をしました。").format(who=_who(entry))
