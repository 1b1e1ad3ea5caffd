"""Carts: the newest update of each cart, and the orders that ended its abandonment.

Two kinds of order end it, each kept as a "stop key" ("<rank>#<placed_at>#<order_id>", compared
as text, the smallest kept, so the same order is recorded whatever order events arrive in): an
order naming the cart (`named_by_order`, for good; recorded even before the cart itself arrives,
on a stub item) and an order of the customer placed at or after the cart's last update
(`ordered_by`, recomputed at each update). Each customer's carts are listed under
"<store>#customer#<customer>" (link items, read with a strongly consistent Query).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.expressions.condition import size
from pynamodb.expressions.update import Action

from omotenashi.clock import instant, parse_instant
from omotenashi.dal import due_reminders
from omotenashi.dal._pynamo import condition_failed, update_if
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import CartItem, CustomerCartLink, bind
from omotenashi.domain import Cart, LineItem, Locale


def _customer_partition(store_id: str, customer_id: str) -> str:
    return f"{store_id}#customer#{customer_id}"  # "#" never appears in a store id


def stop_order_id(key: str | None) -> str | None:
    return key.split("#", 2)[2] if key else None


def items_to_json(items: tuple[LineItem, ...]) -> str:
    return json.dumps(
        [
            {
                "sku": i.sku,
                "name": i.name,
                "quantity": i.quantity,
                "unit_price": str(i.unit_price),
                "product_url": i.product_url,
                "image_url": i.image_url,
            }
            for i in items
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def items_from_json(text: str | None) -> tuple[LineItem, ...]:
    raw: list[dict[str, Any]] = json.loads(text) if text else []
    return tuple(
        LineItem(
            sku=i["sku"],
            name=i["name"],
            quantity=int(i["quantity"]),
            unit_price=Decimal(i["unit_price"]),
            product_url=i.get("product_url"),
            image_url=i.get("image_url"),
        )
        for i in raw
    )


def _to_domain(item: CartItem) -> Cart | None:
    if item.updated_at is None:
        return None  # a stub: an order named this cart before the cart itself arrived
    return Cart(
        store_id=item.store_id,
        cart_id=item.cart_id,
        customer_id=str(item.customer_id),
        email=item.email,
        name=item.name,
        locale=cast(Locale | None, item.locale),
        items=items_from_json(item.items),
        currency=str(item.currency),
        subtotal=Decimal(str(item.subtotal)),
        cart_url=item.cart_url,
        updated_at=parse_instant(item.updated_at),
        ordered_by=stop_order_id(min(filter(None, (item.named_by_order, item.ordered_by)), default=None)),
        reminders_sent=len(item.reminded or ()),
        reminded=frozenset(item.reminded or ()),
        recovered_order_id=item.recovered_order_id,
    )


def get(store_id: str, cart_id: str, *, consistent: bool = False) -> Cart | None:
    bind()
    try:
        return _to_domain(CartItem.get(store_id, cart_id, consistent_read=consistent))
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading a cart failed") from error


def apply_update(cart: Cart) -> bool:
    """Store this update if it is newer than the stored one (or the first), and link the cart to
    its customer. False: an update at the same or a later time is stored already, and this one
    changes nothing."""
    bind()
    item = CartItem(store_id=cart.store_id, cart_id=cart.cart_id)
    newer = CartItem.updated_at.does_not_exist() | (CartItem.updated_at < instant(cart.updated_at))
    actions: list[Action] = [
        CartItem.customer_id.set(cart.customer_id),
        CartItem.items.set(items_to_json(cart.items)),
        CartItem.currency.set(cart.currency),
        CartItem.subtotal.set(str(cart.subtotal)),
        CartItem.updated_at.set(instant(cart.updated_at)),
        CartItem.email.set(cart.email) if cart.email else CartItem.email.remove(),
        CartItem.name.set(cart.name) if cart.name else CartItem.name.remove(),
        CartItem.locale.set(cart.locale) if cart.locale else CartItem.locale.remove(),
        CartItem.cart_url.set(cart.cart_url) if cart.cart_url else CartItem.cart_url.remove(),
    ]
    try:
        CustomerCartLink(_customer_partition(cart.store_id, cart.customer_id), cart.cart_id).save()
        item.update(actions=actions, condition=newer)
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("storing a cart update failed") from error
    return True


def unfinished(store_id: str, cart_id: str, *, updated_at: str) -> bool:
    """The update at `updated_at` is the cart's newest but was not applied to the end (its
    reminders were never planned: a failure after apply_update, and the stream retried it)."""
    bind()
    try:
        item = CartItem.get(store_id, cart_id, consistent_read=True)
    except DoesNotExist:
        return False
    except PynamoDBException as error:
        raise StorageError("reading a cart failed") from error
    return item.updated_at == updated_at and item.planned_update != updated_at


def set_customer_stop(store_id: str, cart_id: str, stop_key: str | None, *, updated_at: str) -> bool:
    """Record the customer's order that ended the abandonment of the cart as it stands at
    `updated_at` (None: none); conditional on that update still being the newest."""
    actions: list[Action] = [CartItem.ordered_by.remove()]
    if stop_key is not None:
        actions = [CartItem.ordered_by.set(stop_key), *_no_reminder()]
    return _update(store_id, cart_id, actions, CartItem.updated_at == updated_at, "recording a cart's order")


def offer_named_stop(store_id: str, cart_id: str, stop_key: str) -> None:
    """An order names the cart: it ends the cart's abandonment for good, also when the cart has
    not arrived yet (a stub item keeps the stop until it does)."""
    earlier = CartItem.named_by_order.does_not_exist() | (CartItem.named_by_order > stop_key)
    actions = [CartItem.named_by_order.set(stop_key), *_no_reminder()]
    _update(store_id, cart_id, actions, earlier, "recording a cart's order")


def offer_customer_stop(store_id: str, cart_id: str, stop_key: str, *, placed_at: str) -> None:
    """An order of the customer, placed at `placed_at`, ends the abandonment of this cart if the
    cart was last updated at or before it (and no earlier such order is recorded)."""
    condition = (CartItem.updated_at <= placed_at) & (
        CartItem.ordered_by.does_not_exist() | (CartItem.ordered_by > stop_key)
    )
    actions = [CartItem.ordered_by.set(stop_key), *_no_reminder()]
    _update(store_id, cart_id, actions, condition, "recording a cart's order")


def customer_cart_ids(store_id: str, customer_id: str) -> list[str]:
    bind()
    try:
        links = CustomerCartLink.query(_customer_partition(store_id, customer_id), consistent_read=True)
        return [link.cart_id for link in links]
    except PynamoDBException as error:
        raise StorageError("listing a customer's carts failed") from error


def stored_updated_at(cart: Cart) -> str:
    return instant(cart.updated_at)


# -- the pending reminder: one step of the cart's reminder plan (dal/due_reminders) ---------------

DueReminder = due_reminders.DueReminder
SweepStats = due_reminders.SweepStats


def _no_reminder() -> list[Action]:
    return due_reminders.none_pending(CartItem)


def schedule_reminders(store_id: str, cart_id: str, plan: due_reminders.Plan, *, updated_at: str) -> bool:
    """The cart's reminder plan for its update at `updated_at` (empty: none), first step pending;
    conditional on that update still being the newest."""
    return _update(
        store_id,
        cart_id,
        [*due_reminders.pending(CartItem, cart_id, plan, 0), CartItem.planned_update.set(updated_at)],
        CartItem.updated_at == updated_at,
        "scheduling reminders",
    )


def advance_reminder(due: DueReminder) -> bool:
    """Move the pending reminder from `due.step` to the plan's next step (or none); False when
    another sweep moved it, or the cart changed, meanwhile."""
    # The due time too: a worker that deferred the step (quiet hours) before this ran moved it, and
    # that deferral must stay pending.
    condition = (
        (CartItem.updated_at == due.version)
        & (CartItem.reminder_step == due.step)
        & (CartItem.next_reminder_at == due.due_at)
    )
    actions = due_reminders.pending(CartItem, due.subject_id, due.plan, due_reminders.next_index(due))
    return _update(due.store_id, due.subject_id, actions, condition, "advancing a reminder")


def defer_reminder(
    store_id: str, cart_id: str, *, updated_at: str, step: int, plan: due_reminders.Plan, until: str
) -> bool:
    """Put `step` back as the pending reminder, due at `until` (the gate deferred it), unless the
    cart changed meanwhile; the plan keeps its later steps."""
    index = [s for s, _ in plan].index(step)
    actions = due_reminders.pending(CartItem, cart_id, plan, index, due=until)
    # A step that went is never put back (over the next one).
    condition = (CartItem.updated_at == updated_at) & ~CartItem.reminded.contains(f"{updated_at}#{step}")
    return _update(store_id, cart_id, actions, condition, "deferring a reminder")


def record_reminder_sent(store_id: str, cart_id: str, *, updated_at: str, step: int, at: str) -> None:
    """Idempotent: the set of reminders sent gains "<updated_at>#<step>"; last_reminder_at moves on."""
    bind()
    item = CartItem(store_id=store_id, cart_id=cart_id)
    try:
        item.update(actions=[CartItem.reminded.add({f"{updated_at}#{step}"})])
        item.update(
            actions=[CartItem.last_reminder_at.set(at)],
            condition=CartItem.last_reminder_at.does_not_exist() | (CartItem.last_reminder_at < at),
        )
    except PynamoDBException as error:
        if not condition_failed(error):
            raise StorageError("recording a reminder failed") from error


def record_recovery(
    store_id: str, cart_id: str, *, order_id: str, amount: str, currency: str, since: str, until: str
) -> bool:
    """The cart was recovered by this order: a reminder went out between `since` (7 days before
    the order) and `until` (the order). The first recovering order is kept."""
    condition = CartItem.last_reminder_at.between(since, until) & CartItem.recovered_order_id.does_not_exist()
    actions: list[Action] = [
        CartItem.recovered_order_id.set(order_id),
        CartItem.recovered_amount.set(amount),
        CartItem.recovered_currency.set(currency),
    ]
    return _update(store_id, cart_id, actions, condition, "recording a recovery")


def _update(store_id: str, cart_id: str, actions: list[Action], condition: Any, what: str) -> bool:
    bind()
    return update_if(CartItem(store_id=store_id, cart_id=cart_id), actions, condition, what)


def due(now: datetime, stats: SweepStats) -> Iterator[DueReminder]:
    """The carts' due reminder steps (the subject is the cart, the version its update)."""
    bind()
    return due_reminders.query_due(
        CartItem, now, stats, subject=lambda item: item.cart_id, version=lambda item: str(item.updated_at)
    )


# -- the cart report: the store's abandoned carts of a period ------------------------------------


@dataclass(frozen=True)
class ReportedCart:
    """An abandoned cart, as the report needs it: reminded or not, and what recovered it."""

    reminded: bool
    recovered_order_id: str | None
    recovered_amount: str | None
    recovered_currency: str | None


@dataclass
class ReportStats:
    items_read: int = 0  # carts the Query read (before the filter): every cart of the store


_EMPTY_ITEMS = len(items_to_json(()))  # "[]": the stored items of an emptied cart
REPORT_PAGE_SIZE = 500


def abandoned_carts(
    store_id: str, since: str, until: str, stats: ReportStats | None = None
) -> Iterator[ReportedCart]:
    """The store's carts last updated in [since, until) (instants) that were abandoned: reminded
    at least once, or still active (items at their last update and no order that ended them).

    One Query on the store's partition (never a Scan; link items live under other partitions, so
    it sees carts only), every page, eventually consistent. The key holds no time, so the Query
    reads every cart of the store: the filter and the projection cut what comes back, not what is
    read (the read costs the size of the store's carts). Stubs (an order named a cart that never
    arrived) have no updated_at and are filtered out."""
    bind()
    in_period = (CartItem.updated_at >= since) & (CartItem.updated_at < until)
    still_active = (
        CartItem.ordered_by.does_not_exist()
        & CartItem.named_by_order.does_not_exist()
        & (size(CartItem.items) > _EMPTY_ITEMS)
    )
    abandoned = CartItem.reminded.exists() | still_active
    try:
        results = CartItem.query(
            store_id,
            filter_condition=in_period & abandoned,
            attributes_to_get=[
                "cart_id",
                "reminded",
                "recovered_order_id",
                "recovered_amount",
                "recovered_currency",
            ],
            page_size=REPORT_PAGE_SIZE,
        )
        for item in results:
            yield ReportedCart(
                reminded=bool(item.reminded),
                recovered_order_id=item.recovered_order_id,
                recovered_amount=item.recovered_amount,
                recovered_currency=item.recovered_currency,
            )
        if stats is not None:
            stats.items_read += results.page_iter.total_scanned_count
    except PynamoDBException as error:
        raise StorageError("reading the store's carts failed") from error
