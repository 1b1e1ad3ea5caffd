"""DynamoDB calls per loyalty change on the warm path: an order event applied by the event worker,
a confirmation run, a redemption (and its cancellation) through the API.

Goal: one write transaction (TransactWriteItems) per change of a customer's points. An order event
costs the API function one PutItem (the events table: the durable write, the duplicate check and,
through the table's stream, the hand-off to the worker); the event worker then stores the event in
the order's history (orders table) and reconciles the ledger: it reads the order's history (Query)
and the balance with the order's record (one TransactGetItems), and writes one TransactWriteItems.
A confirmation is found by the sweep (one Query per shard of the sparse due index, one lease
UpdateItem and one SQS message per due order) and applied by the loyalty worker (the same reads,
one TransactWriteItems). A redemption reads the redemption (absent), the balance (GetItem) and
writes one TransactWriteItems.

Each kind is measured over CUSTOMERS customers (every call of the function that applies it, all
services; SQS polling by the local runtime aside), in-process moto, business time pinned.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import fake_aws_environment

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "20"))
T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 11:00 in Asia/Tokyo
WRITES = {
    "TransactWriteItems",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
}
READS = {"GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem"}
# The local runtime's own polling (SQS receive and delete; every dynamodbstreams call, as Lambda's
# event source mapping makes them): not calls of the function under measure.
RUNTIME = {("sqs", "ReceiveMessage"), ("sqs", "DeleteMessageBatch"), ("sqs", "ChangeMessageVisibility")}


@contextlib.contextmanager
def recorded(tables: dict[str, str]) -> Iterator[list[tuple[str, str, str]]]:
    """Every AWS call made in the block as (service, operation, what it touched: table logical ids,
    and for a transaction the number of items)."""
    import botocore.client

    calls: list[tuple[str, str, str]] = []
    base: Any = botocore.client.BaseClient
    previous = base._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        service = self.meta.service_model.service_name
        if (service, operation_name) not in RUNTIME and service != "dynamodbstreams":
            calls.append((service, operation_name, _target(operation_name, api_params, tables)))
        return previous(self, operation_name, api_params)

    base._make_api_call = recording
    try:
        yield calls
    finally:
        base._make_api_call = previous


def _target(operation: str, params: dict[str, Any], tables: dict[str, str]) -> str:
    def short(name: str) -> str:
        return tables.get(name, name).removesuffix("Table")

    if "TableName" in params:
        index = f".{params['IndexName']}" if params.get("IndexName") else ""
        return short(params["TableName"]) + index
    if operation in ("TransactWriteItems", "TransactGetItems"):
        parts: Counter[str] = Counter()
        for item in params.get("TransactItems", []):
            ((kind, body),) = item.items()
            parts[f"{kind} {short(body['TableName'])}{_item_kind(body)}"] += 1
        return ", ".join(f"{k} x{v}" for k, v in sorted(parts.items()))
    if operation == "BatchWriteItem":
        return ", ".join(f"{short(t)} x{len(v)}" for t, v in params.get("RequestItems", {}).items())
    if "QueueUrl" in params:
        return params["QueueUrl"].rsplit("/", 1)[-1]
    return ""


def _item_kind(body: dict[str, Any]) -> str:
    """A LoyaltyTable item's kind, from its sort key: balance, order#, entry#, timer#<name>, ..."""
    key = (body.get("Key") or body.get("Item") or {}).get("key", {}).get("S")
    if key is None:
        return ""
    return f" {key if key.startswith('timer#') else key.split('#')[0] + ('#' if '#' in key else '')}"


class Figures:
    def __init__(self, name: str) -> None:
        self.name = name
        self.samples: list[list[tuple[str, str, str]]] = []

    def add(self, calls: list[tuple[str, str, str]]) -> None:
        self.samples.append(list(calls))

    def report(self, goal: str) -> None:
        n = len(self.samples)
        dynamo = [[c for c in s if c[0] == "dynamodb"] for s in self.samples]
        writes = [sum(1 for c in s if c[1] in WRITES) for s in dynamo]
        reads = [sum(1 for c in s if c[1] in READS) for s in dynamo]
        transactions = [sum(1 for c in s if c[1] == "TransactWriteItems") for s in dynamo]
        ledger = [[c for c in s if c[2].startswith("Loyalty") or " Loyalty" in c[2]] for s in dynamo]
        ledger_writes = sum(1 for s in ledger for c in s if c[1] in WRITES) / n
        ledger_reads = sum(1 for s in ledger for c in s if c[1] in READS) / n

        def spread(values: list[int]) -> str:
            return f"mean {sum(values) / n:.2f}  (min {min(values)}, max {max(values)})"

        print(f"-- {self.name} ({n} measured) --")
        print(f"   DynamoDB calls per change : {spread([len(s) for s in dynamo])}")
        print(f"   writes                    : {spread(writes)}")
        print(f"     of which TransactWrite  : {spread(transactions)}   [{goal}]")
        print(f"   reads                     : {spread(reads)}")
        print(
            f"   on LoyaltyTable           : writes {ledger_writes:.2f}, reads {ledger_reads:.2f} per change"
        )
        operations: Counter[str] = Counter()
        for sample in self.samples:
            operations.update(f"{s}:{o}({t})" for s, o, t in sample)
        print("   calls by operation (total over all measured; per change = total / n):")
        for key, count in sorted(
            operations.items(), key=lambda kv: (not kv[0].startswith("dynamodb"), kv[0])
        ):
            print(f"      {count / n:5.2f} x {key}")


def main() -> None:
    fake_aws_environment()
    # Powertools warns when an invocation published no metric (a GET): noise here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from moto import mock_aws

    with mock_aws():
        from omotenashi import clock
        from omotenashi.dal import loyalty as loyalty_data
        from omotenashi.logic.core.signing import sign_header
        from omotenashi.logic.loyalty import schedule
        from omotenashi_local.stack import LocalStack

        clock.set_source(lambda: T0)
        stack = LocalStack()
        tables = {physical: logical for logical, physical in stack.resources.tables.items()}
        loyalty_queue = stack.resources.queues["LoyaltyQueue"].url
        [loyalty_poller] = [p for p in stack.pollers if p.queue.url == loyalty_queue]

        def api(method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
            data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Omotenashi-Store": "demo",
                "X-Omotenashi-Signature": sign_header(
                    stack.demo_secret, int(time.time()), method, path, data
                ),
            }
            if key:
                headers["Idempotency-Key"] = key
            reply = stack.api(method, path, headers, data)
            status = int(reply["statusCode"])
            assert status in (200, 201, 202), (method, path, status, reply.get("body"))
            return json.loads(reply.get("body") or "null")

        def order_event(
            order_id: str, customer: str, kind: str, at: datetime, **extra: Any
        ) -> dict[str, Any]:
            body: dict[str, Any] = {
                "order_id": order_id,
                "type": kind,
                "customer": {"id": customer, "email": f"{customer}@example.jp", "locale": "ja"},
                "occurred_at": clock.isoformat(at),
                **extra,
            }
            if kind == "placed":
                body.update(
                    items=[{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "5000"}],
                    currency="JPY",
                    total="10800",
                    shipping="800",
                )
            return body

        def drain_rest() -> None:
            stack.drain()  # emails (tier_changed, points_earned) and anything else: not measured

        def measured_event(figures: tuple[Figures, Figures], body: dict[str, Any]) -> None:
            api_figures, worker_figures = figures
            with recorded(tables) as calls:
                api("POST", "/v1/events/orders", body)
            api_figures.add(calls)
            with recorded(tables) as calls:
                for stream in stack.stream_pollers:
                    stream.drain()
            worker_figures.add(calls)
            drain_rest()

        def pair(name: str) -> tuple[Figures, Figures]:
            return Figures(f"{name}: API function"), Figures(f"{name}: event worker")

        # Cold: a first event loads the store into each cache; not measured.
        api("POST", "/v1/events/orders", order_event("o-warm", "c-warm", "placed", T0 - timedelta(hours=1)))
        api("POST", "/v1/events/orders", order_event("o-warm", "c-warm", "delivered", T0))
        drain_rest()

        placed_first, placed_again = (
            pair("order placed (customer's first order)"),
            pair("order placed (customer with an account)"),
        )
        delivered, refunded = pair("order delivered"), pair("order refunded (partial)")
        customers = [f"c-{i:03d}" for i in range(CUSTOMERS)]
        placed_at = T0 - timedelta(days=3)
        for c in customers:
            measured_event(placed_first, order_event(f"{c}-o1", c, "placed", placed_at))
        for c in customers:
            measured_event(placed_again, order_event(f"{c}-o2", c, "placed", placed_at))
        for c in customers:
            measured_event(delivered, order_event(f"{c}-o1", c, "delivered", T0 - timedelta(days=1)))
        for c in customers:
            measured_event(delivered, order_event(f"{c}-o2", c, "delivered", T0 - timedelta(days=1)))
        for c in customers:
            measured_event(
                refunded,
                order_event(
                    f"{c}-o2", c, "refunded", T0, refund_id="r1", refund_amount="2500", currency="JPY"
                ),
            )

        # The return window (14 days after delivery) ends: the sweep finds every order's confirmation.
        clock.advance(14 * 86400)
        with recorded(tables) as sweep_calls:
            started = time.perf_counter()
            enqueued = schedule.run_sweep(clock.now())
            sweep_seconds = time.perf_counter() - started
        assert enqueued == 2 * CUSTOMERS + 1, enqueued  # + the warm-up order
        confirm = Figures("confirmation run (loyalty worker, one job)")
        loyalty_poller.batch_size = 1  # one job per invocation: per-job figures
        while True:
            with recorded(tables) as calls:
                received = loyalty_poller.poll_once()
            if not received:
                break
            confirm.add(calls)
        drain_rest()
        for c in customers:
            account = loyalty_data.get_account("demo", c)
            assert account is not None and account.pending == 0 and account.available == 100 + 75, account

        redeem = Figures("redemption (POST .../loyalty/redemptions)")
        redeem_key = Figures("redemption with an Idempotency-Key")
        redeem_order = Figures("redemption naming an order")
        redeem_cancel = Figures("redemption cancelled (DELETE .../loyalty/redemptions/{id})")
        for c in customers:
            path = f"/v1/customers/{c}/loyalty/redemptions"
            with recorded(tables) as calls:
                api("POST", path, {"redemption_id": f"{c}-r1", "points": 10})
            redeem.add(calls)
            with recorded(tables) as calls:
                api("POST", path, {"redemption_id": f"{c}-r2", "points": 10}, key=f"key-{c}-r2")
            redeem_key.add(calls)
            with recorded(tables) as calls:
                api("POST", path, {"redemption_id": f"{c}-r3", "points": 10, "order_id": f"{c}-o3"})
            redeem_order.add(calls)
            with recorded(tables) as calls:
                api("DELETE", f"{path}/{c}-r1")
            redeem_cancel.add(calls)
            assert api("GET", f"/v1/customers/{c}/loyalty")["available"] == 175 - 20

    print("== DynamoDB calls per loyalty change (warm path; goal: one write transaction each) ==")
    print(
        f"{CUSTOMERS} customers, each: two orders placed (10,800 yen, 800 shipping: 100 points pending\n"
        "each), delivered, the second refunded 2,500 yen (25 points reversed), both confirmed 14 days after\n"
        "delivery; then per customer a redemption, one with an Idempotency-Key, one naming an order, and\n"
        "a cancellation of the first. Calls are service:operation(table, or a transaction's items by kind\n"
        "and table); the local runtime's stream and queue polling is left out. Writes: TransactWriteItems,\n"
        "PutItem, UpdateItem, DeleteItem, BatchWriteItem; reads: GetItem, Query, TransactGetItems."
    )
    for figures in (*placed_first, *placed_again, *delivered, *refunded):
        api_side = figures.name.endswith("API function")
        figures.report("goal: none; one PutItem in all" if api_side else "goal: 1")
    queries = [c for c in sweep_calls if c[1] == "Query"]
    others = Counter(f"{s}:{o}({t})" for s, o, t in sweep_calls if o != "Query")
    print(
        f"-- confirmation sweep (loyalty schedule.run_sweep): {enqueued} due found in "
        f"{sweep_seconds * 1000:.0f} ms on moto --"
    )
    print(
        f"   per run                   : {len(queries)} x dynamodb:Query("
        + ", ".join(sorted({t for _, _, t in queries}))
        + ")"
    )
    print(
        "   per due order             : "
        + ", ".join(f"{n / enqueued:.2f} x {k}" for k, n in sorted(others.items()))
    )
    confirm.report("goal: 1")
    redeem.report("goal: 1")
    redeem_key.report("goal: 1")
    redeem_order.report("goal: 1")
    redeem_cancel.report("goal: 1")


if __name__ == "__main__":
    main()
