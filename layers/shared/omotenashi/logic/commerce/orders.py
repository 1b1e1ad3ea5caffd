"""Applying order events, and an order's state derived from its history.

Every event is stored once under its natural id (type, and refund id for refunds), and the state is
a function of the set of stored events: status is the latest event by `occurred_at` (on a tie, the
later stage of an order's life), total and items come from `placed`. So a `delivered` that arrives
before its `placed` is kept and counts once `placed` arrives, and any permutation or repetition of
the same events reads the same.
"""

from __future__ import annotations

from decimal import Decimal

from omotenashi import clock
from omotenashi.dal import orders as order_data
from omotenashi.domain import ORDER_EVENT_TYPES, OrderEvent
from omotenashi.logic.commerce import carts
from omotenashi.logic.core.errors import NotFound
from omotenashi.logic.reviews import views as review_views
from omotenashi.schemas.commerce import OrderEventIn, OrderHistoryEntry, OrderOut


def from_event(store_id: str, event: OrderEventIn) -> OrderEvent:
    return OrderEvent(
        store_id=store_id,
        order_id=event.order_id,
        type=event.type,
        occurred_at=event.occurred_at,
        customer_id=event.customer.identity,
        email=event.customer.email,
        name=event.customer.name,
        locale=event.customer.locale,
        cart_id=event.cart_id,
        items=tuple(carts.from_line(i) for i in event.items or ()),
        currency=event.currency,
        total=event.total,
        shipping=_shipping(event),
        refund_id=event.refund_id,
        refund_amount=event.refund_amount,
    )


def _shipping(event: OrderEventIn) -> Decimal | None:
    """A placed order's shipping defaults to 0 (all of the total earns points)."""
    if event.shipping is None and event.type == "placed":
        return Decimal(0)
    return event.shipping


def apply_order_event(store_id: str, event: OrderEventIn) -> bool:
    """True when the event was new. A placed order (also a repeat: a retry after a failure between
    the two writes) ends the abandonment of the carts it concerns."""
    order = from_event(store_id, event)
    new = order_data.record(order)
    if order.type == "placed":
        carts.end_abandonment_by(order, clock.instant(order.occurred_at))
    return new


def _sort_key(event: OrderEvent) -> tuple[object, ...]:
    return (event.occurred_at, ORDER_EVENT_TYPES.index(event.type), event.refund_id or "")


def view(store_id: str, order_id: str) -> OrderOut:
    events = sorted(order_data.history(store_id, order_id), key=_sort_key)
    if not events:
        raise NotFound("no such order")
    placed = next((e for e in events if e.type == "placed"), None)
    currency = placed.currency if placed else next((e.currency for e in events if e.currency), None)
    refunded = sum((e.refund_amount or Decimal(0) for e in events if e.type == "refunded"), Decimal(0))
    reviews, review_request, review_reward = review_views.for_order(store_id, order_id)
    return OrderOut(
        order_id=order_id,
        customer_id=events[0].customer_id,
        status=events[-1].type,
        total=str(placed.total) if placed and placed.total is not None else None,
        shipping=str(placed.shipping) if placed and placed.shipping is not None else None,
        currency=currency,
        refunded_total=str(refunded),
        cart_id=placed.cart_id if placed else next((e.cart_id for e in events if e.cart_id), None),
        placed_at=clock.isoformat_precise(placed.occurred_at) if placed else None,
        items=[carts.line_out(i) for i in placed.items] if placed else [],
        history=[
            OrderHistoryEntry(
                type=e.type,
                occurred_at=clock.isoformat_precise(e.occurred_at),
                refund_id=e.refund_id,
                refund_amount=str(e.refund_amount) if e.refund_amount is not None else None,
            )
            for e in events
        ],
        reviews=reviews,
        review_request=review_request,
        review_reward=review_reward,
    )
