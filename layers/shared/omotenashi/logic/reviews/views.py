"""An order's reviews, its review request sequence and its reward, as GET /v1/orders/{id} shows
them (the storefront labels incentivized reviews from here)."""

from __future__ import annotations

from omotenashi.dal import reviews as review_data
from omotenashi.review_domain import ReviewSequence, review_reward_key
from omotenashi.schemas.commerce import ReviewOut, ReviewRequestOut, ReviewRewardOut


def _status(sequence: ReviewSequence) -> str:
    if sequence.reviewed_at is not None:
        return "reviewed"
    if sequence.stopped is not None:
        return "stopped"
    if sequence.reminder_sent_at is not None:
        return "reminded"
    if sequence.request_sent_at is not None:
        return "requested"
    return "scheduled" if sequence.step is not None else "none"


def for_order(
    store_id: str, order_id: str
) -> tuple[list[ReviewOut], ReviewRequestOut | None, ReviewRewardOut | None]:
    reviews = [
        ReviewOut(
            review_id=r.review_id,
            sku=r.sku,
            customer_id=r.customer_id,
            rating=r.rating,
            title=r.title,
            body=r.body,
            submitted_at=r.submitted_at,
            incentivized=r.incentivized,
        )
        for r in review_data.order_reviews(store_id, order_id)
    ]
    sequence = review_data.get_sequence(store_id, order_id)
    request = (
        ReviewRequestOut(
            status=_status(sequence),
            due_at=sequence.due_at if sequence.step is not None else None,
            requested_at=sequence.request_sent_at,
            reminded_at=sequence.reminder_sent_at,
            stopped=sequence.stopped,
        )
        if sequence is not None
        else None
    )
    record = review_data.get_reward(store_id, review_reward_key(order_id))
    reward = (
        ReviewRewardOut(
            outcome=record.outcome,
            review_id=record.earned_by,
            points=record.points,
            coupon_code=record.coupon_code,
            decided_at=record.decided_at,
        )
        if record is not None
        else None
    )
    return reviews, request, reward
