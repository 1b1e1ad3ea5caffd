"""A customer's ledger as the account code would keep it, for the loyalty tests: events are stored
per order (duplicates and all), every reconciliation reads the order's whole history, and each
applied plan writes the order's record back with its version + 1 (the conditional write a store
would make). Every entry is kept, so the tests can add them up per bucket, per order and per kind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal

from omotenashi.domain import OrderEvent, OrderEventType
from omotenashi.logic.loyalty.ledger import (
    Entry,
    OrderFacts,
    OrderPlan,
    OrderPoints,
    balance_change,
    cancel_redemption,
    plan_order,
)
from omotenashi.logic.loyalty.settings import DEFAULTS, LoyaltySettings

STORE = "store-1"
CUSTOMER = "cust-1"
T0 = datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
# The kinds that move an order's own points (redemption returns are the customer's own points back).
ORDER_POINT_KINDS = frozenset({"earn", "confirm", "reverse", "cancel"})


def event(type_: OrderEventType, order_id: str = "o-1", at: datetime = T0, **fields: object) -> OrderEvent:
    return OrderEvent(
        store_id=STORE,
        order_id=order_id,
        type=type_,
        occurred_at=at,
        customer_id=CUSTOMER,
        **fields,  # type: ignore[arg-type]
    )


def placed(
    total: str = "3240", shipping: str = "0", currency: str = "JPY", order_id: str = "o-1", at: datetime = T0
) -> OrderEvent:
    return event("placed", order_id, at, currency=currency, total=Decimal(total), shipping=Decimal(shipping))


def refunded(refund_id: str, amount: str | Decimal, order_id: str = "o-1", at: datetime = T0) -> OrderEvent:
    return event("refunded", order_id, at, refund_id=refund_id, refund_amount=Decimal(amount))


def sums(entries: Iterable[Entry]) -> tuple[int, int]:
    """(available, pending), added up here rather than with balance_change."""
    available = pending = 0
    for entry in entries:
        if entry.bucket == "available":
            available += entry.points
        else:
            assert entry.bucket == "pending"
            pending += entry.points
    return available, pending


@dataclass
class Ledger:
    settings: LoyaltySettings = DEFAULTS
    rate_percent: Decimal = Decimal(1)
    available: int = 0
    pending: int = 0
    entries: list[Entry] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    held: dict[str, OrderPoints] = field(default_factory=dict)
    history: dict[str, list[OrderEvent]] = field(default_factory=dict)
    plans: list[OrderPlan] = field(default_factory=list)
    redemption_backs: list[int] = field(default_factory=list)  # cancel_redemption's answers

    def facts(self, order_id: str) -> OrderFacts:
        return OrderFacts.from_history(order_id, self.history.get(order_id, []))

    def record(self, order_id: str) -> OrderPoints:
        return self.held.get(order_id, OrderPoints())

    def receive(self, *events: OrderEvent, now: datetime | None = None) -> OrderPlan:
        """Store the events (of one order) and reconcile the order, as the event consumer would."""
        order_ids = {e.order_id for e in events}
        assert len(order_ids) == 1
        (order_id,) = order_ids
        self.history.setdefault(order_id, []).extend(events)
        return self.reconcile(order_id, now or max(e.occurred_at for e in events))

    def reconcile(self, order_id: str, now: datetime, *, confirm: bool = False) -> OrderPlan:
        facts = self.facts(order_id)
        held = self.record(order_id)

        def plan_for(record: OrderPoints) -> OrderPlan:
            return plan_order(
                facts,
                record,
                rate_percent=self.rate_percent,
                settings=self.settings,
                now=now,
                confirm=confirm,
            )

        plan = plan_for(held)
        self.apply(order_id, plan)
        # Once applied, the same facts ask for nothing more: idempotent.
        again = plan_for(self.record(order_id))
        assert again.entries == (), again.entries
        assert replace(again.held, version=plan.held.version) == plan.held
        return plan

    def confirm_all(self, now: datetime) -> None:
        """The confirmation timer: every order the ledger knows, confirmed if due."""
        for order_id in sorted(self.history):
            self.reconcile(order_id, now, confirm=True)

    def apply(self, order_id: str, plan: OrderPlan) -> None:
        self.add(plan.entries)
        self.held[order_id] = replace(plan.held, version=plan.held.version + 1)
        self.plans.append(plan)

    def add(self, entries: Iterable[Entry]) -> None:
        entries = list(entries)
        for entry in entries:
            assert entry.entry_id not in self.ids, f"entry id {entry.entry_id} produced twice"
            self.ids.add(entry.entry_id)
            self.entries.append(entry)
        available, pending = balance_change(entries)
        self.available += available
        self.pending += pending

    def cancel_redemption(self, order_id: str | None, redemption_id: str, points: int) -> int:
        """DELETE of a redemption that named `order_id` (or no order)."""
        held = self.held.get(order_id) if order_id else None
        back, new = cancel_redemption(points, held)
        self.redemption_backs.append(back)
        if back:
            self.add(
                [
                    Entry(
                        f"redemption:{redemption_id}:cancel", "redemption_cancel", back, "available", order_id
                    )
                ]
            )
        if order_id and new is not None:
            self.held[order_id] = replace(new, version=new.version + 1)
        return back

    def of_order(self, order_id: str, kinds: Iterable[str] | None = None) -> list[Entry]:
        wanted = None if kinds is None else set(kinds)
        return [e for e in self.entries if e.order_id == order_id and (wanted is None or e.kind in wanted)]

    def order_sums(self, order_id: str, kinds: Iterable[str] | None = None) -> tuple[int, int]:
        return sums(self.of_order(order_id, kinds))
