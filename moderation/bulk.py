"""Decisions on a selection of queue items at once, each through the single-item action.

Every item is decided by ``moderation.actions`` in a transaction of its own — the post, its
audit entry, its author's notice and its events together — so an item is either wholly
decided or untouched. The selection as a whole is not one transaction, on purpose: in a
burst two moderators work the same queue, and an item the other decided first (a stale
version, 409) must not hold back the rest. Each item reports its own outcome.

Who may act is settled for the whole selection before anything is written: an item that
does not exist, or lies on a board the actor does not moderate, refuses the request (404,
as for a single item) with nothing applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from forum.errors import ForumError, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.permissions import Actor, can_moderate
from moderation import actions
from moderation.access import check_moderator
from moderation.models import QueueItem

__all__ = ["MAX_ITEMS", "BulkDecision", "Outcome", "decide_many"]

# A page shows at most 100 items; a selection is never larger than what one can see.
MAX_ITEMS = 100


class BulkDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's part: the decision it got, or the error that left it untouched."""

    item_id: int
    result: actions.Result | None = None
    error: ForumError | None = None

    @property
    def decided(self) -> bool:
        return self.result is not None


async def decide_many(
    actor: Actor,
    selection: Sequence[tuple[int, int]],
    decision: BulkDecision,
    *,
    reason: str = "",
) -> list[Outcome]:
    """Approve or reject each ``(item id, version)`` in order; the outcomes in the same order."""
    check_moderator(actor)
    reason = actions.check_reason(reason)
    ids = [item_id for item_id, _version in selection]
    if not ids or len(ids) > MAX_ITEMS or len(set(ids)) != len(ids):
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"items": _("異なる件を1〜{high}件選んでください。").format(high=MAX_ITEMS)},
        )
    boards = dict(await QueueItem.filter(id__in=ids).values_list("id", "board_id"))
    if any(i not in boards or not can_moderate(actor, boards[i]) for i in ids):
        raise NotFound(
            _("この件は見つかりません。すでに判断されたか、削除された可能性があります。")
        )
    outcomes = []
    for item_id, version in selection:
        try:
            if decision is BulkDecision.APPROVE:
                result = await actions.approve(actor, item_id, version, reason=reason)
            else:
                result = await actions.reject(actor, item_id, version, reason=reason)
        except ForumError as exc:
            outcomes.append(Outcome(item_id, error=exc))
        else:
            outcomes.append(Outcome(item_id, result=result))
    return outcomes
