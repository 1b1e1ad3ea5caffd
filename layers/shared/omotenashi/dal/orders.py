"""Orders as their history: one item per order event (placed, fulfilled, delivered, cancelled,
each refund) under "<store>#<order>", keyed by the event's natural id, so a repeated event is
stored once and events may arrive in any order. A placed order is also linked under
"<store>!<customer>" as "<placed_at>#<order_id>", for the carts it ends."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from pynamodb.exceptions import PynamoDBException

from omotenashi.clock import instant, parse_instant
from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.carts import items_from_json, items_to_json
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import CustomerOrderLink, OrderEventItem, bind
from omotenashi.domain import Locale, OrderEvent, OrderEventType


def _order_key(store_id: str, order_id: str) -> str:
    return f"{store_id}#{order_id}"


def _customer_partition(store_id: str, customer_id: str) -> str:
    return f"{store_id}!{customer_id}"  # "!" never appears in a store id, nor right after one here


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def record(event: OrderEvent) -> bool:
    """Store the event once (conditional PutItem on its natural id). False: stored already."""
    bind()
    item = OrderEventItem(
        order_key=_order_key(event.store_id, event.order_id),
        event_key=event.event_key,
        store_id=event.store_id,
        order_id=event.order_id,
        type=event.type,
        occurred_at=instant(event.occurred_at),
        customer_id=event.customer_id,
        email=event.email,
        name=event.name,
        locale=event.locale,
        cart_id=event.cart_id,
        items=items_to_json(event.items) if event.items else None,
        currency=event.currency,
        total=_money(event.total),
        shipping=_money(event.shipping),
        refund_id=event.refund_id,
        refund_amount=_money(event.refund_amount),
    )
    try:
        if event.type == "placed":  # link first: a retry after a failure in between redoes both
            link_key = f"{instant(event.occurred_at)}#{event.order_id}"
            CustomerOrderLink(_customer_partition(event.store_id, event.customer_id), link_key).save()
        item.save(condition=OrderEventItem.event_key.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("storing an order event failed") from error
    return True


def _to_domain(item: OrderEventItem) -> OrderEvent:
    def money(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    return OrderEvent(
        store_id=item.store_id,
        order_id=item.order_id,
        type=cast(OrderEventType, item.type),
        occurred_at=parse_instant(item.occurred_at),
        customer_id=item.customer_id,
        email=item.email,
        name=item.name,
        locale=cast(Locale | None, item.locale),
        cart_id=item.cart_id,
        items=items_from_json(item.items),
        currency=item.currency,
        total=money(item.total),
        shipping=money(item.shipping),
        refund_id=item.refund_id,
        refund_amount=money(item.refund_amount),
    )


def history(store_id: str, order_id: str) -> list[OrderEvent]:
    """Every stored event of the order (any order; the caller sorts)."""
    bind()
    try:
        # Strongly consistent: the event worker reads right after storing the event it applies.
        items = OrderEventItem.query(_order_key(store_id, order_id), consistent_read=True)
        return [_to_domain(i) for i in items]
    except PynamoDBException as error:
        raise StorageError("reading an order failed") from error


def placed_orders_of_customer(store_id: str, customer_id: str, *, since: str) -> list[tuple[str, str]]:
    """(placed_at, order_id) of the customer's orders placed at or after `since` (an instant)."""
    bind()
    try:
        links = CustomerOrderLink.query(
            _customer_partition(store_id, customer_id),
            CustomerOrderLink.event_key >= since,
            consistent_read=True,
        )
        return [(link.event_key.split("#", 1)[0], link.event_key.split("#", 1)[1]) for link in links]
    except PynamoDBException as error:
        raise StorageError("listing a customer's orders failed") from error
