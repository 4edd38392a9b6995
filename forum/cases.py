"""Structured practice cases (実践事例): where, who, when, themes, and four sections.

Experts, moderators and administrators write cases; anyone reads them. Each change is
written with its search row in one transaction (``forum.search_index``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from forum import attachments, search_index
from forum.errors import Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import CaseTheme, CaseThemeLink, PopulationBand, PracticeCase, Role
from forum.permissions import Actor
from forum.prefectures import PREFECTURES, prefecture_names

__all__ = [
    "SEEDED_THEMES",
    "CaseFields",
    "CaseView",
    "add_theme",
    "can_edit_case",
    "can_write_cases",
    "case_doc",
    "create_case",
    "delete_case",
    "get_case",
    "list_cases",
    "list_themes",
    "population_label",
    "prefecture_counts",
    "recent_cases",
    "remove_theme",
    "rename_theme",
    "update_case",
]

# The themes migration 0006 seeds; administrators change the list afterwards.
SEEDED_THEMES = (
    "移住・定住",
    "関係人口",
    "二地域居住",
    "DX",
    "観光",
    "農林水産",
    "教育",
    "起業・事業承継",
    "防災",
    "福祉",
)
MAX_SECTION = 10_000
SECTIONS = ("background", "actions", "results", "challenges")


def population_label(band: PopulationBand) -> str:
    return {
        PopulationBand.UNDER_5K: _("5千人未満"),
        PopulationBand.FROM_5K: _("5千〜2万人"),
        PopulationBand.FROM_20K: _("2万〜5万人"),
        PopulationBand.FROM_50K: _("5万〜10万人"),
        PopulationBand.FROM_100K: _("10万〜30万人"),
        PopulationBand.OVER_300K: _("30万人以上"),
    }[band]


def can_write_cases(actor: Actor) -> bool:
    return actor.role in (Role.EXPERT, Role.MODERATOR, Role.ADMIN) and not actor.is_silenced()


def can_edit_case(actor: Actor, case: PracticeCase) -> bool:
    author_id: int = case.author_id  # type: ignore[attr-defined]
    return can_write_cases(actor) and (actor.is_site_moderator or author_id == actor.id)


@dataclass(frozen=True, slots=True)
class CaseFields:
    """A case as a form gives it, checked by ``_check``."""

    title: str
    prefecture: int
    municipality: str
    population_band: str
    background: str
    actions: str
    results: str
    challenges: str
    organisation: str = ""
    period: str = ""
    themes: tuple[int, ...] = ()
    # Upload ids: the cover photo and the reports (forum.attachments).
    cover: int | None = None
    attachments: tuple[int, ...] = ()


def _limit(errors: dict[str, str], name: str, value: str, high: int, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        errors[name] = _("入力してください。")
    elif len(value) > high:
        errors[name] = _("{high}文字以内で入力してください。").format(high=high)
    return value


async def _check(data: CaseFields) -> dict[str, object]:
    errors: dict[str, str] = {}
    clean: dict[str, object] = {
        "title": _limit(errors, "title", data.title, 120, required=True),
        "municipality": _limit(errors, "municipality", data.municipality, 60, required=True),
        "organisation": _limit(errors, "organisation", data.organisation, 100, required=False),
        "period": _limit(errors, "period", data.period, 60, required=False),
    }
    for name in SECTIONS:
        clean[name] = _limit(errors, name, getattr(data, name), MAX_SECTION, required=True)
    if data.prefecture not in PREFECTURES:
        errors["prefecture"] = _("都道府県を選んでください。")
    clean["prefecture"] = data.prefecture
    try:
        clean["population_band"] = PopulationBand(data.population_band)
    except ValueError:
        errors["population_band"] = _("人口規模を選んでください。")
    known = set(await CaseTheme.filter(id__in=list(data.themes)).values_list("id", flat=True))
    if len(known) != len(set(data.themes)):
        errors["themes"] = _("テーマを一覧から選んでください。")
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    return clean


@dataclass(frozen=True, slots=True)
class CaseView:
    case: PracticeCase
    themes: list[CaseTheme] = field(default_factory=list)

    @property
    def prefecture_name(self) -> str:
        return prefecture_names()[self.case.prefecture]

    @property
    def population(self) -> str:
        return population_label(self.case.population_band)


def case_doc(case: PracticeCase, themes: tuple[int, ...]) -> search_index.Doc:
    body = "\n".join(
        [case.municipality, case.organisation, case.period]
        + [getattr(case, name) for name in SECTIONS]
    )
    return search_index.Doc(
        key=f"c:{case.id}",
        kind="case",
        title=case.title,
        body=body,
        created_at=case.created_at,
        case_id=case.id,
        author_id=case.author_id,  # type: ignore[attr-defined]
        prefecture=case.prefecture,
        themes=themes,
    )


async def create_case(actor: Actor, data: CaseFields) -> PracticeCase:
    if actor.user is None or not can_write_cases(actor):
        raise Forbidden(_("実践事例を登録できるのは有識者・モデレーター・管理者です。"))
    clean = await _check(data)
    themes = tuple(sorted(set(data.themes)))
    async with in_transaction() as conn:
        case = await PracticeCase.create(author_id=actor.user.id, using_db=conn, **clean)
        await CaseThemeLink.bulk_create(
            [CaseThemeLink(case_id=case.id, theme_id=t) for t in themes], using_db=conn
        )
        await attachments.attach_case(conn, actor, case, data.cover, data.attachments)
        await search_index.put(conn, case_doc(case, themes))
    return case


async def update_case(actor: Actor, case: PracticeCase, data: CaseFields) -> PracticeCase:
    if not can_edit_case(actor, case):
        raise Forbidden(_("この実践事例を編集する権限がありません。"))
    clean = await _check(data)
    themes = tuple(sorted(set(data.themes)))
    async with in_transaction() as conn:
        case.update_from_dict(clean)
        await case.save(using_db=conn)
        await CaseThemeLink.filter(case_id=case.id).using_db(conn).delete()
        await CaseThemeLink.bulk_create(
            [CaseThemeLink(case_id=case.id, theme_id=t) for t in themes], using_db=conn
        )
        await attachments.attach_case(conn, actor, case, data.cover, data.attachments)
        await search_index.put(conn, case_doc(case, themes))
    return case


async def delete_case(actor: Actor, case: PracticeCase) -> None:
    if not can_edit_case(actor, case):
        raise Forbidden(_("この実践事例を削除する権限がありません。"))
    async with in_transaction() as conn:
        await search_index.drop(conn, f"c:{case.id}")
        await PracticeCase.filter(id=case.id).using_db(conn).delete()


async def _views(cases: list[PracticeCase]) -> list[CaseView]:
    links = await CaseThemeLink.filter(case_id__in=[c.id for c in cases]).select_related("theme")
    by_case: dict[int, list[CaseTheme]] = {}
    for link in sorted(links, key=lambda link: (link.theme.position, link.theme.id)):
        by_case.setdefault(link.case_id, []).append(link.theme)  # type: ignore[attr-defined]
    return [CaseView(case, by_case.get(case.id, [])) for case in cases]


async def get_case(case_id: int) -> CaseView:
    case = await PracticeCase.get_or_none(id=case_id).select_related("author")
    if case is None:
        raise NotFound(_("実践事例が見つかりません。"))
    [view] = await _views([case])
    return view


async def list_cases(
    *, prefecture: int | None = None, theme: int | None = None, limit: int = 50
) -> list[CaseView]:
    """Newest first, narrowed to a prefecture and a theme when given."""
    query = PracticeCase.all()
    if prefecture is not None:
        query = query.filter(prefecture=prefecture)
    if theme is not None:
        query = query.filter(theme_links__theme_id=theme)
    return await _views(await query.order_by("-created_at", "-id").limit(limit))


async def recent_cases(*, limit: int = 5) -> list[CaseView]:
    return await list_cases(limit=limit)


async def prefecture_counts(*, theme: int | None = None) -> Counter[int]:
    """Cases per prefecture code (the map's numbers), narrowed to a theme when given."""
    query = PracticeCase.all()
    if theme is not None:
        query = query.filter(theme_links__theme_id=theme)
    return Counter(int(row["prefecture"]) for row in await query.values("prefecture"))


# --- themes (administrators) ----------------------------------------------------------------


async def list_themes() -> list[CaseTheme]:
    return await CaseTheme.all().order_by("position", "id")


def _theme_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 40:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"name": _("テーマ名は1〜40文字で入力してください。")},
        )
    return name


def _admin_only(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden(_("テーマを編集できるのは管理者だけです。"))


async def add_theme(actor: Actor, name: str) -> CaseTheme:
    _admin_only(actor)
    clean = _theme_name(name)
    last = await CaseTheme.all().order_by("-position").first()
    try:
        return await CaseTheme.create(name=clean, position=(last.position + 1) if last else 0)
    except IntegrityError:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            code="theme_taken",
            fields={"name": _("このテーマはすでにあります。")},
        ) from None


async def rename_theme(actor: Actor, theme_id: int, name: str) -> CaseTheme:
    _admin_only(actor)
    clean = _theme_name(name)
    theme = await CaseTheme.get_or_none(id=theme_id)
    if theme is None:
        raise NotFound(_("テーマが見つかりません。"))
    theme.name = clean
    try:
        await theme.save(update_fields=["name"])
    except IntegrityError:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            code="theme_taken",
            fields={"name": _("このテーマはすでにあります。")},
        ) from None
    return theme


async def remove_theme(actor: Actor, theme_id: int) -> bool:
    """Cases keep everything but this theme; their search rows lose it in the same step."""
    _admin_only(actor)
    async with in_transaction() as conn:
        case_ids = (
            await CaseThemeLink.filter(theme_id=theme_id)
            .using_db(conn)
            .values_list("case_id", flat=True)
        )
        removed = bool(await CaseTheme.filter(id=theme_id).using_db(conn).delete())
        for case in await PracticeCase.filter(id__in=list(case_ids)).using_db(conn):
            links = await CaseThemeLink.filter(case_id=case.id).using_db(conn).values("theme_id")
            themes = tuple(int(link["theme_id"]) for link in links)
            await search_index.put(conn, case_doc(case, themes))
    return removed
