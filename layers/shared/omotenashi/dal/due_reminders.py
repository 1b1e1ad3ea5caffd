"""The pending step of a marketing sequence (abandoned-cart reminders, review requests and their
reminder): the one scheduling mechanism of marketing email.

A sequence's subject (a cart, an order awaiting its review) is one item that carries its plan and,
while a step is pending, the sparse-index keys `reminder_shard` / `next_reminder_at`; the item
leaves the index when nothing is pending. The every-minute sweep Queries each shard for
`next_reminder_at <= now`, so a run reads what is due and never the subjects at rest. Each subject
also carries a *version* (a cart's `updated_at`, an order's review basis) that every conditional
write compares, so a step planned for an older version is never moved or sent.

Models using it declare the four attributes below (`reminder_step`, `reminder_plan`,
`reminder_shard`, `next_reminder_at`) and a GSI named `due-reminders` on the last two, exposed as
the model attribute `due_reminders`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.update import Action
from pynamodb.models import Model

from omotenashi.clock import instant
from omotenashi.dal.errors import StorageError

SHARDS = 4
Plan = tuple[tuple[int, str], ...]  # (step, due instant), time order


@dataclass(frozen=True)
class DueReminder:
    store_id: str
    subject_id: str  # the cart id, the order id
    step: int
    version: str  # the subject version the plan belongs to
    plan: Plan
    due_at: str  # when this step is due now (its planned time, or later if the gate deferred it)


@dataclass
class SweepStats:
    items_read: int = 0
    queries: int = 0


def shard(subject_id: str) -> str:
    return f"s{int(hashlib.sha256(subject_id.encode()).hexdigest(), 16) % SHARDS}"


def none_pending(model: type[Model]) -> list[Action]:
    """The actions that take the subject out of the index (nothing pending)."""
    fields: Any = model
    return [
        fields.reminder_step.remove(),
        fields.reminder_plan.remove(),
        fields.reminder_shard.remove(),
        fields.next_reminder_at.remove(),
    ]


def pending(
    model: type[Model], subject_id: str, plan: Plan, index: int, *, due: str | None = None
) -> list[Action]:
    """The actions that make `plan[index]` the pending step (due at its planned time, or at `due`
    when the gate deferred it); past the plan's end, none pending."""
    if index >= len(plan):
        return none_pending(model)
    fields: Any = model
    step, planned = plan[index]
    return [
        fields.reminder_step.set(step),
        fields.reminder_plan.set(json.dumps([list(p) for p in plan])),
        fields.reminder_shard.set(shard(subject_id)),
        fields.next_reminder_at.set(due or planned),
    ]


def next_index(due: DueReminder) -> int:
    return [step for step, _ in due.plan].index(due.step) + 1


def query_due(
    model: type[Model],
    now: datetime,
    stats: SweepStats,
    *,
    subject: Callable[[Any], str],
    version: Callable[[Any], str],
    limit: int = 1000,
) -> Iterator[DueReminder]:
    """Query every shard of the model's due-reminders index for next_reminder_at <= now: the cost
    follows the due steps, never the number of subjects."""
    fields: Any = model
    cutoff = instant(now)
    for name in (f"s{n}" for n in range(SHARDS)):
        try:
            results = fields.due_reminders.query(
                name, fields.next_reminder_at <= cutoff, limit=limit, page_size=200
            )
            stats.queries += 1
            for item in results:
                plan = tuple((int(s), str(at)) for s, at in json.loads(item.reminder_plan or "[]"))
                yield DueReminder(
                    store_id=item.store_id,
                    subject_id=subject(item),
                    step=int(item.reminder_step or 0),
                    version=version(item),
                    plan=plan,
                    due_at=str(item.next_reminder_at),
                )
            stats.items_read += results.page_iter.total_scanned_count
        except PynamoDBException as error:
            raise StorageError("querying due reminders failed") from error
