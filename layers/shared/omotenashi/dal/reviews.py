"""ReviewsTable: each order's review request sequence, the reviews, and the rewards (models in
dal/review_tables.py).

The sequence's pending step lives in the table's due-reminders index, written with the shared
actions of dal/due_reminders (the carts' mechanism); its version is the instant the request is
timed from. Every write is conditional, so overlapping sweeps, retried workers and events that
arrive late or twice cannot send a step twice or revive a sequence that ended.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.expressions.update import Action

from omotenashi.dal import due_reminders
from omotenashi.dal._pynamo import condition_failed, update_if
from omotenashi.dal.errors import StorageError
from omotenashi.dal.review_tables import (
    CustomerRewardsItem,
    ReviewIdItem,
    ReviewItem,
    ReviewOrderItem,
    RewardItem,
)
from omotenashi.dal.tables import bind
from omotenashi.review_domain import (
    Review,
    ReviewSequence,
    RewardOutcome,
    RewardRecord,
    RewardSource,
    key_part,
)

DueReminder = due_reminders.DueReminder
SweepStats = due_reminders.SweepStats


def _order_key(order_id: str) -> str:
    return f"order#{key_part(order_id)}"


def _sequence(item: ReviewOrderItem) -> ReviewSequence:
    plan = tuple((int(s), str(at)) for s, at in json.loads(item.reminder_plan or "[]"))
    return ReviewSequence(
        order_id=item.order_id,
        planned_basis=item.planned_basis,
        step=int(item.reminder_step) if item.reminder_step is not None else None,
        plan=plan,
        due_at=item.next_reminder_at,
        request_sent_at=item.request_sent_at,
        reminder_sent_at=item.reminder_sent_at,
        reviewed_at=item.reviewed_at,
        stopped=item.stopped,
        offered_reward=item.offered_reward,
    )


def get_sequence(store_id: str, order_id: str) -> ReviewSequence | None:
    bind()
    try:
        return _sequence(ReviewOrderItem.get(store_id, _order_key(order_id), consistent_read=True))
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading an order's review requests failed") from error


def _update(store_id: str, order_id: str, actions: list[Action], condition: Any, what: str) -> bool:
    bind()
    item = ReviewOrderItem(store_id=store_id, key=_order_key(order_id))
    return update_if(item, [ReviewOrderItem.order_id.set(order_id), *actions], condition, what)


def plan_request(store_id: str, order_id: str, plan: due_reminders.Plan, *, basis: str) -> bool:
    """Make the request (plan[0]) pending, timed from `basis`; only while no request has gone, the
    order is not reviewed, the sequence was not stopped, and it was not planned from this basis
    already (a repeated event changes nothing)."""
    condition = (
        ReviewOrderItem.request_sent_at.does_not_exist()
        & ReviewOrderItem.reviewed_at.does_not_exist()
        & ReviewOrderItem.stopped.does_not_exist()
        & (ReviewOrderItem.planned_basis.does_not_exist() | (ReviewOrderItem.planned_basis != basis))
    )
    actions = [
        *due_reminders.pending(ReviewOrderItem, order_id, plan, 0),
        ReviewOrderItem.planned_basis.set(basis),
    ]
    return _update(store_id, order_id, actions, condition, "planning a review request")


def stop(store_id: str, order_id: str, reason: str) -> None:
    """End the sequence: nothing pending, and no later plan (cancelled, fully refunded)."""
    actions = [*due_reminders.none_pending(ReviewOrderItem), ReviewOrderItem.stopped.set(reason)]
    _update(store_id, order_id, actions, ReviewOrderItem.stopped.does_not_exist(), "stopping review requests")


def mark_reviewed(store_id: str, order_id: str, submitted_at: str) -> None:
    """A review of the order arrived: whatever is pending (request or reminder) is dropped, and the
    earliest review's time is kept."""
    actions = [*due_reminders.none_pending(ReviewOrderItem), ReviewOrderItem.reviewed_at.set(submitted_at)]
    earlier = ReviewOrderItem.reviewed_at.does_not_exist() | (ReviewOrderItem.reviewed_at > submitted_at)
    if not _update(store_id, order_id, actions, earlier, "recording a review"):
        _update(store_id, order_id, due_reminders.none_pending(ReviewOrderItem), None, "recording a review")


def due(now: datetime, stats: SweepStats) -> Iterator[DueReminder]:
    """The orders' due review steps (the subject is the order, the version its basis)."""
    bind()
    return due_reminders.query_due(
        ReviewOrderItem,
        now,
        stats,
        subject=lambda item: str(item.order_id),
        version=lambda item: str(item.planned_basis),
    )


def advance(due: DueReminder) -> bool:
    """Move the pending step on (after it was enqueued); False when another sweep moved it, or the
    sequence changed, meanwhile."""
    # The due time too: a worker that deferred the step (quiet hours) before this ran moved it, and
    # that deferral must stay pending.
    condition = (
        (ReviewOrderItem.planned_basis == due.version)
        & (ReviewOrderItem.reminder_step == due.step)
        & (ReviewOrderItem.next_reminder_at == due.due_at)
    )
    actions = due_reminders.pending(ReviewOrderItem, due.subject_id, due.plan, due_reminders.next_index(due))
    return _update(due.store_id, due.subject_id, actions, condition, "advancing a review request")


def defer(
    store_id: str, order_id: str, *, basis: str, step: int, plan: due_reminders.Plan, until: str
) -> bool:
    """Put `step` back as pending, due at `until` (the gate deferred it), unless the order was
    reviewed or replanned meanwhile."""
    index = [s for s, _ in plan].index(step)
    sent = ReviewOrderItem.request_sent_at if step == 1 else ReviewOrderItem.reminder_sent_at
    condition = (
        (ReviewOrderItem.planned_basis == basis)
        & ReviewOrderItem.reviewed_at.does_not_exist()
        & ReviewOrderItem.stopped.does_not_exist()
        & sent.does_not_exist()  # a step that went is never put back
    )
    actions = due_reminders.pending(ReviewOrderItem, order_id, plan, index, due=until)
    return _update(store_id, order_id, actions, condition, "deferring a review request")


def record_request_sent(
    store_id: str,
    order_id: str,
    *,
    basis: str,
    at: str,
    reminder_plan: due_reminders.Plan | None,
    offered_reward: dict[str, Any] | None,
) -> None:
    """The request went at `at` (promising `offered_reward`): record it once and, unless the order
    was reviewed meanwhile (or no reminder is wanted), make the reminder (the plan's step 2)
    pending."""
    first_time = ReviewOrderItem.request_sent_at.does_not_exist() & (ReviewOrderItem.planned_basis == basis)
    sent: list[Action] = [ReviewOrderItem.request_sent_at.set(at)]
    if offered_reward is not None:
        sent.append(ReviewOrderItem.offered_reward.set(offered_reward))
    if reminder_plan:
        actions = [
            *sent,
            *due_reminders.pending(ReviewOrderItem, order_id, reminder_plan, len(reminder_plan) - 1),
        ]
        unreviewed = ReviewOrderItem.reviewed_at.does_not_exist() & ReviewOrderItem.stopped.does_not_exist()
        if _update(store_id, order_id, actions, first_time & unreviewed, "recording a review request"):
            return
    _update(store_id, order_id, sent, first_time, "recording a review request")


def record_reminder_sent(store_id: str, order_id: str, *, at: str) -> None:
    _update(
        store_id,
        order_id,
        [ReviewOrderItem.reminder_sent_at.set(at)],
        ReviewOrderItem.reminder_sent_at.does_not_exist(),
        "recording a review reminder",
    )


# -- reviews -----------------------------------------------------------------------------------------


def _review_key(order_id: str, review_id: str) -> str:
    return f"review#{key_part(order_id)}#{key_part(review_id)}"


def put_review(review: Review, *, stored_at: str) -> Literal["stored", "repeat", "other_order"]:
    """Store the review once: "repeat" when stored already, "other_order" when its id was stored
    for another order (the review id is the natural id: the same id under another order is not a
    second review, and is not stored)."""
    bind()
    claim = ReviewIdItem(
        store_id=review.store_id, key=f"review_id#{key_part(review.review_id)}", order_id=review.order_id
    )
    try:
        claim.save(condition=ReviewIdItem.key.does_not_exist())
    except PynamoDBException as error:
        if not condition_failed(error):
            raise StorageError("storing a review failed") from error
        try:  # claimed before: by this order (a retry goes on), or by another (dropped)
            first = ReviewIdItem.get(claim.store_id, claim.key, consistent_read=True)
        except PynamoDBException as read_error:
            raise StorageError("storing a review failed") from read_error
        if first.order_id != review.order_id:
            return "other_order"
    item = ReviewItem(
        store_id=review.store_id,
        key=_review_key(review.order_id, review.review_id),
        review_id=review.review_id,
        order_id=review.order_id,
        sku=review.sku,
        customer_id=review.customer_id,
        rating=review.rating,
        title=review.title,
        body=review.body,
        submitted_at=review.submitted_at,
        incentivized=review.incentivized,
        stored_at=stored_at,
        email=review.email,
    )
    try:
        item.save(condition=ReviewItem.key.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            return "repeat"
        raise StorageError("storing a review failed") from error
    return "stored"


def order_reviews(store_id: str, order_id: str) -> list[Review]:
    """The order's reviews, oldest first by their own time."""
    bind()
    try:
        items = ReviewItem.query(
            store_id, ReviewItem.key.startswith(f"review#{key_part(order_id)}#"), consistent_read=True
        )
        reviews = [
            Review(
                store_id=i.store_id,
                review_id=i.review_id,
                order_id=i.order_id,
                sku=i.sku,
                customer_id=i.customer_id,
                rating=int(i.rating),
                title=i.title,
                body=i.body,
                submitted_at=i.submitted_at,
                incentivized=bool(i.incentivized),
                email=i.email,
            )
            for i in items
        ]
    except PynamoDBException as error:
        raise StorageError("reading an order's reviews failed") from error
    return sorted(reviews, key=lambda r: (r.submitted_at, r.review_id))


# -- rewards -----------------------------------------------------------------------------------------


def _record(item: RewardItem) -> RewardRecord:
    return RewardRecord(
        store_id=item.store_id,
        key=item.key,
        source=cast(RewardSource, item.source),
        customer_id=item.customer_id,
        outcome=cast(RewardOutcome, item.outcome),
        earned_by=item.earned_by,
        at=item.at,
        decided_at=item.decided_at,
        points=int(item.points) if item.points is not None else None,
        coupon_code=item.coupon_code,
        order_id=item.order_id,
        survey_id=item.survey_id,
        email=item.email,
        name=item.name,
        locale=item.locale,
        given_at=item.given_at,
    )


def get_reward(store_id: str, key: str) -> RewardRecord | None:
    bind()
    try:
        return _record(RewardItem.get(store_id, key, consistent_read=True))
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading a reward failed") from error


def put_reward(record: RewardRecord) -> RewardRecord:
    """Record the decision once; a decision recorded first (a concurrent twin) wins and is returned."""
    bind()
    item = RewardItem(
        store_id=record.store_id,
        key=record.key,
        source=record.source,
        customer_id=record.customer_id,
        outcome=record.outcome,
        earned_by=record.earned_by,
        at=record.at,
        decided_at=record.decided_at,
        points=record.points,
        coupon_code=record.coupon_code,
        order_id=record.order_id,
        survey_id=record.survey_id,
        email=record.email,
        name=record.name,
        locale=record.locale,
    )
    try:
        item.save(condition=RewardItem.key.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            existing = get_reward(record.store_id, record.key)
            if existing is not None:
                return existing
        raise StorageError("recording a reward failed") from error
    return record


@dataclass(frozen=True)
class GrantedRewards:
    granted: dict[str, str]  # reward key -> the instant it was earned at
    pruned_through: str | None  # every reward dropped from `granted` was earned at or before this
    version: int | None = None  # what a compare-and-swap compares (None: no record yet)


def mark_reward_given(store_id: str, key: str, at: str) -> None:
    """The reward was given (its ledger entry made, its email queued): later events of the order
    do not give it again (the email's delivery record does not last for ever)."""
    bind()
    not_given_yet = RewardItem.key.exists() & RewardItem.given_at.does_not_exist()
    update_if(
        RewardItem(store_id=store_id, key=key),
        [RewardItem.given_at.set(at)],
        not_given_yet,
        "recording a reward given",
    )


def granted_rewards(store_id: str, customer_id: str) -> GrantedRewards:
    """The customer's review rewards granted, as last saved."""
    bind()
    try:
        item = CustomerRewardsItem.get(store_id, f"rewards#{customer_id}", consistent_read=True)
    except DoesNotExist:
        return GrantedRewards({}, None)
    except PynamoDBException as error:
        raise StorageError("reading a customer's rewards failed") from error
    granted = {str(k): str(v) for k, v in (item.granted or {}).items()}
    return GrantedRewards(granted, item.pruned_through, item.version)


def save_granted_rewards(
    store_id: str, customer_id: str, rewards: GrantedRewards, version: int | None
) -> bool:
    """Replace the customer's granted rewards if nobody changed them since `version` was read."""
    bind()
    item = CustomerRewardsItem(
        store_id=store_id,
        key=f"rewards#{customer_id}",
        granted=rewards.granted,
        pruned_through=rewards.pruned_through,
    )
    if version is not None:
        item.version = version
    try:
        item.save()  # VersionAttribute: a compare-and-swap (absent when version is None)
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("recording a customer's rewards failed") from error
    return True
