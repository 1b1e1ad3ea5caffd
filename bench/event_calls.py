"""AWS calls made by the API function per accepted storefront event (carts, orders) on the warm
path, and by the event worker per event applied.

Goal: 1 per event: the conditional PutItem on the events table is the durable write, the duplicate
check and (through the table's stream) the hand-off to the worker.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from _common import fake_aws_environment

EVENTS = 50
BASE = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def main() -> None:
    fake_aws_environment()
    from moto import mock_aws

    with mock_aws():
        from omotenashi.logic.core.signing import sign_header
        from omotenashi_local.instrument import aws_calls
        from omotenashi_local.stack import LocalStack

        stack = LocalStack()

        def post(path: str, body: dict) -> int:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Omotenashi-Store": "demo",
                "X-Omotenashi-Signature": sign_header(
                    stack.demo_secret, int(time.time()), "POST", path, data
                ),
            }
            return int(stack.api("POST", path, headers, data)["statusCode"])

        item = {"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}

        def cart(i: int) -> dict:
            return {
                "cart_id": f"cart-{i}",
                "customer": {"id": f"c-{i % 10}", "email": f"c{i % 10}@example.jp"},
                "items": [item],
                "currency": "JPY",
                "subtotal": "3240",
                "updated_at": (BASE + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }

        def order(i: int) -> dict:
            return {
                "order_id": f"o-{i}",
                "type": "placed",
                "customer": {"id": f"c-{i % 10}"},
                "cart_id": f"cart-{i}",
                "items": [item],
                "currency": "JPY",
                "total": "3240",
                "occurred_at": "2026-11-22T03:00:00Z",
            }

        assert post("/v1/events/carts", cart(10_000)) == 202  # cold: loads the store into the cache
        figures = {}
        for name, path, make in (("cart", "/v1/events/carts", cart), ("order", "/v1/events/orders", order)):
            per_event: list[int] = []
            operations: Counter[str] = Counter()
            for i in range(EVENTS):
                with aws_calls() as log:
                    assert post(path, make(i)) == 202
                per_event.append(len(log.calls))
                operations.update(f"{s}:{o}" for s, o in log.calls)
            with aws_calls() as worker_log:
                stack.drain()
            applied = [f"{s}:{o}" for s, o in worker_log.calls if s == "dynamodb"]
            figures[name] = (per_event, operations, len(applied) / EVENTS, Counter(applied))

    print("== AWS calls per accepted storefront event (API function, warm) ==")
    for name, (per_event, operations, worker_mean, worker_ops) in figures.items():
        print(
            f"{name:5} events ({EVENTS}) : API calls per event min {min(per_event)}  max {max(per_event)}  "
            f"mean {sum(per_event) / len(per_event):.2f}   (goal: 1)"
        )
        print("               breakdown : " + ", ".join(f"{k} x{v}" for k, v in sorted(operations.items())))
        print(
            f"               worker    : {worker_mean:.1f} DynamoDB calls per event applied "
            f"(stream reads aside: " + ", ".join(f"{k} x{v}" for k, v in sorted(worker_ops.items())) + ")"
        )


if __name__ == "__main__":
    main()
