"""The event worker: each stored storefront event (from the events table's stream), matched by its
kind to what applies it. Applying is idempotent and order-independent (logic/commerce), so a record
the stream delivers twice, or events that arrive out of order, end in the same state."""

from __future__ import annotations

from omotenashi.domain import AcceptedEvent
from omotenashi.logic.commerce import carts, orders
from omotenashi.observability import logger, metrics
from omotenashi.schemas.commerce import CartEventIn, OrderEventIn


def apply(event: AcceptedEvent) -> str:
    logger.append_keys(store_id=event.store_id, event_id=event.event_id, event_kind=event.kind)
    match event.kind:
        case "cart":
            applied = carts.apply_cart_event(event.store_id, CartEventIn.model_validate_json(event.body))
        case "order":
            applied = orders.apply_order_event(event.store_id, OrderEventIn.model_validate_json(event.body))
    outcome = "applied" if applied else "no_change"
    metrics.add_metric(name="EventApplied" if applied else "EventWithoutChange", unit="Count", value=1)
    logger.info("event applied", extra={"outcome": outcome})
    return outcome
