"""Applying cart events, and what ends a cart's abandonment.

A cart keeps its newest update (by `updated_at`, not arrival; an older one changes nothing). Its
abandonment ends with an order that names it (for good), or an order of the same customer placed at
or after its last update. Both directions are checked (an updated cart looks for the customer's
orders since the update; a placed order looks for the customer's carts updated before it), both
with strongly consistent reads after their own write, and the same order is recorded whatever the
arrival order (dal/carts.py: stop keys), so every permutation of the same events ends in the same
cart.
"""

from __future__ import annotations

from datetime import timedelta

from omotenashi import clock
from omotenashi.clock import instant
from omotenashi.dal import carts as cart_data
from omotenashi.dal import orders as order_data
from omotenashi.domain import Cart, LineItem, OrderEvent
from omotenashi.logic.core.errors import NotFound
from omotenashi.logic.marketing import cart_reminders
from omotenashi.observability import metrics
from omotenashi.schemas.commerce import CartEventIn, CartOut, LineItemIn, LineItemOut

NAMED, SAME_CUSTOMER = "0", "1"  # an order naming the cart comes before one that does not
RECOVERY_WINDOW = timedelta(days=7)  # an order this soon after a reminder recovered the cart


def stop_key(rank: str, placed_at: str, order_id: str) -> str:
    return f"{rank}#{placed_at}#{order_id}"


def from_line(item: LineItemIn) -> LineItem:
    return LineItem(
        sku=item.sku,
        name=item.name,
        quantity=item.quantity,
        unit_price=item.unit_price,
        product_url=item.product_url,
        image_url=item.image_url,
    )


def from_event(store_id: str, event: CartEventIn) -> Cart:
    return Cart(
        store_id=store_id,
        cart_id=event.cart_id,
        customer_id=event.customer.identity,
        email=event.customer.email,
        name=event.customer.name,
        locale=event.customer.locale,
        items=tuple(from_line(i) for i in event.items),
        currency=event.currency,
        subtotal=event.subtotal,
        cart_url=event.cart_url,
        updated_at=event.updated_at,
    )


def apply_cart_event(store_id: str, event: CartEventIn) -> bool:
    """True when this update is now the cart's newest."""
    cart = from_event(store_id, event)
    if not cart_data.apply_update(cart) and not cart_data.unfinished(
        store_id, cart.cart_id, updated_at=instant(cart.updated_at)
    ):
        return False  # an older update, or this one again after it was applied to the end
    updated_at = cart_data.stored_updated_at(cart)
    orders_since = order_data.placed_orders_of_customer(store_id, cart.customer_id, since=updated_at)
    stops = [stop_key(SAME_CUSTOMER, placed_at, order_id) for placed_at, order_id in orders_since]
    cart_data.set_customer_stop(store_id, cart.cart_id, min(stops, default=None), updated_at=updated_at)
    stored = cart_data.get(store_id, cart.cart_id, consistent=True)  # with any order that ended it
    if stored is not None and cart_data.stored_updated_at(stored) == updated_at:
        cart_reminders.schedule(stored)
    return True


def end_abandonment_by(order: OrderEvent, placed_at: str) -> None:
    """A placed order ends the abandonment of the cart it names and of the customer's carts last
    updated at or before it; a cart reminded in the 7 days before the order is recovered by it."""
    ended = []
    if order.cart_id is not None:
        cart_data.offer_named_stop(order.store_id, order.cart_id, stop_key(NAMED, placed_at, order.order_id))
        ended.append(order.cart_id)
    for cart_id in cart_data.customer_cart_ids(order.store_id, order.customer_id):
        cart_data.offer_customer_stop(
            order.store_id, cart_id, stop_key(SAME_CUSTOMER, placed_at, order.order_id), placed_at=placed_at
        )
        ended.append(cart_id)
    since = clock.instant(order.occurred_at - RECOVERY_WINDOW)
    for cart_id in dict.fromkeys(ended):
        recovered = cart_data.record_recovery(
            order.store_id,
            cart_id,
            order_id=order.order_id,
            amount=str(order.total if order.total is not None else 0),
            currency=order.currency or "",
            since=since,
            until=placed_at,
        )
        if recovered:
            metrics.add_metric(name="CartRecovered", unit="Count", value=1)


def view(store_id: str, cart_id: str) -> CartOut:
    cart = cart_data.get(store_id, cart_id)
    if cart is None:
        raise NotFound("no such cart")
    return CartOut(
        cart_id=cart.cart_id,
        customer_id=cart.customer_id,
        status=cart.status,
        items=[line_out(i) for i in cart.items],
        currency=cart.currency,
        subtotal=str(cart.subtotal),
        cart_url=cart.cart_url,
        updated_at=clock.isoformat_precise(cart.updated_at),
        reminders_sent=cart.reminders_sent,
        recovered_order_id=cart.recovered_order_id,
        ordered_by=cart.ordered_by,
    )


def line_out(item: LineItem) -> LineItemOut:
    return LineItemOut(
        sku=item.sku,
        name=item.name,
        quantity=item.quantity,
        unit_price=str(item.unit_price),
        product_url=item.product_url,
        image_url=item.image_url,
    )
