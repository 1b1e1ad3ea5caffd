"""Shared helpers of the loyalty integration tests: order events, API calls, the ledger audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from omotenashi import clock
from tests.support import call

ORDERS = "/v1/events/orders"
CUSTOMER = {"id": "c-123", "email": "taro@example.jp", "name": "山田太郎", "locale": "ja"}


def start_at(when: str = "2026-11-22T02:00:00Z") -> datetime:
    """Pin business time (the stack's clock) so windows and expiry are exact."""
    moment = datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC)
    clock.set_source(lambda: moment)
    return moment


def order_event(
    order_id: str = "o-1001",
    type_: str = "placed",
    occurred_at: str = "2026-11-22T02:00:00Z",
    *,
    customer: dict[str, Any] | None = None,
    total: str = "3240",
    shipping: str = "0",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": order_id,
        "type": type_,
        "customer": customer or CUSTOMER,
        "occurred_at": occurred_at,
    }
    if type_ == "placed":
        body.update(
            {
                "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 1, "unit_price": total}],
                "currency": "JPY",
                "total": total,
                "shipping": shipping,
            }
        )
    if type_ == "refunded":
        body.setdefault("currency", "JPY")
    body.update(extra)
    return body


def send_order(stack: Any, **kwargs: Any) -> None:
    reply = call(stack, "POST", ORDERS, order_event(**kwargs))
    assert reply.status == 202, reply.text


def loyalty(stack: Any, customer_id: str = "c-123") -> dict[str, Any]:
    reply = call(stack, "GET", f"/v1/customers/{customer_id}/loyalty")
    assert reply.status == 200, reply.text
    return reply.json  # type: ignore[no-any-return]


def ledger(stack: Any, customer_id: str = "c-123") -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = f"&cursor={cursor}" if cursor else ""
        path = f"/v1/customers/{customer_id}/loyalty/ledger?limit=100{page}"
        reply = call(stack, "GET", path)
        assert reply.status == 200, reply.text
        entries += reply.json["entries"]
        cursor = reply.json["next_cursor"]
        if not cursor:
            return entries


def audit(stack: Any, customer_id: str = "c-123") -> dict[str, Any]:
    """The balance equals the sums of its entries in each bucket (the ledger's first rule)."""
    balance = loyalty(stack, customer_id)
    entries = ledger(stack, customer_id)
    assert balance["available"] == sum(e["points"] for e in entries if e["bucket"] == "available"), entries
    assert balance["pending"] == sum(e["points"] for e in entries if e["bucket"] == "pending"), entries
    assert len({e["entry_id"] for e in entries}) == len(entries)
    return balance


# --- redemptions, adjustments, seeding (tests of the loyalty API) ------------------------------


def now_iso() -> str:
    return clock.isoformat(clock.now())


def account_path(customer_id: str = "c-123") -> str:
    return f"/v1/customers/{customer_id}/loyalty"


def redeem(
    stack: Any,
    redemption_id: str,
    points: int,
    customer_id: str = "c-123",
    order_id: str | None = None,
    **options: Any,
) -> Any:
    body: dict[str, Any] = {"redemption_id": redemption_id, "points": points}
    if order_id is not None:
        body["order_id"] = order_id
    return call(stack, "POST", f"{account_path(customer_id)}/redemptions", body, **options)


def cancel_redemption(stack: Any, redemption_id: str, customer_id: str = "c-123", **options: Any) -> Any:
    return call(stack, "DELETE", f"{account_path(customer_id)}/redemptions/{redemption_id}", **options)


def adjust(stack: Any, adjustment_id: str, points: int, customer_id: str = "c-123", **options: Any) -> Any:
    body = {"adjustment_id": adjustment_id, "points": points, "reason": "goodwill", "author": "hanako"}
    return call(stack, "POST", f"{account_path(customer_id)}/adjustments", body, **options)


def earn_available(
    stack: Any, points: int, order_id: str = "o-seed", customer: dict[str, Any] | None = None
) -> None:
    """`points` available the way a shop earns them: an order of 100 x points (1 % at the first
    tier), delivered now, confirmed when the 14-day return window ends (the clock moves 15 days)."""
    now = now_iso()
    send_order(stack, order_id=order_id, total=str(points * 100), occurred_at=now, customer=customer)
    send_order(stack, order_id=order_id, type_="delivered", occurred_at=now, customer=customer)
    stack.drain()
    stack.advance(15 * 86400)


def writes(log: Any) -> list[tuple[str, str]]:
    """The writing AWS calls in an `aws_calls()` log (DynamoDB writes, SQS sends)."""
    names = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
    return [c for c in log.calls if c[1] in names or c[1].startswith("SendMessage")]


# --- timers and emails (tiers, expiry, birthday, loyalty emails, due index) --------------------

DAY = 86400


def _instant(when: str) -> datetime:
    return datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC)


def advance_to(stack: Any, when: str | datetime) -> None:
    """One advance (one sweep run) to exactly `when` (an instant after the business clock)."""
    moment = _instant(when) if isinstance(when, str) else when
    seconds = (moment - clock.now()).total_seconds()
    assert seconds >= 0, f"{moment} is before {clock.now()}"
    stack.advance(seconds)


def confirmed_order(
    stack: Any, order_id: str, total: str, *, customer: dict[str, Any] | None = None, **extra: Any
) -> None:
    """Placed and delivered now; the return window (14 days) then ends: the points are confirmed."""
    now = clock.isoformat(clock.now())
    send_order(stack, order_id=order_id, total=total, occurred_at=now, customer=customer, **extra)
    send_order(stack, order_id=order_id, type_="delivered", occurred_at=now, customer=customer)
    stack.advance(14 * DAY)


def give_consent(stack: Any, customer_id: str = "c-123", email: str = "taro@example.jp") -> None:
    body = {
        "email": email,
        "marketing_email": True,
        "source": "checkout_checkbox",
        "wording": "お知らせを受け取る",
    }
    reply = call(stack, "PUT", f"/v1/customers/{customer_id}/consent", body)
    assert reply.status == 200, reply.text


def adjust_ok(stack: Any, adjustment_id: str, points: int, customer_id: str = "c-123") -> None:
    body = {"adjustment_id": adjustment_id, "points": points, "reason": "goodwill", "author": "staff@demo"}
    reply = call(stack, "POST", f"/v1/customers/{customer_id}/loyalty/adjustments", body)
    assert reply.status == 201, reply.text


def emails(stack: Any, kind: str, to: str | None = None) -> list[dict[str, Any]]:
    return [m for m in stack.outbox() if m["kind"] == kind and (to is None or to in m["to"])]
