"""Rewards for reviewing an order and for answering a survey: decided once per key, given once.

景品表示法 (ステルスマーケティング告示, October 2023): a review the business influenced is the
business's own advertising, and a reward that depends on a good rating is exactly that influence.
So nothing here reads the rating or the text: a 1-star review earns what a 5-star one does. The
reward is for a future purchase (bonus points, or a coupon code), never a discount on the reviewed
order, and the stored review is marked `incentivized` so the storefront can label it.

- **Once per key**: `reward#review#<order_id>` (one reward per order, whichever of its reviews
  comes first) and `reward#survey#<survey_id>#<customer_id>`. The decision is one conditional put;
  a retry that finds it recorded gives what it says again, and giving is idempotent (the ledger
  entry's id is the key's source; the email goes once per key).
- **At most one review reward per customer within `reward_limit_days`** (default 30), measured
  between the reviews' own times (in both directions). A reward given is never taken back, so of
  two reviews within the limit the one that arrives first holds it, even when the other was written
  earlier; either way the customer earns one. The customer's granted rewards are one item changed
  by compare-and-swap: two reviews deciding at once cannot both pass the limit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.dal import marketing as marketing_data
from omotenashi.dal import orders as order_data
from omotenashi.dal import reviews as review_data
from omotenashi.domain import Locale, OrderEvent, Store
from omotenashi.logic.core import directory, jobs
from omotenashi.logic.core.delivery import delivery_id, send_once
from omotenashi.logic.core.errors import ServiceUnavailable
from omotenashi.logic.loyalty import accounts
from omotenashi.logic.marketing import coupons
from omotenashi.logic.reviews.settings import ReviewSettings, Reward, from_store, reward_from_document
from omotenashi.messaging.compose import Draft
from omotenashi.observability import logger, metrics
from omotenashi.review_domain import RewardOutcome, RewardRecord, RewardSource, review_reward_key
from omotenashi.schemas.jobs import ReviewRewardJob

ATTEMPTS = 8


def _digest(text: str) -> str:
    """For ids built from keys that may hold an email address (a guest's customer id)."""
    return hashlib.sha256(text.encode()).hexdigest()


KEEP_DAYS = 400  # granted rewards older than this (from the one being decided) no longer matter
ENTRY_KINDS = {"review": "review_reward", "survey": "survey_bonus"}


@dataclass(frozen=True)
class Earned:
    """What earned a reward: a review of an order, or a survey answer."""

    source: RewardSource
    key: str
    customer_id: str
    earned_by: str  # review id, survey response id
    at: datetime  # its own time
    order_id: str | None = None
    survey_id: str | None = None
    email: str | None = None
    name: str | None = None
    locale: str | None = None
    promised: Reward | None = None  # what the order's review request promised (honoured as such)
    # The review was stored labelled incentivized: a review stored unlabelled (no reward offered
    # then) is never rewarded later, so no reward goes with a review shown as unpaid (景品表示法).
    incentivized: bool = True


def within_limit(granted: Mapping[str, str], key: str, at: datetime, limit_days: int) -> bool:
    """May the reward `key`, earned at `at`, be granted given the customer's other granted rewards
    (key -> instant earned)? Pure. Granted already: yes (a retry). Otherwise no other reward may
    lie less than `limit_days` before or after it (0: no limit)."""
    if key in granted or limit_days <= 0:
        return True
    window = timedelta(days=limit_days)
    return all(abs(clock.parse_instant(other) - at) >= window for other in granted.values())


def after_pruned(pruned_through: str | None, at: datetime, limit_days: int) -> bool:
    """Is `at` at least `limit_days` after every reward pruned from the customer's record (all at
    or before `pruned_through`)? Then no pruned reward can decide it. A review dated earlier (a
    backfill of reviews over a year old) is not rewarded: what it would be compared with is gone."""
    if limit_days <= 0 or pruned_through is None:
        return True
    return at >= clock.parse_instant(pruned_through) + timedelta(days=limit_days)


def pruned(
    granted: Mapping[str, str], at: datetime, pruned_through: str | None
) -> tuple[dict[str, str], str | None]:
    """The rewards within KEEP_DAYS of the newest (of them and `at`), and the newest instant
    dropped so far (the record stays small however long a customer stays)."""
    newest = max([at, *(clock.parse_instant(v) for v in granted.values())])
    keep = timedelta(days=KEEP_DAYS)
    kept = {k: v for k, v in granted.items() if newest - clock.parse_instant(v) < keep}
    dropped = [clock.parse_instant(v) for k, v in granted.items() if k not in kept]
    if pruned_through is not None:
        dropped.append(clock.parse_instant(pruned_through))
    return kept, clock.instant(max(dropped)) if dropped else None


def _record(
    store: Store,
    earned: Earned,
    outcome: RewardOutcome,
    reward: Reward | None = None,
    code: str | None = None,
) -> RewardRecord:
    return review_data.put_reward(
        RewardRecord(
            store_id=store.store_id,
            key=earned.key,
            source=earned.source,
            customer_id=earned.customer_id,
            outcome=outcome,
            earned_by=earned.earned_by,
            at=clock.instant(earned.at),
            decided_at=clock.instant(clock.now()),
            points=reward.points if reward and outcome == "granted" else None,
            coupon_code=code,
            order_id=earned.order_id,
            survey_id=earned.survey_id,
            email=earned.email,
            name=earned.name,
            locale=earned.locale,
        )
    )


def _decide(store: Store, settings: ReviewSettings, earned: Earned) -> RewardRecord:
    reward = (earned.promised or settings.reward) if earned.source == "review" else settings.survey_reward
    if reward is None or not earned.incentivized:
        return _record(store, earned, "off")
    limit = settings.reward_limit_days if earned.source == "review" else 0
    for attempt in range(ATTEMPTS):
        history = review_data.granted_rewards(store.store_id, earned.customer_id) if limit else None
        granted, pruned_through = (history.granted, history.pruned_through) if history else ({}, None)
        allowed = within_limit(granted, earned.key, earned.at, limit)
        if not allowed or (earned.key not in granted and not after_pruned(pruned_through, earned.at, limit)):
            metrics.add_metric(name="ReviewRewardLimited", unit="Count", value=1)
            return _record(store, earned, "limited")
        code = reward.coupon_code
        if reward.coupon_pool is not None:
            code = coupons.take(store.store_id, reward.coupon_pool, earned.key)
            if code is None:
                return _record(store, earned, "pool_empty")
        if limit and earned.key not in granted:
            kept, through = pruned(granted, earned.at, pruned_through)
            updated = review_data.GrantedRewards({**kept, earned.key: clock.instant(earned.at)}, through)
            version = history.version if history else None
            if not review_data.save_granted_rewards(store.store_id, earned.customer_id, updated, version):
                accounts.backoff(attempt)  # another reward of theirs was decided: read again
                continue
        return _record(store, earned, "granted", reward, code)
    raise ServiceUnavailable("the customer's rewards are changing; retry")


def _settle(store: Store, key: str, earned: Callable[[], Earned | None]) -> RewardRecord | None:
    """The reward under `key`: decided once (from `earned()`, read only when undecided; None: not
    earned yet) and given what was decided (again, harmlessly, on a retry: a failure after the
    decision gives it on the next attempt)."""
    record = review_data.get_reward(store.store_id, key)
    if record is None:
        found = earned()
        if found is None:
            return None
        record = _decide(store, from_store(store), found)
        metrics.add_metric(name=f"Reward_{record.outcome}", unit="Count", value=1)
        logger.info("reward decided", extra={"source": record.source, "outcome": record.outcome})
    if record.outcome == "granted":
        _give(store, record)
    return record


def grant(store: Store, earned: Earned) -> RewardRecord:
    """Decide the reward for `earned` once, and give it (see _settle)."""
    record = _settle(store, earned.key, lambda: earned)
    assert record is not None  # earned() never answers None here
    return record


def for_order(store: Store, order_id: str) -> RewardRecord | None:
    """Decide (once) and give the reward for reviewing `order_id`, when it is earned: the order was
    placed, and reviewed by the customer who placed it (the first of their reviews). Called when a
    review arrives and after each order event, so a review that comes before its order is
    rewarded when the order arrives. None: not earned (yet)."""
    return _settle(store, review_reward_key(order_id), lambda: _earned_by_review(store, order_id))


def _earned_by_review(store: Store, order_id: str) -> Earned | None:
    placed = next((e for e in order_data.history(store.store_id, order_id) if e.type == "placed"), None)
    if placed is None:
        return None  # the order is not known yet: its placed event decides
    by_buyer = [
        r
        for r in review_data.order_reviews(store.store_id, order_id)
        if _by_buyer(r.customer_id, r.email, placed)
    ]
    if not by_buyer:
        return None  # no review by the buyer (a stranger's review of the order earns nothing)
    first = by_buyer[0]  # oldest first
    sequence = review_data.get_sequence(store.store_id, order_id)
    return Earned(
        source="review",
        key=review_reward_key(order_id),
        customer_id=placed.customer_id,
        earned_by=first.review_id,
        at=clock.parse_instant(first.submitted_at),
        order_id=order_id,
        email=placed.email or first.email,
        name=placed.name,
        locale=placed.locale,
        promised=reward_from_document(sequence.offered_reward if sequence else None),
        incentivized=first.incentivized,
    )


def _by_buyer(customer_id: str, email: str | None, placed: OrderEvent) -> bool:
    """A review by this customer comes from the one who placed the order (by id, or by address
    for a storefront that identifies a guest's review by email). Only who wrote it is read."""
    if customer_id == placed.customer_id:
        return True
    return bool(email and placed.email and email.lower() == placed.email.lower())


def _give(store: Store, record: RewardRecord) -> None:
    """Credit the points and queue the email, each idempotent, then mark the reward given: a retry
    after a failure midway gives what is missing; once given, nothing is done again."""
    if record.given_at is not None:
        return
    if record.points:
        source_id = record.order_id if record.source == "review" else f"{record.survey_id}"
        accounts.credit_bonus(
            store,
            record.customer_id,
            f"{ENTRY_KINDS[record.source]}:{source_id}",
            ENTRY_KINDS[record.source],
            record.points,
            f"review of order {record.order_id}"
            if record.source == "review"
            else f"survey {record.survey_id}",
            profile=accounts.Profile(
                email=record.email, name=record.name, locale=cast(Locale | None, record.locale), birthday=None
            )
            if record.email
            else None,
        )
    jobs.enqueue(ReviewRewardJob(store_id=store.store_id, reward_key=record.key))
    review_data.mark_reward_given(store.store_id, record.key, clock.instant(clock.now()))


# -- the message worker's half: the review_reward email (transactional) ------------------------------


def deliver_reward(job: ReviewRewardJob) -> str:
    """Tell the customer what they earned, once per reward (never to a suppressed address)."""
    jobs.bind_log_context(job)
    store = directory.require(job.store_id)
    record = review_data.get_reward(store.store_id, job.reward_key)
    if record is None or record.outcome != "granted":
        return "skipped:not_granted"
    account = loyalty_data.get_account(store.store_id, record.customer_id) if record.points else None
    email = record.email or (account.email if account else None)
    if not email:
        return "skipped:no_email"
    if marketing_data.is_suppressed(store.store_id, email):
        metrics.add_metric(name="ReviewRewardEmailSuppressed", unit="Count", value=1)
        return "skipped:suppressed"
    locale = record.locale or (account.locale if account else None) or store.default_locale
    name = record.name or (account.name if account else None)
    context: dict[str, Any] = {
        "customer": {"name": name},
        "source": record.source,
        "order_id": record.order_id,
        "points": record.points,
        "available": account.available if account else None,
        "coupon_code": record.coupon_code,
        "locale": locale,
    }
    key = delivery_id("review_reward", store.store_id, _digest(record.key))
    sent = send_once(
        key,
        lambda: Draft(
            kind="review_reward",
            store=store,
            locale=locale,
            to=email,
            to_name=name,
            context=context,
            reference=_digest(key)[:32],
        ),
    )
    metrics.add_metric(name="ReviewRewardEmailSent", unit="Count", value=1 if sent.now else 0)
    return "sent" if sent.now else "already_sent"
