"""Japanese labels (translated through the catalogs) for codes kept in the database."""

from __future__ import annotations

from forum.i18n import gettext as _

__all__ = ["action_label", "decision_label", "flag_label", "kind_label", "reason_label"]


def reason_label(code: str) -> str:
    labels = {
        "premoderated": _("事前承認の掲示板・スレッド"),
        "first_posts": _("はじめての投稿"),
        "live_question": _("ライブ中の質問"),
        "watched_word": _("監視語句"),
        "new_account_link": _("新しいアカウントからのリンク"),
        "duplicate": _("同じ内容の繰り返し投稿"),
        "burst": _("短時間の連続投稿"),
        "resubmitted": _("修正後の再投稿"),
        "hidden": _("通報が多いため非表示"),
    }
    if code in labels:
        return labels[code]
    return _("通報：{reason}").format(reason=flag_label(code))


def flag_label(reason: str) -> str:
    labels = {
        "spam": _("スパム"),
        "offtopic": _("話題違い"),
        "inappropriate": _("不適切な内容"),
        "other": _("その他"),
    }
    return labels.get(reason, reason)


def kind_label(kind: str) -> str:
    labels = {"pending": _("承認待ち"), "flagged": _("通報"), "edit": _("編集の承認待ち")}
    return labels.get(kind, kind)


def decision_label(decision: str) -> str:
    labels = {"approved": _("承認"), "rejected": _("却下"), "revision": _("修正依頼")}
    return labels.get(decision, decision)


def action_label(action: str) -> str:
    labels = {
        "item.claim": _("担当"),
        "post.approve": _("投稿を承認"),
        "post.reject": _("投稿を却下"),
        "post.revise": _("修正を依頼"),
        "post.hide": _("通報により非表示"),
        "edit.reject": _("編集を却下"),
        "edit.revise": _("編集に修正を依頼"),
        "user.silence": _("発言停止"),
        "user.suspend": _("利用停止"),
        "thread.lock": _("スレッドをロック"),
        "thread.unlock": _("スレッドのロックを解除"),
        "thread.pin": _("スレッドを固定"),
        "thread.unpin": _("スレッドの固定を解除"),
        "thread.move": _("スレッドを移動"),
        "rules.update": _("自動保留ルールを変更"),
        "word.add": _("監視語句を追加"),
        "word.remove": _("監視語句を削除"),
        "template.add": _("理由テンプレートを追加"),
        "template.update": _("理由テンプレートを変更"),
        "template.remove": _("理由テンプレートを削除"),
    }
    return labels.get(action, action)
