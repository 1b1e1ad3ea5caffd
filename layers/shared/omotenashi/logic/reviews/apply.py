"""Applying review and survey events (event worker): store the review, stop the order's reminder,
decide and give the reward. Each step is keyed by natural ids, so a repeat or a retry after a
failure midway ends in the same state."""

from __future__ import annotations

from omotenashi import clock
from omotenashi.dal import orders as order_data
from omotenashi.dal import reviews as review_data
from omotenashi.domain import Store
from omotenashi.logic.reviews import rewards
from omotenashi.logic.reviews.settings import from_store
from omotenashi.review_domain import Review, review_reward_key, survey_reward_key
from omotenashi.schemas.commerce import ReviewEventIn, SurveyEventIn


def review(store: Store, event: ReviewEventIn) -> bool:
    """True when the review was new."""
    settings = from_store(store)
    customer_id = event.customer.identity
    submitted_at = clock.instant(event.submitted_at)
    new = review_data.put_review(
        Review(
            store_id=store.store_id,
            review_id=event.review_id,
            order_id=event.order_id,
            sku=event.sku,
            customer_id=customer_id,
            rating=event.rating,
            title=event.title,
            body=event.body,
            submitted_at=submitted_at,
            # The store offers a reward for reviewing: the storefront labels the review (景品表示法).
            incentivized=settings.reward is not None,
        ),
        stored_at=clock.instant(clock.now()),
    )
    review_data.mark_reviewed(store.store_id, event.order_id, submitted_at)
    placed = next((e for e in order_data.history(store.store_id, event.order_id) if e.type == "placed"), None)
    rewards.grant(
        store,
        rewards.Earned(
            source="review",
            key=review_reward_key(event.order_id),
            customer_id=customer_id,
            earned_by=event.review_id,
            at=event.submitted_at,
            order_id=event.order_id,
            email=str(event.customer.email).lower()
            if event.customer.email
            else (placed.email if placed else None),
            name=event.customer.name or (placed.name if placed else None),
            locale=event.customer.locale or (placed.locale if placed else None),
        ),
    )
    return new


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
