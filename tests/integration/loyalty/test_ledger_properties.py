"""The ledger's rules as properties, against moto (the real transactions and conditions): random
sequences of order events (placed, delivered, cancelled, partial and full refunds, several per
order), redemptions and their cancellation, adjustments, confirmation and expiry runs, with
duplicates and any order.

- balance == sum(ledger) in each bucket, after every step;
- pending never negative; no redemption takes available below zero;
- a fully refunded or cancelled order leaves none of its points;
- the same order events in any order give the same ledger sums (and tier).
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.logic.commerce import orders
from omotenashi.logic.core import directory
from omotenashi.logic.core.errors import InsufficientPoints
from omotenashi.logic.loyalty import accounts, schedule
from omotenashi.schemas.commerce import OrderEventIn

T0 = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def business_clock(stack: Any) -> Any:
    moment = Clock()
    clock.set_source(moment)
    yield moment
    clock.set_source(None)


def _event(customer: str, order: str, type_: str, at: datetime, **extra: Any) -> OrderEventIn:
    body: dict[str, Any] = {
        "order_id": order,
        "type": type_,
        "customer": {"id": customer, "email": "taro@example.jp"},
        "occurred_at": at.isoformat(),
    }
    body.update(extra)
    return OrderEventIn.model_validate(body)


@st.composite
def order_histories(draw: Any, max_orders: int = 3) -> list[tuple[str, dict[str, Any]]]:
    """(order id, event fields) of 1-3 orders, each placed, maybe delivered, maybe cancelled,
    maybe refunded in parts (possibly in full, possibly beyond the points base)."""
    events: list[tuple[str, dict[str, Any]]] = []
    for n in range(draw(st.integers(1, max_orders))):
        order = f"o-{n}"
        total = draw(st.integers(1, 400)) * 50
        shipping = draw(st.sampled_from([0, 0, 500])) if total > 500 else 0
        events.append(
            (
                order,
                {
                    "type": "placed",
                    "total": str(total),
                    "shipping": str(shipping),
                    "currency": "JPY",
                    "items": [{"sku": "A", "name": "a", "quantity": 1, "unit_price": str(total)}],
                    "hour": 0,
                },
            )
        )
        if draw(st.booleans()):
            events.append((order, {"type": "delivered", "hour": draw(st.integers(1, 48))}))
        if draw(st.integers(0, 4)) == 0:
            events.append((order, {"type": "cancelled", "hour": draw(st.integers(1, 48))}))
        for r in range(draw(st.integers(0, 3))):
            amount = draw(st.integers(1, max(1, total // 50))) * 50
            events.append(
                (
                    order,
                    {
                        "type": "refunded",
                        "refund_id": f"r{r}",
                        "refund_amount": str(amount),
                        "currency": "JPY",
                        "hour": draw(st.integers(1, 400)),
                    },
                )
            )
    return events


def _apply(store: Any, customer: str, order: str, fields: dict[str, Any]) -> None:
    """Store and apply one event (order ids are made unique per customer: examples share a store)."""
    order = f"{customer}-{order}"
    fields = dict(fields)
    at = T0 + timedelta(hours=fields.pop("hour"))
    event = _event(customer, order, fields.pop("type"), at, **fields)
    orders.apply_order_event(store.store_id, event)
    accounts.reconcile_order(store, customer, order)


def _confirm_all(store: Any, customer: str, order_ids: set[str]) -> None:
    for order in sorted(order_ids):
        accounts.reconcile_order(store, customer, f"{customer}-{order}", confirm=True)


def _audit(store: Any, customer: str) -> tuple[int, int]:
    account = loyalty_data.get_account(store.store_id, customer)
    lines = loyalty_data.all_lines(store.store_id, customer)
    available = sum(line.entry.points for line in lines if line.entry.bucket == "available")
    pending = sum(line.entry.points for line in lines if line.entry.bucket == "pending")
    held = (account.available, account.pending) if account else (0, 0)
    assert held == (available, pending), (held, [line.entry for line in lines])
    assert pending >= 0
    return available, pending


def _order_net(store: Any, customer: str, order: str) -> int:
    order = f"{customer}-{order}"
    kinds = {"earn", "confirm", "reverse", "cancel"}
    lines = loyalty_data.all_lines(store.store_id, customer)
    return sum(
        line.entry.points for line in lines if line.entry.order_id == order and line.entry.kind in kinds
    )


def _taken_back_fully(events: list[tuple[str, dict[str, Any]]], order: str) -> bool:
    mine = [f for o, f in events if o == order]
    if any(f["type"] == "cancelled" for f in mine):
        return True
    placed = next(f for f in mine if f["type"] == "placed")
    base = Decimal(placed["total"]) - Decimal(placed["shipping"])
    refunded = sum(
        Decimal(f["refund_amount"])
        for f in {f.get("refund_id"): f for f in mine if f["type"] == "refunded"}.values()
    )
    return refunded >= base


@EXAMPLES
@given(history=order_histories(), data=st.data())
def test_any_order_of_the_same_events_gives_the_same_sums_and_keeps_every_rule(business_clock, history, data):
    store = directory.require("demo")
    runs = []
    for attempt in range(2):
        customer = f"c-{uuid.uuid4().hex[:10]}"
        business_clock.now = T0 + timedelta(days=1)
        # A permutation, with some events repeated (delivered twice, as a stream may).
        order = data.draw(st.permutations(history), label=f"order {attempt}")
        repeats = data.draw(st.lists(st.sampled_from(history), max_size=3), label=f"repeats {attempt}")
        for order_id, fields in [*order, *repeats]:
            _apply(store, customer, order_id, fields)
            _audit(store, customer)
        business_clock.now = T0 + timedelta(days=40)
        _confirm_all(store, customer, {o for o, _ in history})
        available, pending = _audit(store, customer)
        account = loyalty_data.get_account(store.store_id, customer)
        runs.append((available, pending, account.tier if account else None))
        for order_id in {o for o, _ in history}:
            if _taken_back_fully(history, order_id):
                assert _order_net(store, customer, order_id) == 0
            assert _order_net(store, customer, order_id) >= 0
    assert runs[0] == runs[1]


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.integers(0, 20)),
        st.tuples(st.just("redeem"), st.integers(1, 80), st.sampled_from([None, "o-0", "o-1"])),
        st.tuples(st.just("cancel_redemption"), st.integers(0, 5)),
        st.tuples(st.just("adjust"), st.integers(-60, 60).filter(bool)),
        st.tuples(st.just("confirm_run"), st.integers(0, 30)),
        st.tuples(st.just("expiry_run"), st.integers(0, 800)),
    ),
    min_size=4,
    max_size=22,
)


@EXAMPLES
@given(history=order_histories(max_orders=2), operations=OPERATIONS)
def test_redemptions_adjustments_and_runs_interleaved_keep_the_books(business_clock, history, operations):
    store = directory.require("demo")
    customer = f"c-{uuid.uuid4().hex[:10]}"
    redemptions: list[str] = []
    counter = itertools.count()
    days = 1
    business_clock.now = T0 + timedelta(days=days)
    for operation in operations:
        match operation:
            case ("event", index):
                order_id, fields = history[index % len(history)]
                _apply(store, customer, order_id, fields)
            case ("redeem", points, order_id):
                before = _audit(store, customer)[0]
                redemption_id = f"rd-{next(counter)}"
                try:
                    order_ref = f"{customer}-{order_id}" if order_id else None
                    answer = accounts.redeem(
                        store, customer, redemption_id, points, order_ref, redemption_id, None
                    )
                    assert answer.status_code == 201 and answer.body["available"] >= 0
                    redemptions.append(redemption_id)
                except InsufficientPoints:
                    assert before < points
                    assert loyalty_data.get_redemption(store.store_id, customer, redemption_id) is None
            case ("cancel_redemption", index):
                if redemptions:
                    rid = redemptions[index % len(redemptions)]
                    first = accounts.cancel_redemption(store, customer, rid)
                    again = accounts.cancel_redemption(store, customer, rid)
                    assert first == again  # once
            case ("adjust", points):
                adjustment_id = f"adj-{next(counter)}"
                try:
                    accounts.adjust(
                        store, customer, adjustment_id, points, "test", "staff", adjustment_id, None
                    )
                except InsufficientPoints:
                    assert points < 0
            case ("confirm_run", step):
                days += step
                business_clock.now = T0 + timedelta(days=days)
                _confirm_all(store, customer, {o for o, _ in history})
            case ("expiry_run", step):
                days += step
                business_clock.now = T0 + timedelta(days=days)
                schedule._expiry(store, accounts.from_store(store), customer)
        _audit(store, customer)
    lines = loyalty_data.all_lines(store.store_id, customer)
    counts = Counter(line.entry.entry_id for line in lines)
    assert max(counts.values(), default=1) == 1
    # Redeemed points given back never exceed what was redeemed, per redemption and in total.
    redeemed = -sum(line.entry.points for line in lines if line.entry.kind == "redeem")
    back = sum(
        line.entry.points for line in lines if line.entry.kind in ("redemption_return", "redemption_cancel")
    )
    assert 0 <= back <= redeemed
