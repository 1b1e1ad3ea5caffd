"""Applying review and survey events (event worker): store the review, stop the order's reminder,
decide and give the reward. Each step is keyed by natural ids, so a repeat or a retry after a
failure midway ends in the same state."""

from __future__ import annotations

from omotenashi import clock
from omotenashi.dal import reviews as review_data
from omotenashi.domain import Store
from omotenashi.logic.reviews import requests, rewards
from omotenashi.logic.reviews.settings import from_store
from omotenashi.observability import logger
from omotenashi.review_domain import Review, survey_reward_key
from omotenashi.schemas.commerce import ReviewEventIn, SurveyEventIn


def review(store: Store, event: ReviewEventIn) -> bool:
    """True when the review was new."""
    settings = from_store(store)
    submitted_at = clock.instant(event.submitted_at)
    sequence = review_data.get_sequence(store.store_id, event.order_id)
    stored = review_data.put_review(
        Review(
            store_id=store.store_id,
            review_id=event.review_id,
            order_id=event.order_id,
            sku=event.sku,
            customer_id=event.customer.identity,
            rating=event.rating,
            title=event.title,
            body=event.body,
            submitted_at=submitted_at,
            # A reward for reviewing was offered (the store's now, or the one the order's request
            # promised): the storefront labels the review (景品表示法, ステルスマーケティング告示).
            incentivized=settings.reward is not None or bool(sequence and sequence.offered_reward),
            email=str(event.customer.email).lower() if event.customer.email else None,
        ),
        stored_at=clock.instant(clock.now()),
    )
    if stored == "other_order":
        logger.warning("review id already stored for another order: not stored again")
        return False
    review_data.mark_reviewed(store.store_id, event.order_id, submitted_at)
    rewards.for_order(store, event.order_id)
    return stored == "stored"


def order_changed(store: Store, order_id: str) -> None:
    """After any event of the order: its review request is planned, stopped or left (requests.py),
    and a review that arrived before the order is rewarded once the order is known."""
    sequence = review_data.get_sequence(store.store_id, order_id)
    requests.schedule(store, order_id, sequence)
    if sequence is not None and sequence.reviewed_at is not None:
        rewards.for_order(store, order_id)


def survey(store: Store, event: SurveyEventIn) -> bool:
    """True when this answer earned a reward now (False: earned before, or nothing to earn)."""
    customer_id = event.customer.identity
    key = survey_reward_key(event.survey_id, customer_id)
    before = review_data.get_reward(store.store_id, key)
    record = rewards.grant(
        store,
        rewards.Earned(
            source="survey",
            key=key,
            customer_id=customer_id,
            earned_by=event.response_id,
            at=event.submitted_at,
            survey_id=event.survey_id,
            email=str(event.customer.email).lower() if event.customer.email else None,
            name=event.customer.name,
            locale=event.customer.locale,
        ),
    )
    # Only the answer that earned it says so (a twin answer deciding at the same moment does not).
    return before is None and record.outcome == "granted" and record.earned_by == event.response_id
