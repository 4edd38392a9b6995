"""The editable rules: thresholds, watched words and reject templates. Admins change them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum import outbox
from forum.errors import NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.permissions import Actor
from moderation import audit
from moderation.access import check_admin
from moderation.models import ModerationConfig, RejectTemplate, WatchedWord, WordAction
from moderation.policies import RuleSettings
from moderation.rules import Word, normalize

__all__ = [
    "DEFAULT_TEMPLATES",
    "SETTING_NAMES",
    "SettingChanges",
    "add_template",
    "add_word",
    "list_templates",
    "list_words",
    "load_settings",
    "remove_template",
    "remove_word",
    "update_settings",
    "update_template",
    "watched_words",
]

# Stored content, not interface text: administrators edit them like any other template.
DEFAULT_TEMPLATES = (
    "スパムと判断しました",
    "話題違いと判断しました（スレッドの話題と関係のない内容です）",
    "個人情報が含まれています",
    "誹謗中傷にあたる表現が含まれています",
    "同じ内容の投稿が重複しています",
)
SETTING_NAMES = tuple(f.name for f in fields(RuleSettings))
SETTING_MAX = 100_000


async def _config() -> ModerationConfig:
    """The one settings row, made with the default templates the first time it is needed."""
    row = await ModerationConfig.get_or_none(id=1)
    if row is not None:
        return row
    try:
        async with in_transaction() as conn:
            row = await ModerationConfig.create(id=1, using_db=conn)
            await RejectTemplate.bulk_create(
                [RejectTemplate(text=t, position=i) for i, t in enumerate(DEFAULT_TEMPLATES)],
                using_db=conn,
            )
    except IntegrityError:
        row = await ModerationConfig.get(id=1)
    return row


def _settings_of(row: ModerationConfig) -> RuleSettings:
    return RuleSettings(**{name: int(getattr(row, name)) for name in SETTING_NAMES})


async def load_settings() -> RuleSettings:
    return _settings_of(await _config())


@dataclass(frozen=True, slots=True)
class SettingChanges:
    """New thresholds for ``RuleSettings``, field for field; None keeps one as it is."""

    first_posts: int | None = None
    link_account_days: int | None = None
    duplicate_minutes: int | None = None
    burst_posts: int | None = None
    burst_seconds: int | None = None
    flag_threshold: int | None = None
    # Fields the request named that are no setting: refused with the values' errors.
    unknown: tuple[str, ...] = ()


async def update_settings(actor: Actor, wanted: SettingChanges) -> RuleSettings:
    check_admin(actor)
    errors: dict[str, str] = {}
    changes: dict[str, int] = {}
    for name in wanted.unknown:
        errors[name] = _("この欄は変更できません。")
    for name in SETTING_NAMES:
        value = getattr(wanted, name)
        if value is None:
            continue
        if not 0 <= value <= SETTING_MAX:
            errors[name] = _("0〜100,000の整数で入力してください。")
        else:
            changes[name] = value
    if wanted.flag_threshold == 0:
        errors["flag_threshold"] = _("1以上の整数で指定してください。")
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    row = await _config()
    before = asdict(_settings_of(row))
    changes = {k: v for k, v in changes.items() if before[k] != v}
    if not changes:
        return _settings_of(row)
    async with outbox.atomic() as tx:
        row.update_from_dict(changes)
        await row.save(update_fields=list(changes), using_db=tx.conn)
        await audit.write(
            tx,
            actor,
            "rules.update",
            audit.Target("rules", 1),
            admin_only=True,
            before={k: before[k] for k in changes},
            after=changes,
        )
    return _settings_of(row)


async def list_words() -> list[WatchedWord]:
    return await WatchedWord.all().order_by("id")


async def watched_words() -> list[Word]:
    return [Word(w.word, w.action) for w in await list_words()]


async def add_word(actor: Actor, word: str, action: str) -> WatchedWord:
    check_admin(actor)
    clean = word.strip()
    errors: dict[str, str] = {}
    if not 1 <= len(clean) <= 100 or not normalize(clean).strip():
        errors["word"] = _("語句は1〜100文字で入力してください。")
    try:
        word_action = WordAction(action)
    except ValueError:
        errors["action"] = _("動作は「保留」か「拒否」を選んでください。")
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    try:
        async with outbox.atomic() as tx:
            row = await WatchedWord.create(
                word=clean, normalized=normalize(clean), action=word_action, using_db=tx.conn
            )
            await audit.write(
                tx,
                actor,
                "word.add",
                audit.Target("word", row.id, clean),
                admin_only=True,
                after={"word": clean, "action": word_action.value},
            )
    except IntegrityError:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            code="word_exists",
            fields={"word": _("この語句はすでに登録されています。")},
        ) from None
    return row


async def remove_word(actor: Actor, word_id: int) -> None:
    check_admin(actor)
    row = await WatchedWord.get_or_none(id=word_id)
    if row is None:
        raise NotFound(_("語句が見つかりません。"))
    async with outbox.atomic() as tx:
        await WatchedWord.filter(id=row.id).using_db(tx.conn).delete()
        await audit.write(
            tx,
            actor,
            "word.remove",
            audit.Target("word", row.id, row.word),
            admin_only=True,
            before={"word": row.word, "action": row.action.value},
        )


async def list_templates() -> list[RejectTemplate]:
    await _config()
    return await RejectTemplate.all().order_by("position", "id")


def _check_text(text: str) -> str:
    clean = text.strip()
    if not 1 <= len(clean) <= 200:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"text": _("理由は1〜200文字で入力してください。")},
        )
    return clean


async def add_template(actor: Actor, text: str) -> RejectTemplate:
    check_admin(actor)
    clean = _check_text(text)
    last = await RejectTemplate.all().order_by("-position").first()
    async with outbox.atomic() as tx:
        row = await RejectTemplate.create(
            text=clean, position=(last.position + 1) if last else 0, using_db=tx.conn
        )
        await audit.write(
            tx,
            actor,
            "template.add",
            audit.Target("template", row.id, clean),
            admin_only=True,
            after={"text": clean},
        )
    return row


async def update_template(actor: Actor, template_id: int, text: str) -> RejectTemplate:
    check_admin(actor)
    clean = _check_text(text)
    row = await RejectTemplate.get_or_none(id=template_id)
    if row is None:
        raise NotFound(_("理由の定型文が見つかりません。"))
    before = row.text
    async with outbox.atomic() as tx:
        row.text = clean
        await row.save(update_fields=["text"], using_db=tx.conn)
        await audit.write(
            tx,
            actor,
            "template.update",
            audit.Target("template", row.id, clean),
            admin_only=True,
            before={"text": before},
            after={"text": clean},
        )
    return row


async def remove_template(actor: Actor, template_id: int) -> None:
    check_admin(actor)
    row = await RejectTemplate.get_or_none(id=template_id)
    if row is None:
        raise NotFound(_("理由の定型文が見つかりません。"))
    async with outbox.atomic() as tx:
        await RejectTemplate.filter(id=row.id).using_db(tx.conn).delete()
        await audit.write(
            tx,
            actor,
            "template.remove",
            audit.Target("template", row.id, row.text),
            admin_only=True,
            before={"text": row.text},
        )
