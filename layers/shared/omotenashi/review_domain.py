"""Reviews: what the storefront sent, an order's request sequence, and rewards (kept out of domain.py
so that code without reviews does not load them)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

RewardSource = Literal["review", "survey"]
# granted; limited (another review reward within the limit); off (the store rewards nothing);
# pool_empty (the coupon pool had no code left: nothing was given, the limit is not used up).
RewardOutcome = Literal["granted", "limited", "off", "pool_empty"]


MAX_KEY_PART = 300  # two parts and a prefix stay far below DynamoDB's 1024-byte sort keys


def key_part(value: str) -> str:
    """An id inside a composite key: ids may contain "#" (any printable ASCII), so it, "%" and "~"
    are percent-encoded and no two different ids give the same key or the same key prefix. An id
    that grows past MAX_KEY_PART encoded (255 characters of "#") is replaced by "~" and its digest,
    which no encoded id can equal (an encoded id has no "~")."""
    encoded = value.replace("%", "%25").replace("#", "%23").replace("~", "%7E")
    if len(encoded) <= MAX_KEY_PART:
        return encoded
    return "~" + hashlib.sha256(value.encode()).hexdigest()


def review_reward_key(order_id: str) -> str:
    """One review reward per order, whichever of its reviews comes first."""
    return f"reward#review#{key_part(order_id)}"


def survey_reward_key(survey_id: str, customer_id: str) -> str:
    """One survey bonus per survey and customer."""
    return f"reward#survey#{key_part(survey_id)}#{key_part(customer_id)}"


@dataclass(frozen=True)
class Review:
    store_id: str
    review_id: str
    order_id: str
    sku: str
    customer_id: str
    rating: int
    title: str | None
    body: str | None
    submitted_at: str  # an instant
    incentivized: bool  # a reward for reviewing was offered (景品表示法: the storefront labels it)
    email: str | None = None  # the reviewer's address, as the review event gave it


@dataclass(frozen=True)
class ReviewSequence:
    """An order's review request and reminder: the pending step and what has been sent."""

    order_id: str
    planned_basis: str | None  # the instant the request is timed from (delivered or fulfilled)
    step: int | None  # the pending step: 1 the request, 2 the reminder; None: nothing pending
    plan: tuple[tuple[int, str], ...]
    due_at: str | None
    request_sent_at: str | None
    reminder_sent_at: str | None
    reviewed_at: str | None
    stopped: str | None
    offered_reward: Mapping[str, Any] | None = None  # the reward the request promised (a document)


@dataclass(frozen=True)
class RewardRecord:
    """A reward decided once for its key (one per order reviewed, one per survey and customer)."""

    store_id: str
    key: str
    source: RewardSource
    customer_id: str
    outcome: RewardOutcome
    earned_by: str  # the review id or the survey response id
    at: str  # the review's or answer's own time (an instant)
    decided_at: str
    points: int | None = None
    coupon_code: str | None = None
    order_id: str | None = None
    survey_id: str | None = None
    email: str | None = None
    name: str | None = None
    locale: str | None = None
    given_at: str | None = None  # when the points were credited and the email queued (once)
