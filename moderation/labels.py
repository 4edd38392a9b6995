"""Japanese labels (translated through the catalogs) for codes kept in the database."""

from __future__ import annotations

from forum.i18n import gettext as _

__all__ = ["flag_label", "kind_label", "reason_label"]


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
