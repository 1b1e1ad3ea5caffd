"""The ledger's arithmetic, pure: what an order's events are worth in points, and which entries move
a customer's points from what the ledger holds for the order to what its events say it should hold.

Orders are reconciled, not replayed: `plan_order` compares the ledger's record of an order
(`OrderPoints`) with the facts derived from the order's whole stored history (`OrderFacts`) and
returns the entries that close the gap. The facts are a function of the set of events, so events
that arrive twice, late or out of order end in the same ledger sums. Refund reversals are computed
from the cumulative refunded amount (`floor(earned x refunded / base)`, and exactly `earned` once
refunds reach the base), never per refund, so partial refunds add up exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor

from omotenashi.domain import OrderEvent
from omotenashi.logic.loyalty.settings import LoyaltySettings
from omotenashi.loyalty_domain import Bucket, Entry, EntryKind, OrderPoints

# Entries that extend the life of every available point (each earning restarts the expiry clock).
EARNING_KINDS: frozenset[str] = frozenset({"confirm", "birthday", "review_reward", "survey_bonus", "adjust"})


@dataclass(frozen=True)
class OrderFacts:
    """What an order's stored events say, whatever order they arrived in."""

    order_id: str
    customer_id: str
    placed: bool = False
    placed_at: datetime | None = None
    currency: str | None = None
    base: Decimal = Decimal(0)  # total - shipping: the amount that earns points
    cancelled: bool = False
    delivered_at: datetime | None = None
    refunded: Decimal = Decimal(0)  # every refund so far, added up

    @classmethod
    def from_history(cls, order_id: str, events: Iterable[OrderEvent]) -> OrderFacts:
        events = list(events)
        placed = next((e for e in events if e.type == "placed"), None)
        delivered = [e.occurred_at for e in events if e.type == "delivered"]
        refunds = {e.refund_id: e.refund_amount or Decimal(0) for e in events if e.type == "refunded"}
        return cls(
            order_id=order_id,
            # The order belongs to the customer who placed it (other events may name them otherwise).
            customer_id=placed.customer_id if placed else events[0].customer_id if events else "",
            placed=placed is not None,
            placed_at=placed.occurred_at if placed else None,
            currency=placed.currency if placed else None,
            base=(placed.total or Decimal(0)) - (placed.shipping or Decimal(0)) if placed else Decimal(0),
            cancelled=any(e.type == "cancelled" for e in events),
            delivered_at=min(delivered) if delivered else None,
            refunded=sum(refunds.values(), Decimal(0)),
        )


@dataclass(frozen=True)
class OrderPlan:
    held: OrderPoints  # the record after the entries
    entries: tuple[Entry, ...]
    confirm_due_at: datetime | None  # when the order's points become available (None: not to come)
    confirmed_now: bool = False


def taken_back_ratio(base: Decimal, refunded: Decimal, cancelled: bool) -> Fraction:
    """The share of an order taken back: all of it when cancelled, else the refunded share of the
    amount that earned points (capped at 1: a refund of the shipping as well takes back no more)."""
    if cancelled:
        return Fraction(1)
    if base <= 0:
        return Fraction(1) if refunded > 0 else Fraction(0)
    return min(Fraction(1), Fraction(refunded) / Fraction(base))


def share(points: int, ratio: Fraction) -> int:
    """The points of `ratio` (rounded down, so every partial share favours the customer, and the
    whole exactly at ratio 1)."""
    return points if ratio >= 1 else floor(points * ratio)


def points_for(base: Decimal, currency: str | None, rate_percent: Decimal, settings: LoyaltySettings) -> int:
    unit = settings.unit_points.get(currency or "")
    if unit is None or base <= 0:
        return 0
    return floor(Fraction(base) * Fraction(unit) * Fraction(rate_percent) / 100)


def spend_value(base: Decimal, refunded: Decimal, currency: str | None, settings: LoyaltySettings) -> Decimal:
    unit = settings.unit_points.get(currency or "")
    if unit is None:
        return Decimal(0)
    return max(Decimal(0), base - refunded) * unit


def confirm_due(facts: OrderFacts, settings: LoyaltySettings) -> datetime | None:
    """The end of the return window: `return_window_days` after delivery (also when `delivered`
    arrived before `placed`); None while undelivered, once cancelled or wholly refunded."""
    if not facts.placed or facts.cancelled or facts.delivered_at is None:
        return None
    if taken_back_ratio(facts.base, facts.refunded, facts.cancelled) >= 1:
        return None
    return facts.delivered_at + timedelta(days=settings.return_window_days)


def plan_order(
    facts: OrderFacts,
    held: OrderPoints,
    *,
    rate_percent: Decimal,
    settings: LoyaltySettings,
    now: datetime,
    confirm: bool = False,
) -> OrderPlan:
    """The entries that bring the ledger's record of an order in line with its facts. `confirm`:
    the confirmation timer is running (points become available only then, and only once due)."""
    order_id = facts.order_id
    step = held.version + 1  # entries of one reconciliation; the record's version guards it
    entries: list[Entry] = []
    rate = held.rate_percent
    earned = held.earned
    if facts.placed and rate is None:
        rate = rate_percent
        earned = points_for(facts.base, facts.currency, rate, settings)
        if earned:
            entries.append(Entry(f"order:{order_id}:earn", "earn", earned, "pending", order_id, "placed"))
    ratio = taken_back_ratio(facts.base, facts.refunded, facts.cancelled)
    confirmed_at = held.confirmed_at
    due = confirm_due(facts, settings) if confirmed_at is None else None
    confirmed_now = False
    bucket: Bucket = "available" if confirmed_at is not None else "pending"
    reversed_target = share(earned, ratio) if facts.placed else 0
    delta = reversed_target - held.reversed
    if delta:
        kind: EntryKind = "cancel" if facts.cancelled else "reverse"
        reason = "order cancelled" if facts.cancelled else f"refunded {facts.refunded} of {facts.base}"
        entries.append(Entry(f"order:{order_id}:{step}:{kind}", kind, -delta, bucket, order_id, reason))
    remaining = earned - reversed_target
    if confirm and due is not None and now >= due:
        confirmed_at, due, confirmed_now = now, None, True
        if remaining:
            reason = "return window ended"
            entries.append(
                Entry(f"order:{order_id}:confirm:out", "confirm", -remaining, "pending", order_id, reason)
            )
            entries.append(
                Entry(f"order:{order_id}:confirm:in", "confirm", remaining, "available", order_id, reason)
            )
    # Before `placed`, a refund's share of the order is unknown (no base yet): nothing comes back.
    returned_target = share(held.redeemed, ratio) if facts.placed or facts.cancelled else held.returned
    returned_delta = returned_target - held.returned
    if returned_delta:
        entries.append(
            Entry(
                f"order:{order_id}:{step}:redemption_return",
                "redemption_return",
                returned_delta,
                "available",
                order_id,
                "order cancelled" if facts.cancelled else "order refunded",
            )
        )
    spend = Decimal(0)
    if confirmed_at is not None and not facts.cancelled:
        spend = spend_value(facts.base, facts.refunded, facts.currency, settings)
    new = replace(
        held,
        rate_percent=rate,
        earned=earned,
        reversed=reversed_target,
        confirmed_at=confirmed_at,
        spend=spend,
        returned=returned_target,
        base=facts.base,
        refunded=facts.refunded,
        cancelled=facts.cancelled,
    )
    return OrderPlan(new, tuple(entries), due, confirmed_now)


def cancel_redemption(points: int, held: OrderPoints | None) -> tuple[int, OrderPoints | None]:
    """Undo a redemption of `points` (DELETE): the points owed back are all of it, less what a refund
    or cancellation of its order already gave back for it. Returns (points back, the order's record)."""
    if held is None:
        return points, None
    known = held.rate_percent is not None or held.cancelled  # placed (or cancelled): a known share
    ratio = taken_back_ratio(held.base, held.refunded, held.cancelled) if known else Fraction(0)
    rest = held.redeemed - points
    returned = share(rest, ratio)
    back = points + returned - held.returned
    return back, replace(held, redeemed=rest, returned=returned)


def balance_change(entries: Iterable[Entry]) -> tuple[int, int]:
    """(available, pending) change of the entries."""
    available = pending = 0
    for entry in entries:
        if entry.bucket == "available":
            available += entry.points
        else:
            pending += entry.points
    return available, pending
