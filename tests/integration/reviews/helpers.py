"""Shared helpers of the review integration tests: the local clock, order and review events, and
what the outbox and the API show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from omotenashi import clock
from tests.support import call

DAY = 86400
# Delivered at 10:00 JST (01:00Z): day 7 at the same time is outside quiet hours (21:00-08:00).
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
CUSTOMER = {"id": "c-123", "email": "taro@example.jp", "name": "山田太郎", "locale": "ja"}
ITEMS = [
    {
        "sku": "TEA-01",
        "name": "玉露 100g",
        "quantity": 2,
        "unit_price": "1620",
        "product_url": "https://shop.example/p/tea-01",
        "image_url": "https://shop.example/i/tea-01.jpg",
    },
    {"sku": "CUP-02", "name": "湯呑み", "quantity": 1, "unit_price": "2000"},
]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pin(moment: datetime = T0) -> None:
    clock.set_source(lambda: moment)


def consent(
    stack: Any, customer_id: str = "c-123", email: str = "taro@example.jp", given: bool = True
) -> None:
    body = {
        "email": email,
        "marketing_email": given,
        "source": "checkout_checkbox",
        "wording": "ショップからのお知らせメールを受け取る",
        "consented_at": iso(clock.now() - timedelta(days=30)),
    }
    reply = call(stack, "PUT", f"/v1/customers/{customer_id}/consent", body)
    assert reply.status == 200, reply.text


def order(
    stack: Any,
    type_: str,
    at: datetime,
    order_id: str = "o-1001",
    customer: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    body: dict[str, Any] = {
        "order_id": order_id,
        "type": type_,
        "customer": customer or CUSTOMER,
        "occurred_at": iso(at),
    }
    if type_ == "placed":
        body.update({"items": ITEMS, "currency": "JPY", "total": "5240", "shipping": "0"})
    if type_ == "refunded":
        body.setdefault("currency", "JPY")
    body.update(extra)
    reply = call(stack, "POST", "/v1/events/orders", body)
    assert reply.status == 202, reply.text


def delivered_order(stack: Any, order_id: str = "o-1001", at: datetime = T0, **kwargs: Any) -> None:
    order(stack, "placed", at - timedelta(days=2), order_id, **kwargs)
    order(stack, "fulfilled", at - timedelta(days=1), order_id, **kwargs)
    order(stack, "delivered", at, order_id, **kwargs)
    stack.drain()


def review(
    stack: Any,
    review_id: str = "rv-9",
    order_id: str = "o-1001",
    sku: str = "TEA-01",
    rating: int = 5,
    at: datetime | None = None,
    customer: dict[str, Any] | None = None,
) -> Any:
    body = {
        "review_id": review_id,
        "order_id": order_id,
        "sku": sku,
        "customer": customer or {"id": CUSTOMER["id"], "email": CUSTOMER["email"]},
        "rating": rating,
        "title": "香りが良い",
        "body": "また買います。",
        "submitted_at": iso(at or clock.now()),
    }
    reply = call(stack, "POST", "/v1/events/reviews", body)
    assert reply.status == 202, reply.text
    return reply


def survey(
    stack: Any, survey_id: str = "sv-1", response_id: str = "resp-1", customer: dict[str, Any] | None = None
) -> Any:
    body = {
        "survey_id": survey_id,
        "response_id": response_id,
        "customer": customer or CUSTOMER,
        "submitted_at": iso(clock.now()),
    }
    reply = call(stack, "POST", "/v1/events/surveys", body)
    assert reply.status == 202, reply.text
    return reply


def advance_to(stack: Any, moment: datetime) -> None:
    """Move the stack's clock to `moment`, running every due job on the way a day at a time (the
    daily loyalty runs see each day; a test names the exact moments it checks, so what is due
    between two of its own steps goes at the later one, as after a sweep that ran late)."""
    while clock.now() < moment:
        step = min(86400.0, (moment - clock.now()).total_seconds())
        stack.advance(step)


def sent(stack: Any, kind: str) -> list[dict[str, Any]]:
    return [m for m in stack.outbox() if m["kind"] == kind]


def view_order(stack: Any, order_id: str = "o-1001") -> dict[str, Any]:
    reply = call(stack, "GET", f"/v1/orders/{order_id}")
    assert reply.status == 200, reply.text
    return reply.json  # type: ignore[no-any-return]


def loyalty(stack: Any, customer_id: str = "c-123") -> dict[str, Any]:
    reply = call(stack, "GET", f"/v1/customers/{customer_id}/loyalty")
    assert reply.status == 200, reply.text
    return reply.json  # type: ignore[no-any-return]


def ledger_kinds(stack: Any, customer_id: str = "c-123") -> list[tuple[str, int]]:
    reply = call(stack, "GET", f"/v1/customers/{customer_id}/loyalty/ledger?limit=100")
    assert reply.status == 200, reply.text
    return [(e["kind"], e["points"]) for e in reply.json["entries"]]
