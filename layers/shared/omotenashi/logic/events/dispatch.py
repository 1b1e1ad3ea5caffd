"""The event worker: each stored storefront event (from the events table's stream), matched by its
kind to what applies it (carts; orders, then their points in the loyalty ledger and their review
request; reviews and survey answers, and their rewards). Applying is
idempotent and order-independent (logic/commerce, logic/loyalty), so a record the stream delivers
twice, or events that arrive out of order, end in the same state."""

from __future__ import annotations

from omotenashi.domain import AcceptedEvent
from omotenashi.logic.commerce import carts, orders
from omotenashi.logic.core import directory
from omotenashi.logic.loyalty import accounts
from omotenashi.logic.reviews import apply as apply_reviews
from omotenashi.observability import logger, metrics
from omotenashi.schemas.commerce import CartEventIn, OrderEventIn, ReviewEventIn, SurveyEventIn


def apply(event: AcceptedEvent) -> str:
    logger.append_keys(store_id=event.store_id, event_id=event.event_id, event_kind=event.kind)
    match event.kind:
        case "cart":
            cart = CartEventIn.model_validate_json(event.body)
            applied = carts.apply_cart_event(event.store_id, cart)
            if cart.customer.birthday:
                store = directory.require(event.store_id)
                accounts.note_profile(store, cart.customer.identity, _profile(cart))
        case "order":
            order = OrderEventIn.model_validate_json(event.body)
            applied = orders.apply_order_event(event.store_id, order)
            # Always, also for a repeat: a retry after a failure between the two applies the rest.
            store = directory.require(event.store_id)
            customer = order.customer.identity
            loyalty = accounts.reconcile_order(store, customer, order.order_id, profile=_profile(order))
            apply_reviews.order_changed(store, order.order_id)
            applied = applied or loyalty == "applied"
        case "review":
            review = ReviewEventIn.model_validate_json(event.body)
            applied = apply_reviews.review(directory.require(event.store_id), review)
        case "survey":
            survey = SurveyEventIn.model_validate_json(event.body)
            applied = apply_reviews.survey(directory.require(event.store_id), survey)
    outcome = "applied" if applied else "no_change"
    metrics.add_metric(name="EventApplied" if applied else "EventWithoutChange", unit="Count", value=1)
    logger.info("event applied", extra={"outcome": outcome})
    return outcome


def _profile(event: CartEventIn | OrderEventIn) -> accounts.Profile:
    customer = event.customer
    return accounts.Profile(
        email=str(customer.email).lower() if customer.email else None,
        name=customer.name,
        locale=customer.locale,
        birthday=customer.birthday,
    )
