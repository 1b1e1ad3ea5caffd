"""Any single failed AWS call on a cart reminder's way (the API's store, the event worker, the
sweep, the marketing worker): the reminder is late, never lost and never doubled.

Each case fails exactly one call, the `nth` of those matching (service, operation, table, index),
in the phase that makes it: `api` (POST /v1/events/carts), `event_worker` (the stream drained),
`sweep` (the every-minute schedule, the first step due) or `marketing_worker` (the queue drained).
Then the stack runs on, a minute at a time, and each of the two default steps arrives once.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest

from omotenashi import clock
from tests.integration.test_cart_reminders import CUSTOMER, T0, _iso, advance_to, consent, reminders
from tests.support import aws_fault, call

MINUTE = 60


def _matching(table: str | None, index: str | None, nth: int):
    seen = [0]

    def when(params: dict[str, Any]) -> bool:
        if table is not None and not str(params.get("TableName", "")).endswith(f"-{table}"):
            return False
        if index is not None and params.get("IndexName") != index:
            return False
        seen[0] += 1
        return seen[0] == nth

    return when


# (phase, service, operation, table, index, nth): every AWS call of the path, in the order made.
CASES = [
    ("api", "dynamodb", "PutItem", "EventsTable", None, 1),
    # event worker: link, store the update, orders since, stop, read back, plan the reminders
    ("event_worker", "dynamodb", "PutItem", "CartsTable", None, 1),
    ("event_worker", "dynamodb", "UpdateItem", "CartsTable", None, 1),
    ("event_worker", "dynamodb", "Query", "OrdersTable", None, 1),
    ("event_worker", "dynamodb", "UpdateItem", "CartsTable", None, 2),
    ("event_worker", "dynamodb", "GetItem", "CartsTable", None, 1),
    ("event_worker", "dynamodb", "UpdateItem", "CartsTable", None, 3),
    # sweep: the due-reminders index (each shard), enqueue, move the pending step on
    ("sweep", "dynamodb", "Query", "CartsTable", "due-reminders", 1),
    ("sweep", "dynamodb", "Query", "CartsTable", "due-reminders", 4),
    ("sweep", "sqs", "SendMessage", None, None, 1),
    ("sweep", "dynamodb", "UpdateItem", "CartsTable", None, 1),
    # marketing worker: cart, consent, open inquiry, cap read, cap claim, delivery claim, SES,
    # delivery record, decision, reminder recorded (set, then last_reminder_at)
    ("marketing_worker", "dynamodb", "GetItem", "CartsTable", None, 1),
    ("marketing_worker", "dynamodb", "Query", "ConsentTable", None, 1),
    ("marketing_worker", "dynamodb", "Query", "InquiriesTable", "open-by-customer", 1),
    ("marketing_worker", "dynamodb", "GetItem", "MarketingTable", None, 1),
    ("marketing_worker", "dynamodb", "UpdateItem", "MarketingTable", None, 1),
    ("marketing_worker", "dynamodb", "PutItem", "DeliveriesTable", None, 1),
    ("marketing_worker", "ses", "SendRawEmail", None, None, 1),
    ("marketing_worker", "dynamodb", "UpdateItem", "DeliveriesTable", None, 1),
    ("marketing_worker", "dynamodb", "PutItem", "MarketingTable", None, 1),
    ("marketing_worker", "dynamodb", "UpdateItem", "CartsTable", None, 1),
    ("marketing_worker", "dynamodb", "UpdateItem", "CartsTable", None, 2),
]


def _case_id(case: tuple[Any, ...]) -> str:
    phase, service, operation, table, index, nth = case
    return "-".join(str(part) for part in (phase, service, operation, table or "", index or "", nth) if part)


def _cart_body() -> dict[str, Any]:
    return {
        "cart_id": "cart-77",
        "customer": CUSTOMER,
        "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}],
        "currency": "JPY",
        "subtotal": "3240",
        "cart_url": "https://shop.example/cart/cart-77",
        "updated_at": _iso(T0),
    }


@pytest.fixture
def clocked(stack):
    clock.set_source(lambda: T0)
    yield stack
    clock.set_source(None)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("code", ["ThrottlingException", "InternalServerError"])
def test_one_failed_call_makes_the_reminder_late_never_lost_or_doubled(clocked, case, code):
    stack = clocked
    phase, service, operation, table, index, nth = case
    fault = aws_fault(service, operation, code=code, when=_matching(table, index, nth))
    consent(stack)

    with fault if phase == "api" else contextlib.nullcontext([0]) as failures:
        posted = call(stack, "POST", "/v1/events/carts", _cart_body())
    if phase == "api":
        assert posted.status == 503, posted.text  # the storefront retries
        posted = call(stack, "POST", "/v1/events/carts", _cart_body())
        assert failures[0] == 1
    assert posted.status == 202, posted.text

    if phase == "event_worker":
        with fault as failures:
            stack.drain()
        assert failures[0] == 1
    stack.drain()

    advance_to(stack, T0 + timedelta(minutes=59))
    assert reminders(stack) == []
    clock.advance(2 * MINUTE)  # 11:01 JST: the first step is due
    stack.drain()
    if phase == "sweep":
        with fault as failures, contextlib.suppress(Exception):  # the run fails; the next one retries
            stack.run_schedules()
        assert failures[0] == 1
    else:
        stack.run_schedules()
    if phase == "marketing_worker":
        with fault as failures:
            stack.drain()
        assert failures[0] == 1
    stack.drain()

    for _ in range(3):  # late by a sweep interval or two, not lost
        stack.advance(MINUTE)
    assert len(reminders(stack)) == 1, case
    advance_to(stack, T0 + timedelta(hours=24, minutes=1))
    assert len(reminders(stack)) == 2, case
    advance_to(stack, T0 + timedelta(days=3))
    assert len(reminders(stack)) == 2, case
    got = call(stack, "GET", "/v1/carts/cart-77").json
    assert got["reminders_sent"] == 2, (case, got)
    assert stack.queued() == 0


# The placed order's way through the event worker: store the event, (the named cart's stop,) the
# customer's carts, each one's customer stop, the recovery check.
_NAMED_ORDER_CALLS = [
    ("PutItem", "OrdersTable", 1),
    ("UpdateItem", "CartsTable", 1),
    ("Query", "CartsTable", 1),
    ("UpdateItem", "CartsTable", 2),
    ("UpdateItem", "CartsTable", 3),
]
_CUSTOMER_ORDER_CALLS = [
    ("PutItem", "OrdersTable", 1),
    ("Query", "CartsTable", 1),
    ("UpdateItem", "CartsTable", 1),
    ("UpdateItem", "CartsTable", 2),
]
ORDER_CASES = [
    (named, ("dynamodb", operation, table, None, nth))
    for named, calls in ((True, _NAMED_ORDER_CALLS), (False, _CUSTOMER_ORDER_CALLS))
    for operation, table, nth in calls
]


@pytest.mark.parametrize(
    ("named", "case"),
    ORDER_CASES,
    ids=[("named-" if n else "customer-") + "-".join(str(p) for p in c if p) for n, c in ORDER_CASES],
)
def test_one_failed_call_applying_an_order_still_stops_the_reminders(clocked, named, case):
    stack = clocked
    service, operation, table, index, nth = case
    consent(stack)
    assert call(stack, "POST", "/v1/events/carts", _cart_body()).status == 202
    stack.drain()
    advance_to(stack, T0 + timedelta(minutes=30))
    order = {
        "order_id": "o-1",
        "type": "placed",
        "customer": CUSTOMER,
        "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}],
        "currency": "JPY",
        "total": "3240",
        "occurred_at": _iso(clock.now()),
    }
    if named:
        order["cart_id"] = "cart-77"
    assert call(stack, "POST", "/v1/events/orders", order).status == 202
    with aws_fault(service, operation, when=_matching(table, index, nth)) as failures:
        stack.drain()
    assert failures[0] == 1
    stack.drain()
    advance_to(stack, T0 + timedelta(days=3))
    assert reminders(stack) == []
    got = call(stack, "GET", "/v1/carts/cart-77").json
    assert got["status"] == "ordered" and got["ordered_by"] == "o-1", got


@pytest.mark.parametrize(
    ("service", "operation", "table"),
    [("dynamodb", "UpdateItem", "CartsTable"), ("dynamodb", "PutItem", "MarketingTable")],
    ids=["deferral-write", "deferral-decision"],
)
def test_a_failed_call_while_deferring_for_quiet_hours_still_sends_once_at_8(
    stack, service, operation, table
):
    from datetime import UTC, datetime

    evening = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)  # 20:30 JST: the 1-hour step is due in quiet hours
    clock.set_source(lambda: evening)
    try:
        consent(stack)
        body = {**_cart_body(), "updated_at": _iso(evening)}
        assert call(stack, "POST", "/v1/events/carts", body).status == 202
        stack.drain()
        advance_to(stack, evening + timedelta(minutes=59))
        clock.advance(2 * MINUTE)
        stack.run_schedules()
        with aws_fault(service, operation, when=_matching(table, None, 1)) as failures:
            stack.drain()
        assert failures[0] == 1
        stack.drain()
        advance_to(stack, datetime(2026, 11, 22, 22, 59, tzinfo=UTC))  # 07:59 JST
        assert reminders(stack) == []
        advance_to(stack, datetime(2026, 11, 22, 23, 2, tzinfo=UTC))  # 08:02 JST
        [mail] = reminders(stack)
        assert mail["sent_at"] >= "2026-11-22T23:00"
        advance_to(stack, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # 21:00 JST
        assert len(reminders(stack)) == 1  # the 24-hour step (20:30 JST) is within 16 h of it: capped
    finally:
        clock.set_source(None)
