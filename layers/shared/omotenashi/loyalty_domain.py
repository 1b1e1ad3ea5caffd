"""Loyalty records shared by logic and data access (the points ledger). Kept apart from domain.py:
only loyalty code imports them, so a cold start that serves inquiries does not build them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from omotenashi.domain import Locale

# Loyalty: the two buckets of a customer's points and the kinds of ledger entry.
Bucket = Literal["pending", "available"]
EntryKind = Literal[
    "earn",  # an order's points, pending
    "confirm",  # pending -> available when the return window ends (two entries)
    "reverse",  # a refund's share of an order's points
    "cancel",  # a cancelled order's points
    "redeem",
    "redemption_return",  # redeemed points given back by a refund or cancellation of their order
    "redemption_cancel",  # a redemption undone (DELETE)
    "adjust",  # staff, with a reason and an author
    "expire",
    "birthday",
    "review_reward",  # a review's reward (logic/reviews/rewards.py), never dependent on the rating
    "survey_bonus",  # a survey answer's bonus
]

# --- loyalty --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One immutable line of a customer's points ledger."""

    entry_id: str  # deterministic from its source: the same source lands on the same entry, once
    kind: EntryKind
    points: int  # signed
    bucket: Bucket
    order_id: str | None = None
    reason: str | None = None
    author: str | None = None  # staff adjustments


@dataclass(frozen=True)
class LedgerLine:
    """An entry as stored: with when it was written and, for available points, when they expire
    as of writing (a later earning extends them)."""

    entry: Entry
    at: datetime
    expires_at: datetime | None = None


@dataclass(frozen=True)
class OrderPoints:
    """The ledger's record of one order (an item next to the customer's balance)."""

    rate_percent: Decimal | None = None  # the tier's rate when the order was first credited
    earned: int = 0  # points the order earned
    reversed: int = 0  # of those, taken back (refunds, cancellation)
    confirmed_at: datetime | None = None  # pending -> available happened
    spend: Decimal = Decimal(0)  # counted towards tiers (points value) while confirmed
    redeemed: int = 0  # points of live redemptions that name this order
    returned: int = 0  # of those, given back by refunds or cancellation
    # The facts the record was last reconciled with (a redemption's DELETE reads the ratio here).
    base: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    cancelled: bool = False
    version: int = 0
    confirm_due_at: datetime | None = None  # as stored (the sweep's lease may have moved it)

    @property
    def remaining(self) -> int:
        return self.earned - self.reversed


@dataclass(frozen=True)
class TierChange:
    change_id: str  # unique per change: the tier_changed email is sent once per id
    previous: str | None
    tier: str
    at: datetime
    cause: str | None = None  # "order:<id>" or "daily": a retried cause re-sends its notice (once)


@dataclass(frozen=True)
class LoyaltyAccount:
    """A customer's balance item: the bucket sums (always equal to the sums of the entries), the
    tier and the spend that decides it, and what the emails and timers need."""

    store_id: str
    customer_id: str
    available: int = 0
    pending: int = 0
    tier: str | None = None
    last_tier_change: TierChange | None = None
    spend_log: Mapping[str, tuple[datetime, Decimal]] = field(default_factory=dict)
    last_earned_at: datetime | None = None
    email: str | None = None
    name: str | None = None
    locale: Locale | None = None
    birthday: str | None = None  # "MM-DD"
    revision: int = 0  # guards read-modify-write of the fields above (counters use ADD)


@dataclass(frozen=True)
class Redemption:
    store_id: str
    customer_id: str
    redemption_id: str
    points: int
    order_id: str | None
    state: Literal["active", "cancelled"]
    request_hash: str
    available_after: int  # the answer of the POST
    created_at: datetime
    returned_on_cancel: int | None = None  # points the DELETE gave back
    available_after_cancel: int | None = None
