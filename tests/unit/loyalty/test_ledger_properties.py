"""The ledger's properties over random histories: one to three orders of a customer, each with a
placement (or none yet), a delivery, a cancellation, partial and whole refunds under several refund
ids and points redeemed at checkout; the events arrive duplicated and in any order, interleaved with
confirmation runs at random times, and every plan is applied as a store would apply it (the entries
added up, the order's record written back with its version + 1).

After every step: the entries add up to the records (per order and bucket), pending is never
negative, no entry id comes twice, reversal stays within what was earned, a wholly refunded or
cancelled order nets zero points, returned redemptions stay within what was redeemed, and the same
reconciliation again does nothing (support.Ledger checks the last two on every plan). At the end,
after a confirmation run far in the future: the sums of an independent model, whatever order the
same events arrived in."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from math import floor

from hypothesis import given, settings
from hypothesis import strategies as st

from omotenashi.domain import OrderEvent
from omotenashi.logic.loyalty.ledger import OrderPoints, taken_back_ratio
from omotenashi.logic.loyalty.settings import LoyaltySettings
from tests.unit.loyalty.support import ORDER_POINT_KINDS, T0, Ledger, event, sums

BOUNDED = settings(max_examples=200, deadline=None)
SETTINGS = LoyaltySettings(unit_points={"JPY": Decimal(1), "USD": Decimal(150)})
RATES = st.sampled_from([Decimal(1), Decimal(2), Decimal(3), Decimal("1.5")])
MINOR_UNITS = {"JPY": 0, "USD": 2, "EUR": 2}  # EUR: a currency without unit_points, earns nothing
FAR = datetime(2100, 1, 1, tzinfo=UTC)
WINDOW = timedelta(days=SETTINGS.return_window_days)
US = timedelta(microseconds=1)


@dataclass(frozen=True)
class Order:
    order_id: str
    currency: str
    base: Decimal  # total - shipping
    placed: bool
    delivered: bool
    cancelled: bool
    refunds: tuple[Decimal, ...]  # one per refund id
    redeemed: tuple[int, ...]  # redemptions that name the order, made at checkout
    events: tuple[OrderEvent, ...]  # every arrival, duplicates included

    @property
    def refunded(self) -> Decimal:
        return sum(self.refunds, Decimal(0))


@st.composite
def orders(draw: st.DrawFn, order_id: str, placed_at: datetime) -> Order:
    currency = draw(st.sampled_from(["JPY", "JPY", "USD", "EUR"]))
    units = MINOR_UNITS[currency]
    base_minor = draw(st.sampled_from([0, 1, 99, 100, 1000, 3240]) | st.integers(100, 300_000))
    shipping_minor = draw(st.sampled_from([0, 0, 500, 1234]))
    count = draw(st.sampled_from([0, 0, 1, 2, 3, 4]))
    # Refunds that add up exactly to the whole order (and its shipping), the hard case for rounding;
    # refunds that add up to a part of it; and refunds of anything up to the total, however many.
    how = draw(st.sampled_from(["whole", "whole and shipping", "part", "part", "any"]))
    if how != "any" and count and base_minor >= count:
        target = base_minor if how.startswith("whole") else draw(st.integers(count, base_minor))
        cuts = draw(
            st.lists(st.integers(1, max(1, target - 1)), min_size=count - 1, max_size=count - 1, unique=True)
        )
        edges = [0, *sorted(cuts), target]
        parts = [high - low for low, high in pairwise(edges)]
        if how == "whole and shipping":
            parts[-1] += shipping_minor
    else:
        parts = draw(
            st.lists(st.integers(1, max(1, base_minor + shipping_minor)), min_size=count, max_size=count)
        )
    refunds = tuple(Decimal(part).scaleb(-units) for part in parts)
    base, shipping = Decimal(base_minor).scaleb(-units), Decimal(shipping_minor).scaleb(-units)

    is_placed = draw(st.sampled_from([True, True, True, False]))
    is_delivered = draw(st.sampled_from([True, True, True, False]))
    is_cancelled = draw(st.sampled_from([False, False, False, True]))
    delivered_at = placed_at + timedelta(hours=draw(st.integers(-24, 20 * 24)))
    again = draw(st.sampled_from([None, None, None, timedelta(days=-3), timedelta(days=5)]))
    events: list[OrderEvent] = []
    if is_placed:
        total = base + shipping
        events.append(event("placed", order_id, placed_at, currency=currency, total=total, shipping=shipping))
    if is_delivered:
        events.append(event("delivered", order_id, delivered_at))
        if again:  # a second delivery report (a split shipment, a carrier's correction): the earliest counts
            events.append(event("delivered", order_id, delivered_at + again))
    if is_cancelled:
        events.append(event("cancelled", order_id, placed_at + timedelta(hours=2)))
    for i, amount in enumerate(refunds):
        at = placed_at + timedelta(days=i + 1)
        events.append(event("refunded", order_id, at, refund_id=f"re-{i}", refund_amount=amount))
    # Duplicates are copies, as read back from a store.
    duplicates = [replace(e) for e in draw(st.lists(st.sampled_from(events), max_size=3))] if events else []
    # Points redeemed at checkout name an order that will be placed.
    redeemed = tuple(draw(st.lists(st.integers(1, 600), max_size=3))) if is_placed else ()
    return Order(
        order_id,
        currency,
        base,
        is_placed,
        is_delivered,
        is_cancelled,
        refunds,
        redeemed,
        (*events, *duplicates),
    )


@st.composite
def customers(draw: st.DrawFn) -> list[Order]:
    count = draw(st.integers(1, 3))
    return [draw(orders(f"o-{i + 1}", T0 + timedelta(hours=7 * i))) for i in range(count)]


@dataclass(frozen=True)
class Step:
    event: OrderEvent | None = None  # an event arrives
    confirm_at: datetime | None = None  # or the confirmation timer runs
    cancel: tuple[str, int, int] | None = None  # or a redemption is cancelled (order, index, points)


@st.composite
def schedules(draw: st.DrawFn, customer: list[Order], *, cancellations: bool = False) -> list[Step]:
    """The customer's events in any order, with confirmation runs (at increasing times) between. Half
    the time placements and deliveries come first and the return windows end before the rest
    arrives (refunds and cancellations after confirmation); otherwise anything goes."""
    arrivals = draw(st.permutations([e for o in customer for e in o.events]))
    early = draw(st.booleans())
    if early:
        arrivals = sorted(arrivals, key=lambda e: e.type not in ("placed", "delivered"))  # stable
    steps = [Step(event=e) for e in arrivals]
    if cancellations:
        wanted = [(o.order_id, i, p) for o in customer for i, p in enumerate(o.redeemed)]
        for cancel in draw(st.lists(st.sampled_from(wanted), unique=True)) if wanted else []:
            steps.insert(draw(st.integers(0, len(steps))), Step(cancel=cancel))
    # The return windows end from about 13 to 35 days after T0; some runs come right at their ends.
    moments = st.integers(0, 60 * 24).map(lambda h: T0 + timedelta(hours=h)) | st.sampled_from(
        [T0 + timedelta(days=36), T0 + timedelta(days=60)]
    )
    ends = sorted({e.occurred_at + WINDOW for o in customer for e in o.events if e.type == "delivered"})
    if ends:
        near = st.sampled_from([-US, timedelta(0), timedelta(0), US, timedelta(hours=1)])
        moments |= st.tuples(st.sampled_from(ends), near).map(lambda pair: pair[0] + pair[1])
    runs = draw(st.lists(moments, min_size=1, max_size=5))
    positions = draw(st.lists(st.integers(0, len(steps)), min_size=len(runs), max_size=len(runs)))
    pairs = list(zip(sorted(positions), sorted(runs), strict=True))
    if early:  # a run once every window has ended, right after the last placement or delivery
        after = 1 + max(
            (
                i
                for i, s in enumerate(steps)
                if s.event is not None and s.event.type in ("placed", "delivered")
            ),
            default=-1,
        )
        forced = max([T0 + timedelta(days=36), *(at for p, at in pairs if p <= after)])
        pairs = sorted([(p, at if p <= after else max(at, forced)) for p, at in pairs] + [(after, forced)])
    for offset, (position, at) in enumerate(pairs):
        steps.insert(position + offset, Step(confirm_at=at))
    times = [s.confirm_at for s in steps if s.confirm_at is not None]
    assert times == sorted(times)
    return steps


def run(customer: list[Order], steps: list[Step], rate: Decimal) -> Ledger:
    ledger = Ledger(
        settings=SETTINGS,
        rate_percent=rate,
        held={o.order_id: OrderPoints(redeemed=sum(o.redeemed)) for o in customer},
    )
    for step in steps:
        if step.event is not None:
            ledger.receive(step.event)
        elif step.confirm_at is not None:
            ledger.confirm_all(step.confirm_at)
            check_confirmed_when_due(ledger, customer, step.confirm_at)
        elif step.cancel is not None:
            order_id, index, points = step.cancel
            back = ledger.cancel_redemption(order_id, f"{order_id}:{index}", points)
            assert 0 <= back <= points
        check(ledger, customer)
    ledger.confirm_all(FAR)
    check(ledger, customer)
    check_confirmed_when_due(ledger, customer, FAR)
    return ledger


def check(ledger: Ledger, customer: list[Order]) -> None:
    assert (ledger.available, ledger.pending) == sums(ledger.entries)
    assert ledger.pending >= 0
    assert len(ledger.ids) == len(ledger.entries)
    for order in customer:
        held, facts = ledger.record(order.order_id), ledger.facts(order.order_id)
        earn = ledger.of_order(order.order_id, {"earn"})
        assert len(earn) <= 1 and sum(e.points for e in earn) == held.earned >= 0
        reversal = -sum(e.points for e in ledger.of_order(order.order_id, {"reverse", "cancel"}))
        assert 0 <= reversal == held.reversed <= held.earned
        available, pending = ledger.order_sums(order.order_id, ORDER_POINT_KINDS)
        assert pending >= 0
        if held.confirmed_at is None:
            assert (available, pending) == (0, held.remaining)
        else:
            assert (available, pending) == (held.remaining, 0)
            assert facts.delivered_at is not None and held.confirmed_at >= facts.delivered_at + WINDOW
        if facts.placed and (facts.cancelled or facts.refunded >= facts.base):
            assert available + pending == 0  # nothing of a wholly refunded or cancelled order is left
        # Redeemed points: a cancelled redemption came back wholly, the rest as the record says.
        cancelled_points = sum(order.redeemed) - held.redeemed
        assert 0 <= held.returned <= held.redeemed
        assert given_back(ledger, order) == cancelled_points + held.returned <= sum(order.redeemed)


def check_confirmed_when_due(ledger: Ledger, customer: list[Order], now: datetime) -> None:
    """After a confirmation run: every order whose return window ended by `now` is confirmed,
    unless nothing of it is left to confirm."""
    for order in customer:
        facts, held = ledger.facts(order.order_id), ledger.record(order.order_id)
        if not facts.placed or facts.delivered_at is None or facts.delivered_at + WINDOW > now:
            continue
        if taken_back_ratio(facts.base, facts.refunded, facts.cancelled) < 1:
            assert held.confirmed_at is not None


def given_back(ledger: Ledger, order: Order) -> int:
    """Redeemed points given back for the order: by its refunds or cancellation, and by DELETEs."""
    kinds = {"redemption_return", "redemption_cancel"}
    return sum(e.points for e in ledger.entries if e.order_id == order.order_id and e.kind in kinds)


def expected(order: Order, rate: Decimal) -> tuple[int, int, int]:
    """(available, pending) of the order's own points and its redeemed points given back, once the
    last confirmation run is over: the issue's rules, written out again."""
    unit = SETTINGS.unit_points.get(order.currency)
    earned = 0
    if order.placed and unit is not None and order.base > 0:
        earned = floor(Fraction(order.base) * Fraction(unit) * Fraction(rate) / 100)
    if order.cancelled:
        ratio = Fraction(1)
    elif order.base > 0:
        ratio = min(Fraction(1), Fraction(order.refunded) / Fraction(order.base))
    else:
        ratio = Fraction(1 if order.refunded > 0 else 0)
    remaining = 0 if ratio == 1 else earned - floor(earned * ratio)
    redeemed = sum(order.redeemed)
    returned = redeemed if ratio == 1 else floor(redeemed * ratio)
    if order.placed and order.delivered and not order.cancelled:
        return remaining, 0, returned
    return 0, remaining, returned


def outcome(ledger: Ledger, customer: list[Order]) -> dict[str, tuple[object, ...]]:
    """Everything that must not depend on the order of arrival, per order."""
    result: dict[str, tuple[object, ...]] = {"": (ledger.available, ledger.pending)}
    for order in customer:
        held = ledger.record(order.order_id)
        result[order.order_id] = (
            ledger.order_sums(order.order_id, ORDER_POINT_KINDS),
            ledger.order_sums(order.order_id, {"redemption_return"}),
            held.earned,
            held.reversed,
            held.returned,
            held.spend,
            # Confirmed or not, once wholly taken back (a cancellation may come after confirmation).
            held.confirmed_at is not None or taken_back_ratio(held.base, held.refunded, held.cancelled) == 1,
        )
    return result


@BOUNDED
@given(st.data(), customers(), RATES)
def test_random_histories_keep_the_ledger_in_line_with_the_rules(data, customer, rate):
    ledger = run(customer, data.draw(schedules(customer)), rate)
    totals = [expected(order, rate) for order in customer]
    for order, (available, pending, returned) in zip(customer, totals, strict=True):
        assert ledger.order_sums(order.order_id, ORDER_POINT_KINDS) == (available, pending)
        assert ledger.order_sums(order.order_id, {"redemption_return"}) == (returned, 0)
    assert ledger.available == sum(a + r for a, _, r in totals)
    assert ledger.pending == sum(p for _, p, _ in totals)


@BOUNDED
@given(st.data(), customers(), RATES)
def test_the_same_events_in_any_order_end_in_the_same_sums(data, customer, rate):
    first = run(customer, data.draw(schedules(customer)), rate)
    second = run(customer, data.draw(schedules(customer)), rate)
    assert outcome(first, customer) == outcome(second, customer)


@BOUNDED
@given(st.data(), customers(), RATES)
def test_cancelled_redemptions_come_back_once_and_never_more_than_was_redeemed(data, customer, rate):
    steps = data.draw(schedules(customer, cancellations=True))
    ledger = run(customer, steps, rate)
    cancelled = [step.cancel for step in steps if step.cancel is not None]
    for order in customer:
        cancelled_points = sum(points for order_id, _, points in cancelled if order_id == order.order_id)
        rest = sum(order.redeemed) - cancelled_points
        # What is still redeemed comes back by the order's rules; every cancelled redemption wholly.
        _, _, returned_of_rest = expected(replace(order, redeemed=(rest,)), rate)
        assert given_back(ledger, order) == cancelled_points + returned_of_rest <= sum(order.redeemed)
