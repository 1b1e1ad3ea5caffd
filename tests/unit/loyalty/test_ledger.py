"""The loyalty ledger's arithmetic by example: earning on placement, confirmation when the return
window ends, cancellation, refunds that add up exactly, redeemed points coming back, and events
that arrive twice, late or out of order."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest

from omotenashi.logic.loyalty.ledger import (
    Entry,
    OrderFacts,
    OrderPoints,
    balance_change,
    cancel_redemption,
    confirm_due,
    plan_order,
    points_for,
    share,
    spend_value,
    taken_back_ratio,
)
from omotenashi.logic.loyalty.settings import DEFAULTS, LoyaltySettings
from tests.unit.loyalty.support import T0, Ledger, event, placed, refunded

DELIVERED_AT = T0 + timedelta(days=3)
DUE = DELIVERED_AT + timedelta(days=14)
WITH_USD = LoyaltySettings(unit_points={"JPY": Decimal(1), "USD": Decimal(150)})
US = timedelta(microseconds=1)


def shape(entries: Iterable[Entry]) -> list[tuple[object, ...]]:
    """The entries without their human-readable reasons."""
    return [(e.entry_id, e.kind, e.points, e.bucket, e.order_id) for e in entries]


def delivered(at: datetime = DELIVERED_AT, order_id: str = "o-1"):
    return event("delivered", order_id, at)


def cancelled(order_id: str = "o-1", at: datetime = T0 + timedelta(days=1)):
    return event("cancelled", order_id, at)


# --- the small functions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "currency", "rate", "points"),
    [
        ("3240", "JPY", "1", 32),
        ("3240", "JPY", "2", 64),
        ("3240", "JPY", "3", 97),  # 97.2
        ("3240", "JPY", "1.5", 48),  # 48.6
        ("99", "JPY", "1", 0),
        ("100", "JPY", "1", 1),
        ("0", "JPY", "1", 0),
        ("-500", "JPY", "1", 0),
        ("12.34", "USD", "1", 18),  # 12.34 x 150 / 100 = 18.51
        ("3240", "EUR", "1", 0),  # no unit_points for EUR: nothing
        ("3240", None, "1", 0),
        ("3240", "", "1", 0),
    ],
)
def test_points_for(base, currency, rate, points):
    assert points_for(Decimal(base), currency, Decimal(rate), WITH_USD) == points


def test_points_for_is_exact_with_decimal_rates_and_values():
    settings = LoyaltySettings(unit_points={"USD": Decimal("0.1")})
    # 30 x 0.1 x 10 / 100 = 0.3 exactly; 1000 x 0.1 x 0.3 / 100 = 0.3: no float error rounds them up or down.
    assert points_for(Decimal(30), "USD", Decimal(10), settings) == 0
    assert points_for(Decimal(1000), "USD", Decimal(10), settings) == 10
    assert points_for(Decimal("333.33"), "USD", Decimal(3), settings) == 0  # 0.99999
    assert points_for(Decimal("333.34"), "USD", Decimal(3), settings) == 1  # 1.00002


@pytest.mark.parametrize(
    ("base", "refunded", "is_cancelled", "ratio"),
    [
        ("1000", "0", False, Fraction(0)),
        ("1000", "333", False, Fraction(333, 1000)),
        ("1000", "1000", False, Fraction(1)),
        ("1000", "1500", False, Fraction(1)),  # the shipping refunded as well: no more than all
        ("1000", "0", True, Fraction(1)),
        ("1000", "100", True, Fraction(1)),
        ("0", "0", False, Fraction(0)),
        ("0", "10", False, Fraction(1)),
        ("12.34", "6.17", False, Fraction(1, 2)),
    ],
)
def test_taken_back_ratio(base, refunded, is_cancelled, ratio):
    assert taken_back_ratio(Decimal(base), Decimal(refunded), is_cancelled) == ratio


@pytest.mark.parametrize(
    ("points", "ratio", "expected"),
    [
        (10, Fraction(0), 0),
        (10, Fraction(333, 1000), 3),
        (10, Fraction(999, 1000), 9),  # rounded down: the customer keeps the fraction
        (10, Fraction(1), 10),
        (7, Fraction(1, 2), 3),
        (0, Fraction(1), 0),
        (5, Fraction(3, 2), 5),  # never more than all
    ],
)
def test_share(points, ratio, expected):
    assert share(points, ratio) == expected


@pytest.mark.parametrize(
    ("base", "refunded", "currency", "value"),
    [
        ("1000", "0", "JPY", Decimal(1000)),
        ("1000", "300", "JPY", Decimal(700)),
        ("1000", "1500", "JPY", Decimal(0)),
        ("12.34", "2.34", "USD", Decimal(1500)),
        ("1000", "0", "EUR", Decimal(0)),
        ("1000", "0", None, Decimal(0)),
    ],
)
def test_spend_value(base, refunded, currency, value):
    assert spend_value(Decimal(base), Decimal(refunded), currency, WITH_USD) == value


def test_balance_change():
    entries = [
        Entry("a", "earn", 32, "pending"),
        Entry("b", "confirm", -32, "pending"),
        Entry("c", "confirm", 32, "available"),
        Entry("d", "reverse", -5, "available"),
        Entry("e", "redemption_return", 7, "available"),
    ]
    assert balance_change(entries) == (34, 0)
    assert balance_change([]) == (0, 0)


def _facts(*events):
    return OrderFacts.from_history("o-1", events)


@pytest.mark.parametrize(
    ("events", "due"),
    [
        ((), None),
        ((placed(),), None),  # not delivered yet
        ((delivered(),), None),  # not placed (yet)
        ((placed(), delivered()), DUE),
        ((delivered(), placed()), DUE),  # delivered arrived first: still counts
        ((placed(), delivered(), delivered(DELIVERED_AT - timedelta(hours=5))), DUE - timedelta(hours=5)),
        ((placed(), delivered(), refunded("r1", "3000")), DUE),  # partly refunded
        ((placed(), delivered(), refunded("r1", "3240")), None),  # wholly refunded: nothing to confirm
        ((placed(), delivered(), cancelled()), None),
    ],
)
def test_confirm_due(events, due):
    assert confirm_due(_facts(*events), DEFAULTS) == due


def test_confirm_due_follows_the_return_window():
    facts = _facts(placed(), delivered())
    assert confirm_due(facts, LoyaltySettings(return_window_days=0)) == DELIVERED_AT
    assert confirm_due(facts, LoyaltySettings(return_window_days=30)) == DELIVERED_AT + timedelta(days=30)


def test_facts_from_history_are_those_of_the_set_of_events():
    events = [
        placed("3740", "500"),
        refunded("r1", "100"),
        refunded("r2", "250"),
        refunded("r1", "100"),  # the same refund twice
        delivered(DELIVERED_AT + timedelta(days=1)),
        delivered(),
    ]
    for permutation in itertools.permutations(events):
        facts = OrderFacts.from_history("o-1", permutation)
        assert facts.placed and facts.currency == "JPY" and facts.placed_at == T0
        assert facts.base == Decimal(3240) and facts.refunded == Decimal(350)
        assert facts.delivered_at == DELIVERED_AT and not facts.cancelled
        assert facts.customer_id == "cust-1"
    assert OrderFacts.from_history("o-9", []) == OrderFacts("o-9", "")


# --- placing, confirming, cancelling --------------------------------------------------------


def test_a_placed_order_earns_pending_points_at_the_tier_rate():
    ledger = Ledger()
    plan = ledger.receive(placed("3240", "0"))
    assert shape(plan.entries) == [("order:o-1:earn", "earn", 32, "pending", "o-1")]
    assert (ledger.available, ledger.pending) == (0, 32)
    assert plan.held.earned == 32 and plan.held.rate_percent == Decimal(1) and plan.held.reversed == 0
    assert plan.confirm_due_at is None and not plan.confirmed_now
    assert plan.held.spend == 0  # counts towards tiers only once confirmed


def test_shipping_earns_nothing():
    ledger = Ledger()
    ledger.receive(placed("3740", "500"))
    assert ledger.pending == 32
    only_shipping = Ledger()
    plan = only_shipping.receive(placed("500", "500"))
    assert plan.entries == () and plan.held.earned == 0
    assert (only_shipping.available, only_shipping.pending) == (0, 0)


def test_an_order_in_a_currency_without_unit_points_earns_nothing():
    ledger = Ledger()
    plan = ledger.receive(placed("3240", "0", currency="EUR"))
    assert plan.entries == () and plan.held.earned == 0
    assert plan.held.rate_percent == Decimal(1)  # credited (with nothing): the rate is settled
    ledger.receive(delivered())
    plan = ledger.reconcile("o-1", DUE, confirm=True)
    assert plan.entries == () and plan.confirmed_now and plan.held.spend == 0
    ledger.receive(refunded("r1", "1000"))
    assert ledger.entries == [] and (ledger.available, ledger.pending) == (0, 0)


def test_the_rate_is_that_of_the_first_credit():
    ledger = Ledger(rate_percent=Decimal(1))
    ledger.receive(placed("3240", "0"))
    ledger.rate_percent = Decimal(3)  # the customer reached platinum since
    ledger.receive(delivered())
    ledger.reconcile("o-1", DUE, confirm=True)
    assert ledger.record("o-1").rate_percent == Decimal(1) and ledger.record("o-1").earned == 32
    assert (ledger.available, ledger.pending) == (32, 0)


def test_points_become_available_when_the_return_window_ends_not_before():
    ledger = Ledger()
    ledger.receive(placed("3240", "0"))
    plan = ledger.receive(delivered())
    assert plan.confirm_due_at == DUE and plan.entries == ()

    early = ledger.reconcile("o-1", DUE - US, confirm=True)
    assert early.entries == () and not early.confirmed_now and early.confirm_due_at == DUE
    assert ledger.record("o-1").confirmed_at is None
    late_but_no_timer = ledger.reconcile("o-1", DUE + timedelta(days=30), confirm=False)
    assert late_but_no_timer.entries == () and late_but_no_timer.confirm_due_at == DUE

    plan = ledger.reconcile("o-1", DUE, confirm=True)
    assert shape(plan.entries) == [
        ("order:o-1:confirm:out", "confirm", -32, "pending", "o-1"),
        ("order:o-1:confirm:in", "confirm", 32, "available", "o-1"),
    ]
    assert plan.confirmed_now and plan.confirm_due_at is None
    assert plan.held.confirmed_at == DUE and plan.held.spend == Decimal(3240)
    assert (ledger.available, ledger.pending) == (32, 0)

    again = ledger.reconcile("o-1", DUE + timedelta(days=1), confirm=True)
    assert again.entries == () and not again.confirmed_now and again.confirm_due_at is None
    assert (ledger.available, ledger.pending) == (32, 0)


def test_cancelled_before_confirmation_voids_the_pending_points():
    ledger = Ledger()
    ledger.receive(placed("3240", "0"))
    ledger.receive(delivered())
    plan = ledger.receive(cancelled())
    assert [(e.kind, e.points, e.bucket) for e in plan.entries] == [("cancel", -32, "pending")]
    assert plan.confirm_due_at is None and plan.held.reversed == 32 and plan.held.remaining == 0
    assert (ledger.available, ledger.pending) == (0, 0)
    plan = ledger.reconcile("o-1", DUE + timedelta(days=365), confirm=True)
    assert plan.entries == () and not plan.confirmed_now
    assert (ledger.available, ledger.pending) == (0, 0)


def test_cancelled_after_confirmation_takes_the_points_back_from_available():
    ledger = Ledger()
    ledger.receive(placed("3240", "0"), delivered())
    ledger.reconcile("o-1", DUE, confirm=True)
    plan = ledger.receive(cancelled(at=DUE + timedelta(days=1)))
    assert [(e.kind, e.points, e.bucket) for e in plan.entries] == [("cancel", -32, "available")]
    assert (ledger.available, ledger.pending) == (0, 0)
    assert plan.held.spend == 0  # a cancelled order counts for no tier


def test_cancelled_before_placed_earns_nothing_in_the_end():
    ledger = Ledger()
    assert ledger.receive(cancelled()).entries == ()
    ledger.receive(placed("3240", "0"))
    assert (ledger.available, ledger.pending) == (0, 0)
    assert {e.kind for e in ledger.entries} == {"earn", "cancel"}


def test_a_delivered_event_that_arrived_before_placed_still_counts():
    ledger = Ledger()
    plan = ledger.receive(delivered())
    assert plan.entries == () and plan.confirm_due_at is None
    plan = ledger.receive(placed("3240", "0"))
    assert plan.confirm_due_at == DUE
    assert ledger.reconcile("o-1", DUE - US, confirm=True).entries == ()
    assert ledger.reconcile("o-1", DUE, confirm=True).confirmed_now
    assert (ledger.available, ledger.pending) == (32, 0)


def test_the_earliest_delivery_starts_the_return_window():
    ledger = Ledger()
    ledger.receive(placed("3240", "0"), delivered(DELIVERED_AT + timedelta(days=2)))
    plan = ledger.receive(delivered(DELIVERED_AT))  # a late, earlier delivery event
    assert plan.confirm_due_at == DUE


def test_duplicate_events_change_nothing():
    ledger = Ledger()
    ledger.receive(placed("1000", "0"))
    ledger.receive(refunded("r1", "300"))
    before = (ledger.available, ledger.pending, len(ledger.entries))
    for duplicate in (placed("1000", "0"), refunded("r1", "300"), placed("1000", "0")):
        assert ledger.receive(duplicate).entries == ()
    assert (ledger.available, ledger.pending, len(ledger.entries)) == before


# --- refunds --------------------------------------------------------------------------------


@pytest.mark.parametrize("amounts", sorted(set(itertools.permutations(["333", "333", "334"]))))
def test_partial_refunds_add_up_exactly(amounts):
    ledger = Ledger()
    ledger.receive(placed("1000", "0"))
    assert ledger.record("o-1").earned == 10
    cumulative = Decimal(0)
    for index, amount in enumerate(amounts):
        cumulative += Decimal(amount)
        ledger.receive(refunded(f"r{index}", amount))
        assert ledger.record("o-1").reversed == floor(10 * cumulative / 1000)
        assert ledger.pending == 10 - floor(10 * cumulative / 1000)
    assert ledger.record("o-1").reversed == 10
    assert (ledger.available, ledger.pending) == (0, 0)
    assert sum(e.points for e in ledger.entries if e.kind == "reverse") == -10


@pytest.mark.parametrize(
    "arrivals",
    list(itertools.permutations(["placed", "r0", "r1", "r2"])),
    ids="-".join,
)
def test_partial_refunds_add_up_exactly_whatever_arrives_first(arrivals):
    amounts = {"r0": "333", "r1": "333", "r2": "334"}
    ledger = Ledger()
    seen: set[str] = set()
    for name in arrivals:
        seen.add(name)
        ledger.receive(placed("1000", "0") if name == "placed" else refunded(name, amounts[name]))
        cumulative = sum((Decimal(amounts[n]) for n in seen if n != "placed"), Decimal(0))
        expected = floor(10 * cumulative / 1000) if "placed" in seen else 0
        assert ledger.record("o-1").reversed == expected
        assert ledger.pending == (10 - expected if "placed" in seen else 0)
    assert (ledger.available, ledger.pending) == (0, 0)


def test_a_refund_of_the_shipping_as_well_takes_back_no_more_than_the_order_earned():
    ledger = Ledger()
    ledger.receive(placed("1500", "500"))
    ledger.receive(refunded("r1", "600"), refunded("r2", "900"))
    assert ledger.record("o-1").reversed == 10
    assert (ledger.available, ledger.pending) == (0, 0)


def test_a_refund_after_confirmation_reverses_from_available_even_below_zero():
    ledger = Ledger()
    ledger.receive(placed("3240", "0"), delivered())
    ledger.reconcile("o-1", DUE, confirm=True)
    # The customer spends the points ...
    ledger.add([Entry("redemption:x", "redeem", -32, "available")])
    assert ledger.available == 0
    # ... then half of the order is refunded, then the rest.
    plan = ledger.receive(refunded("r1", "1620", at=DUE + timedelta(days=2)))
    assert [(e.kind, e.points, e.bucket) for e in plan.entries] == [("reverse", -16, "available")]
    assert plan.held.spend == Decimal(1620)
    plan = ledger.receive(refunded("r2", "1620", at=DUE + timedelta(days=3)))
    assert [(e.kind, e.points, e.bucket) for e in plan.entries] == [("reverse", -16, "available")]
    assert (ledger.available, ledger.pending) == (-32, 0)  # owed: the ledger does not hide it
    assert plan.held.spend == 0


def test_a_refund_before_confirmation_leaves_the_rest_to_confirm():
    ledger = Ledger()
    ledger.receive(placed("3240", "0"), delivered())
    ledger.receive(refunded("r1", "1620"))
    assert (ledger.available, ledger.pending) == (0, 16)
    plan = ledger.reconcile("o-1", DUE, confirm=True)
    assert [(e.points, e.bucket) for e in plan.entries] == [(-16, "pending"), (16, "available")]
    assert (ledger.available, ledger.pending) == (16, 0)


def test_a_whole_refund_before_confirmation_leaves_nothing_to_confirm():
    ledger = Ledger()
    ledger.receive(placed("3240", "0"), delivered())
    plan = ledger.receive(refunded("r1", "3240"))
    assert plan.confirm_due_at is None
    assert ledger.reconcile("o-1", DUE, confirm=True).entries == ()
    assert (ledger.available, ledger.pending) == (0, 0)


def test_a_retried_reconciliation_lands_on_the_same_entries():
    facts = _facts(placed("1000", "0"), delivered(), refunded("r1", "500"))
    held = OrderPoints(rate_percent=Decimal(1), earned=10, redeemed=40, version=7)
    plans = [
        plan_order(facts, held, rate_percent=Decimal(2), settings=DEFAULTS, now=DUE, confirm=True)
        for _ in range(2)
    ]
    assert plans[0] == plans[1]
    assert [e.entry_id for e in plans[0].entries] == [
        "order:o-1:8:reverse",
        "order:o-1:confirm:out",
        "order:o-1:confirm:in",
        "order:o-1:8:redemption_return",
    ]


def test_reversal_entry_ids_name_the_reconciliation_they_belong_to():
    ledger = Ledger()
    ledger.receive(placed("1000", "0"))  # version 0 -> 1
    ledger.receive(refunded("r1", "500"))  # step 2
    ledger.receive(refunded("r2", "500"))  # step 3
    assert [e.entry_id for e in ledger.entries] == [
        "order:o-1:earn",
        "order:o-1:2:reverse",
        "order:o-1:3:reverse",
    ]


# --- redeemed points of the order -----------------------------------------------------------


def test_redeemed_points_come_back_in_proportion_to_refunds():
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=500)})
    ledger.receive(placed("1000", "0"))
    plan = ledger.receive(refunded("r1", "250"))
    returns = [e for e in plan.entries if e.kind == "redemption_return"]
    assert [(e.points, e.bucket) for e in returns] == [(125, "available")]
    ledger.receive(refunded("r2", "333"))  # 583 of 1000: floor(291.5) = 291
    assert ledger.record("o-1").returned == 291
    ledger.receive(refunded("r3", "417"))
    assert ledger.record("o-1").returned == 500
    assert sum(e.points for e in ledger.entries if e.kind == "redemption_return") == 500
    assert ledger.available == 500


def test_redeemed_points_come_back_wholly_on_cancellation():
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=500)})
    ledger.receive(placed("1000", "0"))
    ledger.receive(refunded("r1", "100"))
    assert ledger.record("o-1").returned == 50
    plan = ledger.receive(cancelled())
    assert [(e.kind, e.points) for e in plan.entries if e.kind == "redemption_return"] == [
        ("redemption_return", 450)
    ]
    assert ledger.record("o-1").returned == 500 and ledger.available == 500


def test_a_cancellation_before_placed_gives_the_whole_redemption_back_once():
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=500)})
    ledger.receive(cancelled())
    assert ledger.available == 500
    ledger.receive(placed("1000", "0"))
    assert ledger.available == 500 and ledger.pending == 0
    assert sum(e.points for e in ledger.entries if e.kind == "redemption_return") == 500


def test_cancel_redemption_without_an_order_gives_all_of_it_back():
    assert cancel_redemption(120, None) == (120, None)


def test_cancel_redemption_of_an_order_that_took_nothing_back():
    held = OrderPoints(redeemed=100, base=Decimal(1000), version=4)
    back, new = cancel_redemption(100, held)
    assert back == 100
    assert new == replace(held, redeemed=0, returned=0)


def test_cancel_redemption_gives_back_all_but_what_a_refund_already_gave_back():
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=100)})
    ledger.receive(placed("1000", "0"), refunded("r1", "300"))
    assert ledger.available == 30
    assert ledger.cancel_redemption("o-1", "x", 100) == 70
    assert ledger.available == 100
    assert ledger.record("o-1").redeemed == 0 and ledger.record("o-1").returned == 0
    ledger.receive(refunded("r2", "700"))  # nothing more to give back
    assert ledger.available == 100


def test_cancel_redemption_of_one_of_two_redemptions_then_the_order_refunded():
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=100)})  # 60 + 40
    ledger.receive(placed("1000", "0"), refunded("r1", "500"))
    assert ledger.available == 50
    assert ledger.cancel_redemption("o-1", "sixty", 60) == 30  # 60 less its half, 30
    assert (ledger.record("o-1").redeemed, ledger.record("o-1").returned) == (40, 20)
    ledger.receive(refunded("r2", "500"))
    assert ledger.record("o-1").returned == 40
    assert ledger.available == 100  # 50 + 30 + 20: every redeemed point back, once


@pytest.mark.parametrize("order", [(3, 4), (4, 3)])
def test_cancel_redemption_rounding_never_gives_back_more_than_was_redeemed(order):
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=7)})
    ledger.receive(placed("1000", "0"), refunded("r1", "500"))  # floor(3.5) = 3 back
    assert ledger.available == 3
    backs = [ledger.cancel_redemption("o-1", f"x{points}", points) for points in order]
    assert all(0 <= back <= points for back, points in zip(backs, order, strict=True))
    assert ledger.available == 7


def test_cancel_redemption_after_the_order_was_cancelled_gives_nothing_more():
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=100)})
    ledger.receive(placed("1000", "0"), cancelled())
    assert ledger.available == 100
    assert ledger.cancel_redemption("o-1", "x", 100) == 0
    assert ledger.available == 100


def test_a_refund_before_placed_gives_back_no_more_than_its_share_of_the_redemption():
    ledger = Ledger(held={"o-1": OrderPoints(redeemed=100)})
    ledger.receive(refunded("r1", "300"))  # 30% of the order, but the order's total is not known yet
    assert ledger.available <= 30
    ledger.receive(placed("1000", "0"))
    assert ledger.available == 30
    assert all(e.points > 0 for e in ledger.entries if e.kind == "redemption_return")


def test_plan_order_from_an_unplaced_order_does_nothing():
    plan = plan_order(
        OrderFacts("o-1", "cust-1"),
        OrderPoints(),
        rate_percent=Decimal(1),
        settings=DEFAULTS,
        now=datetime(2030, 1, 1, tzinfo=UTC),
        confirm=True,
    )
    assert plan.entries == () and plan.confirm_due_at is None and not plan.confirmed_now
    assert plan.held.rate_percent is None
