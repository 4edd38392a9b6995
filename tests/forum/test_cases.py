"""Practice cases: the form, the case page, the list and its map, themes, and search."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from forum import boards, cases, demo
from forum.errors import Forbidden, ValidationFailed
from forum.models import CaseTheme, PracticeCase, Role
from tests.conftest import Member, make_member
from tests.forum.support import log_in, token_for

pytestmark = pytest.mark.asyncio


def case_fields(**extra: Any) -> cases.CaseFields:
    values: dict[str, Any] = {
        "title": "空き家バンクの登録を3倍にした納税通知書の工夫",
        "prefecture": 20,  # 長野県
        "municipality": "架空町",
        "population_band": "5k_20k",
        "organisation": "架空町 企画課",
        "period": "2022年度〜2024年度",
        "background": "空き家は増えているのに、バンクの登録は年に数件でした。",
        "actions": "固定資産税の納税通知書に空き家バンクの案内を同封しました。",
        "results": "登録数が2年で約3倍になりました。",
        "challenges": "相続が済んでいない物件への対応が残っています。",
        **extra,
    }
    return cases.CaseFields(**values)


async def theme_id(name: str) -> int:
    return (await CaseTheme.get(name=name)).id


async def new_case(member: Member, **extra: Any) -> PracticeCase:
    return await cases.create_case(await boards.load_actor(member.user), case_fields(**extra))


async def search(client: httpx2.AsyncClient, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_the_ten_themes_are_there_from_the_start(app: object) -> None:
    names = [t.name for t in await cases.list_themes()]
    assert names[:3] == ["移住・定住", "関係人口", "二地域居住"]
    assert len(names) == 10 and "起業・事業承継" in names


async def test_an_expert_files_a_case_through_the_form_and_its_page_lays_it_out(
    client: httpx2.AsyncClient,
) -> None:
    await make_member(username="expert-kimura", role=Role.EXPERT)
    await log_in(client, "expert-kimura")
    token = await token_for(client, "/cases/new")
    migration = await theme_id("移住・定住")
    form = {
        "csrf_token": token,
        "title": "お試し住宅から始まる移住",
        "prefecture": "32",
        "municipality": "架空村",
        "population_band": "under_5k",
        "background": "若い世代の転出が続いていました。",
        "actions": "お試し住宅を2棟用意しました。",
        "results": "3年で12世帯が移住しました。",
        "challenges": "仕事探しの支援が課題です。",
        "themes": str(migration),
    }
    response = await client.post("/cases/new", data=form)
    assert response.status_code == 303, response.text
    page = await client.get(response.headers["location"])
    assert page.status_code == 200
    for text in ("お試し住宅から始まる移住", "島根県 架空村", "5千人未満", "移住・定住"):
        assert text in page.text
    headings = re.findall(r"<h2>(.*?)</h2>", page.text)
    assert headings == ["背景", "取組", "成果", "課題・今後"]


async def test_a_participant_may_not_file_a_case(app: object) -> None:
    member = await make_member(username="sanka")
    with pytest.raises(Forbidden):
        await new_case(member)


async def test_a_case_missing_its_sections_or_place_is_refused_field_by_field(
    admin: Member,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await new_case(admin, prefecture=48, results=" ", population_band="huge", themes=(999,))
    assert set(caught.value.fields) == {"prefecture", "results", "population_band", "themes"}


async def test_the_form_answers_422_with_the_fields_to_fix(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await log_in(client, admin.user.username)
    token = await token_for(client, "/cases/new")
    response = await client.post("/cases/new", data={"csrf_token": token, "title": "題"})
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert await PracticeCase.all().count() == 0


async def test_the_list_filters_by_prefecture_and_theme_and_the_map_links_every_prefecture(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    dx = await theme_id("DX")
    await new_case(admin, title="長野のDX", prefecture=20, themes=(dx,))
    await new_case(admin, title="長野の観光", prefecture=20)
    await new_case(admin, title="沖縄のDX", prefecture=47, themes=(dx,))
    page = await client.get("/cases")
    assert page.status_code == 200
    links = re.findall(r'<a href="/cases\?prefecture=(\d+)" aria-label="([^"]+)"', page.text)
    assert len(links) == 47
    assert ("20", "長野県：2件") in links and ("13", "東京都：0件") in links
    assert "<table>" in page.text and "合計3件" in page.text
    nagano = await client.get("/cases", params={"prefecture": "20"})
    assert "長野のDX" in nagano.text and "長野の観光" in nagano.text
    assert "沖縄のDX" not in nagano.text
    dx_page = await client.get("/cases", params={"theme": str(dx)})
    assert "長野のDX" in dx_page.text and "沖縄のDX" in dx_page.text
    assert "長野の観光" not in dx_page.text
    assert "合計2件" in dx_page.text
    assert (await client.get("/cases", params={"prefecture": "99"})).status_code == 400


async def test_cases_are_found_by_search_with_prefecture_and_theme_facets(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    dx = await theme_id("DX")
    await new_case(admin, title="窓口のＤＸ", prefecture=20, themes=(dx,))
    await new_case(admin, title="観光とDX", prefecture=47)
    result = await search(client, "dx", kind="case")
    assert {hit["title"] for hit in result["items"]} == {"窓口のＤＸ", "観光とDX"}
    assert all(hit["board"] is None and hit["url"].startswith("/cases/") for hit in result["items"])
    assert result["facets"]["prefecture"] == {"20": 1, "47": 1}
    assert result["facets"]["theme"] == {str(dx): 1}
    assert [h["title"] for h in (await search(client, "dx", prefecture=47))["items"]] == [
        "観光とDX"
    ]
    assert [h["title"] for h in (await search(client, "dx", theme=dx))["items"]] == ["窓口のＤＸ"]
    assert (
        await client.get("/api/v1/search", params={"q": "dx", "prefecture": 48})
    ).status_code == 400


async def test_edits_and_deletion_move_the_search_index(
    admin: Member, client: httpx2.AsyncClient
) -> None:
    actor = await boards.load_actor(admin.user)
    case = await new_case(admin, title="棚田オーナー制度")
    assert len((await search(client, "棚田"))["items"]) == 1
    await cases.update_case(actor, case, case_fields(title="段々畑のオーナー制度"))
    assert (await search(client, "棚田"))["items"] == []
    assert len((await search(client, "段々畑"))["items"]) == 1
    await cases.delete_case(actor, case)
    assert (await search(client, "段々畑"))["items"] == []


async def test_another_expert_may_not_edit_a_case(admin: Member) -> None:
    case = await new_case(admin)
    other = await make_member(username="expert-other", role=Role.EXPERT)
    with pytest.raises(Forbidden):
        await cases.update_case(await boards.load_actor(other.user), case, case_fields())


async def test_administrators_add_rename_and_remove_themes(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await log_in(client, admin.user.username)
    token = await token_for(client, "/admin/themes")
    added = await client.post("/admin/themes", data={"csrf_token": token, "name": "脱炭素"})
    assert added.status_code == 303
    theme = await CaseTheme.get(name="脱炭素")
    again = await client.post("/admin/themes", data={"csrf_token": token, "name": "脱炭素"})
    assert again.status_code == 422
    renamed = await client.post(
        f"/admin/themes/{theme.id}", data={"csrf_token": token, "name": "ゼロカーボン"}
    )
    assert renamed.status_code == 303
    assert (await CaseTheme.get(id=theme.id)).name == "ゼロカーボン"
    await new_case(admin, title="木質バイオマス", themes=(theme.id,))
    assert len((await search(client, "木質", theme=theme.id))["items"]) == 1
    removed = await client.post(f"/admin/themes/{theme.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert not await CaseTheme.exists(id=theme.id)
    assert (await search(client, "木質", theme=theme.id))["items"] == []
    assert len((await search(client, "木質"))["items"]) == 1


async def test_only_administrators_see_the_themes_page(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    assert (await client.get("/admin/themes")).status_code == 403


async def test_the_home_page_features_recent_cases(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_case(admin, title="関係人口の案内所")
    page = await client.get("/")
    assert "新着の実践事例" in page.text and "関係人口の案内所" in page.text


async def test_the_demo_brings_cases_of_fictional_places_to_the_map(
    client: httpx2.AsyncClient,
) -> None:
    assert await demo.load_demo()
    assert await PracticeCase.all().count() == len(demo.CASES)
    assert all("（架空）" in case.municipality for case in await PracticeCase.all())
    page = await client.get("/cases")
    assert f"合計{len(demo.CASES)}件" in page.text
    result = await search(client, "空き家バンク", kind="case")
    assert len(result["items"]) == 1


async def test_the_search_page_offers_prefecture_and_theme_facets_of_cases(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    dx = await theme_id("DX")
    await new_case(admin, title="窓口のDX", prefecture=20, themes=(dx,))
    page = await client.get("/search", params={"q": "DX"})
    assert page.status_code == 200
    assert 'href="/search?q=DX&amp;prefecture=20"' in page.text
    assert "長野県（1件）" in page.text
    assert f'href="/search?q=DX&amp;theme={dx}"' in page.text and "DX（1件）" in page.text
    narrowed = await client.get("/search", params={"q": "DX", "prefecture": "20"})
    assert 'aria-current="page">長野県（1件）' in narrowed.text
