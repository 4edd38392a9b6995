"""Cleanup: files of rejected or deleted posts after retention, orphans after the grace period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
from starlette.applications import Starlette

from tests.conftest import Member
from tests.moderation.support import new_board, new_thread, reply
from tests.uploads import samples
from tests.uploads.support import uploaded
from uploads.cleanup import clean_uploads
from uploads.models import Upload

RETENTION = timedelta(days=30)
GRACE = timedelta(hours=24)


async def _clean(app: Starlette, now: datetime) -> tuple[int, int]:
    cleaned = await clean_uploads(app.state.uploads, retention=RETENTION, grace=GRACE, now=now)
    return cleaned.withdrawn, cleaned.orphans


async def _status(client: httpx2.AsyncClient, item: dict[str, Any], member: Member) -> int:
    return (await client.get(item["url"], headers=member.headers)).status_code


async def test_an_orphan_is_removed_after_the_grace_period_and_not_before(
    app: Starlette, client: httpx2.AsyncClient, alice: Member
) -> None:
    orphan = await uploaded(client, alice, "never-posted.pdf", samples.PDF)
    now = datetime.now(UTC)
    assert await _clean(app, now + GRACE - timedelta(minutes=5)) == (0, 0)
    assert await _status(client, orphan, alice) == 200
    assert await _clean(app, now + GRACE + timedelta(minutes=5)) == (0, 1)
    assert await _status(client, orphan, alice) == 404
    assert not await Upload.filter(id=orphan["id"]).exists()


async def test_a_deleted_posts_files_go_after_retention_while_a_live_posts_stay(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    kept = await uploaded(client, alice, "kept.png", samples.image("PNG"))
    gone = await uploaded(client, alice, "gone.png", samples.image("PNG"))
    await reply(client, alice, thread_id, "残る", attachments=[kept["id"]])
    doomed = await reply(client, alice, thread_id, "消える", attachments=[gone["id"]])
    await client.delete(f"/api/v1/posts/{doomed['id']}", headers=alice.headers)
    now = datetime.now(UTC)
    # The first pass starts the retention clock; nothing goes yet.
    assert await _clean(app, now) == (0, 0)
    assert await _clean(app, now + RETENTION - timedelta(hours=1)) == (0, 0)
    assert await _clean(app, now + RETENTION + timedelta(hours=1)) == (1, 0)
    assert not await Upload.filter(id=gone["id"]).exists()
    assert await _status(client, kept, alice) == 200
    thumb = await client.get(kept["thumbnail_url"])
    assert thumb.status_code == 200


async def test_a_file_attached_during_the_grace_period_is_kept(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    late = await uploaded(client, alice, "late.pdf", samples.PDF)
    await reply(client, alice, thread_id, "あとで添付", attachments=[late["id"]])
    assert await _clean(app, datetime.now(UTC) + GRACE * 10) == (0, 0)
    assert (await client.get(late["url"])).status_code == 200
