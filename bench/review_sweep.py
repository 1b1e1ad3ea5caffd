"""Review request sweep cost (issue 10): items read by one scheduling run with 100 due review
steps alone, and with 100,000 delivered orders of which the same 100 are due. The sweep
(logic/reviews/requests.run_sweep, run by logic/timers.run_due every minute) Queries each shard of
ReviewsTable's sparse due-reminders index for `next_reminder_at <= now` (dal/reviews.due on the
shared dal/due_reminders.query_due), so the two must read the same. Goal: equal; the benchmark
asserts it.

The orders are shaped as the code writes them. One order of each kind goes through the real path
first (signed order, consent and review events into the local stack's API function, the event
worker, the sweep and the marketing worker on the local clock): request pending (delivered, the
request due 7 days on), reminder pending (the request went, the reminder due 5 days after it),
reminded (request and reminder went: nothing pending), reviewed (reviewed after the request:
nothing pending) and stopped (fully refunded: nothing pending). Those items are read back and
removed, and every benchmark order is a copy of its kind's order item with its own order id, shard
(the code's own due_reminders.shard) and all its instants moved by one offset, written with batch
writes (the API path takes tens of milliseconds per order on moto: 100,000 orders that way would
take hours). The copies of the pending kinds are checked against the code's own plan
(requests.decide, requests.with_reminder). The 100 due orders are copies of the request-pending
order, due 1 minute to 4 hours ago; the background is 30% request due within 7 days, 20% reminder
due within 5 days, 20% reminded, 20% reviewed, 10% refunded. Only the order items are written (a
reviewed order's review and reward items, its customer's reward record and the orders' events in
OrdersTable carry no due-index key: DynamoDB never puts them in the index; here they would only
lengthen moto's walk below). The benchmark counts the index entries.

Items read are SweepStats.items_read (the ScannedCount of the index Query pages, what run_sweep
logs), for one read-only due() iteration and for one run_sweep (which moves each due step on: with
the 100 alone a second run at the same moment finds none; the 100 are then written due again). The
whole every-minute timers.run_due runs once beside the 100,000 for context. moto reports no
consumed capacity, so the capacity figure is an estimate from the bytes the Query pages returned
(the projected attributes): per Query request, ceil(bytes / 4 KB) x 0.5 RCU (eventually
consistent).

The milliseconds are moto's, not DynamoDB's: moto answers a Query on an index by walking every
item of the base table (moto/dynamodb/models/table.py: Table.query loops over Table.all_items()),
so each Query request costs time in proportion to the whole table. The benchmark times that walk
and prints it beside the sweep. DynamoDB reads the index's own partition, only the keys at or
before `now` in each shard; what carries over is the items read and the read capacity.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import os
import re
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import fake_aws_environment
from _common import index_entries as count_index_entries
from reminder_sweep import index_pages, moto_table_walk
from sla_sweep import read_units

DUE = 100
ORDERS = int(os.environ.get("BENCH_ORDERS", "100000"))  # delivered orders, with the due ones
INDEX = "due-reminders"
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # 12:00 in Asia/Tokyo
START = NOW - timedelta(days=20)  # the templates' delivery, 12:00 in Asia/Tokyo
REMINDER_ATTRIBUTES = {"reminder_step", "reminder_plan", "reminder_shard", "next_reminder_at"}
# The background, by i % 10: pending later (request, reminder) or done (nothing pending).
KINDS = ("request",) * 3 + ("reminder",) * 2 + ("reminded",) * 2 + ("reviewed",) * 2 + ("stopped",)
PENDING = ("request", "reminder")
INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


@contextlib.contextmanager
def sweep_stats() -> Iterator[list[Any]]:
    """The SweepStats run_sweep hands to dal.reviews.due (what it logs as items_read)."""
    from omotenashi.dal import reviews as review_data

    seen: list[Any] = []
    original = review_data.due

    def due(now: datetime, stats: Any) -> Any:
        seen.append(stats)
        return original(now, stats)

    review_data.due = due
    try:
        yield seen
    finally:
        review_data.due = original


@dataclasses.dataclass(frozen=True)
class Run:
    found: int  # due steps found (due()) or jobs enqueued (run_sweep)
    items_read: int  # SweepStats
    queries: int  # SweepStats
    pages: list[int]  # bytes of the projected attributes per Query request on the index
    seconds: float

    @property
    def units(self) -> float:
        return read_units(self.pages)


def main() -> None:
    fake_aws_environment()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from moto import mock_aws

    with mock_aws():
        import boto3

        from omotenashi import clock
        from omotenashi.dal import due_reminders
        from omotenashi.dal import orders as order_data
        from omotenashi.dal import reviews as review_data
        from omotenashi.logic import timers
        from omotenashi.logic.core import directory
        from omotenashi.logic.core.signing import sign_header
        from omotenashi.logic.reviews import requests
        from omotenashi.logic.reviews.settings import from_store
        from omotenashi_local.stack import LocalStack

        clock.set_source(lambda: START)
        stack = LocalStack()
        region = stack.resources.region
        table = stack.resources.tables["ReviewsTable"]
        dynamodb = boto3.resource("dynamodb", region_name=region).Table(table)
        client = boto3.client("dynamodb", region_name=region)
        settings = from_store(directory.require("demo"))

        definition = stack.resources.template["Resources"]["ReviewsTable"]["Properties"]
        [index] = [i for i in definition["GlobalSecondaryIndexes"] if i["IndexName"] == INDEX]
        projected = {k["AttributeName"] for k in definition["KeySchema"] + index["KeySchema"]}
        projected |= set(index["Projection"]["NonKeyAttributes"])

        def post(method: str, path: str, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Omotenashi-Store": "demo",
                "X-Omotenashi-Signature": sign_header(
                    stack.demo_secret, int(time.time()), method, path, data
                ),
            }
            status = int(stack.api(method, path, headers, data)["statusCode"])
            assert status in (200, 202), (path, status)

        def customer(kind: str) -> dict[str, str]:
            return {"id": f"TMPLCUST-{kind}", "email": f"tmpl-{kind}@example.jp", "name": "山田太郎"}

        def order_event(kind: str, type_: str, at: datetime, **extra: Any) -> None:
            body = {
                "order_id": f"TMPLORDER-{kind}",
                "type": type_,
                "customer": {**customer(kind), "locale": "ja"},
                "occurred_at": clock.isoformat(at),
                **extra,
            }
            if type_ == "placed":
                line = {"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}
                body.update(items=[line], currency="JPY", total="3240", shipping="0")
            post("POST", "/v1/events/orders", body)

        def delivered(kind: str, at: datetime) -> None:
            order_event(kind, "placed", at - timedelta(days=2))
            order_event(kind, "fulfilled", at - timedelta(days=1))
            order_event(kind, "delivered", at)

        def template_items(kind: str) -> list[dict[str, Any]]:
            """The kind's items: its order's, and (reviewed) its review, reward and customer rewards."""
            tokens = (f"TMPLORDER-{kind}", f"TMPLCUST-{kind}")
            items = dynamodb.scan(ConsistentRead=True)["Items"]  # a handful of items
            return [i for i in items if any(t in str(i["key"]) for t in tokens)]

        # -- one order of each kind through the real path ---------------------------------------------
        templates: dict[str, list[dict[str, Any]]] = {}
        for kind in ("reminder", "reminded", "reviewed", "stopped"):
            post(
                "PUT",
                f"/v1/customers/TMPLCUST-{kind}/consent",
                {
                    "email": f"tmpl-{kind}@example.jp",
                    "marketing_email": True,
                    "source": "checkout_checkbox",
                    "wording": "お知らせを受け取る",
                    "consented_at": clock.isoformat(START - timedelta(days=30)),
                },
            )
            delivered(kind, START)
        stack.drain()
        stack.advance(3 * 86400)
        order_event(
            "stopped", "refunded", clock.now(), refund_id="rf-1", refund_amount="3240", currency="JPY"
        )
        stack.drain()
        stack.advance(4 * 86400 + 60)  # day 7: the requests go, the reminders become pending
        templates["reminder"] = template_items("reminder")
        stack.advance(86400)
        review = {
            "review_id": "rv-TMPLORDER-reviewed",
            "order_id": "TMPLORDER-reviewed",
            "sku": "TEA-01",
            "customer": {"id": "TMPLCUST-reviewed", "email": "tmpl-reviewed@example.jp"},
            "rating": 5,
            "title": "香りが良い",
            "body": "また買います。",
            "submitted_at": clock.isoformat(clock.now()),
        }
        post("POST", "/v1/events/reviews", review)
        stack.drain()
        stack.advance(4 * 86400 + 120)  # day 12: the reminders go (not to the reviewed order)
        delivered("request", clock.now() - timedelta(days=1))
        stack.drain()
        for kind in ("request", "reminded", "reviewed", "stopped"):
            templates[kind] = template_items(kind)
        sent = [m["kind"] for m in stack.outbox() if m["kind"].startswith("review_")]
        assert sorted(sent) == ["review_reminder"] * 2 + ["review_request"] * 3 + ["review_reward"], sent
        histories = {kind: order_data.history("demo", f"TMPLORDER-{kind}") for kind in PENDING}
        facts = {kind: requests.OrderFacts.from_history(events) for kind, events in histories.items()}
        for items in templates.values():
            for item in items:
                dynamodb.delete_item(Key={"store_id": item["store_id"], "key": item["key"]})
        clock.set_source(lambda: NOW)

        orders = {
            kind: next(i for i in items if i["key"].startswith("order#")) for kind, items in templates.items()
        }
        assert set(orders["request"]) >= REMINDER_ATTRIBUTES and orders["request"]["reminder_step"] == 1
        assert "request_sent_at" not in orders["request"]
        assert set(orders["reminder"]) >= REMINDER_ATTRIBUTES and orders["reminder"]["reminder_step"] == 2
        assert {"request_sent_at", "reminder_sent_at"} <= set(orders["reminded"])
        assert {"request_sent_at", "reviewed_at"} <= set(orders["reviewed"])
        assert orders["stopped"]["stopped"] == "order_refunded"
        for kind in ("reminded", "reviewed", "stopped"):
            assert not any(REMINDER_ATTRIBUTES & set(item) for item in templates[kind]), kind
        # The reviewed order's review, reward and customer rewards items carry no index key either.
        assert len(templates["reviewed"]) == 4 and all(
            len(items) == 1 for k, items in templates.items() if k != "reviewed"
        )

        # -- copies (order items only) ---------------------------------------------------------------
        def anchor(order: dict[str, Any]) -> datetime:
            """The instant a copy is placed by: its due step, or (nothing pending) its delivery."""
            return clock.parse_instant(order.get("next_reminder_at", order["planned_basis"]))

        anchors = {kind: anchor(order) for kind, order in orders.items()}
        parsed = functools.lru_cache(maxsize=None)(clock.parse_instant)  # the templates' few instants

        def target(kind: str, i: int) -> datetime:
            if kind == "due":
                return NOW - timedelta(minutes=1 + i % 240)  # due 1 minute to 4 hours ago
            if kind == "request":
                return NOW + timedelta(seconds=60 + i * 97 % (7 * 86400 - 120))  # due within 7 days
            if kind == "reminder":
                return NOW + timedelta(seconds=60 + i * 97 % (5 * 86400 - 120))  # due within 5 days
            return NOW - timedelta(days=13, seconds=i * 97 % (47 * 86400))  # delivered 13-60 days ago

        def check(kind: str, order_id: str, item: dict[str, Any]) -> None:
            """The pending step is what the code plans for that delivery (and request sent)."""
            basis = clock.parse_instant(item["planned_basis"])
            source = "request" if kind == "due" else kind
            plan = requests.decide(
                settings, dataclasses.replace(facts[source], delivered_at=basis), reviewed=False, now=NOW
            )
            assert isinstance(plan, requests.Plan) and plan.basis == item["planned_basis"], plan
            steps = plan.steps
            if kind == "reminder":
                sent_at = clock.parse_instant(item["request_sent_at"])
                steps = requests.with_reminder(steps, sent_at, settings) or ()
            assert json.loads(item["reminder_plan"]) == [list(s) for s in steps], (item, steps)
            assert (item["reminder_step"], item["next_reminder_at"]) == steps[-1], (item, steps)
            assert item["reminder_shard"] == due_reminders.shard(order_id)
            assert (item["next_reminder_at"] <= clock.instant(NOW)) == (kind == "due"), item

        def copy(kind: str, i: int) -> dict[str, Any]:
            source = "request" if kind == "due" else kind
            order_id = f"{'due' if kind == 'due' else 'o'}-{i:07d}"
            delta = target(kind, i) - anchors[source]

            def moved(value: Any) -> Any:
                if not isinstance(value, str):
                    return value
                value = value.replace(f"TMPLORDER-{source}", order_id)
                return INSTANT.sub(lambda m: clock.instant(parsed(m.group()) + delta), value)

            template = orders[source]
            item = {name: moved(value) for name, value in template.items()}
            if "reminder_shard" in item:
                item["reminder_shard"] = due_reminders.shard(order_id)
                check(kind, order_id, item)
            assert set(item) == set(template) and "tmpl" not in repr(item).lower(), item
            return item

        def write(kinds: Iterator[tuple[str, int]]) -> None:
            with dynamodb.batch_writer() as batch:
                for kind, i in kinds:
                    batch.put_item(Item=copy(kind, i))

        def reset_due() -> None:
            write(("due", i) for i in range(DUE))  # as due as before a run moved them on

        def index_entries() -> int:
            return count_index_entries(client, table, INDEX, "reminder_shard", due_reminders.SHARDS)

        def iterate() -> Run:
            stats = review_data.SweepStats()
            with index_pages(projected) as pages:
                started = time.perf_counter()
                found = sum(1 for _ in review_data.due(NOW, stats))
                elapsed = time.perf_counter() - started
            return Run(found, stats.items_read, stats.queries, pages, elapsed)

        def sweep() -> Run:
            with sweep_stats() as seen, index_pages(projected) as pages:
                started = time.perf_counter()
                enqueued = requests.run_sweep(NOW)
                elapsed = time.perf_counter() - started
            [stats] = seen
            return Run(enqueued, stats.items_read, stats.queries, pages, elapsed)

        def measure(label: str, *, again: bool) -> tuple[Run, Run]:
            read, run = iterate(), sweep()
            for name, result, found in (("due()", read, "found"), ("run_sweep", run, "enqueued")):
                lead = f"{label:<40}: " if name == "due()" else " " * 42
                print(
                    f"{lead}{name:<9} {found} {result.found:4d}   "
                    f"items read {result.items_read:4d}   queries {result.queries}   "
                    f"est. {result.units:.1f} RCU ({sum(result.pages):,} bytes in {len(result.pages)} "
                    f"Query pages)   {result.seconds * 1000:,.0f} ms on moto"
                )
                assert result.found == DUE and result.items_read == DUE, (label, name, result)
                assert result.queries == due_reminders.SHARDS, (label, name, result)
            if again:  # each due step was moved on (out of the index until the request is sent)
                with sweep_stats() as second:
                    assert requests.run_sweep(NOW) == 0 and second[0].items_read == 0
            reset_due()
            return read, run

        assert index_entries() == 0  # the templates are gone
        reset_due()
        print(
            f"== Review request sweep cost (requests.run_sweep: Query on the sparse {INDEX} index of "
            f"ReviewsTable, {due_reminders.SHARDS} shards; never Scan) =="
        )
        alone = measure(f"{DUE} due alone", again=True)  # a second run at the same moment finds none

        background = ORDERS - DUE
        kinds = [KINDS[i % len(KINDS)] for i in range(background)]
        counts = {kind: kinds.count(kind) for kind in dict.fromkeys(KINDS)}
        started = time.perf_counter()
        write((kind, i) for i, kind in enumerate(kinds))
        written = time.perf_counter() - started
        entries = index_entries()
        pending = counts["request"] + counts["reminder"]
        print(
            f"(stored {background:,} delivered orders in {written:.0f} s with batch writes: "
            f"{counts['request']:,} request due within 7 days, {counts['reminder']:,} reminder due within "
            f"5 days, {counts['reminded']:,} reminded, {counts['reviewed']:,} reviewed, "
            f"{counts['stopped']:,} refunded)"
        )
        print(
            f"(due-reminders index entries: {entries:,} = {DUE} due + {pending:,} pending later; the "
            f"{background - pending:,} done orders carry no index key)"
        )
        assert entries == DUE + pending, entries
        loaded = measure(f"{ORDERS:,} delivered orders, {DUE} due", again=False)
        walk, walked = moto_table_walk(table, region, due_reminders.SHARDS, DUE + pending)

        # The whole every-minute run (SLA alerts, cart reminders, loyalty timers, review requests).
        started = time.perf_counter()
        result = timers.run_due(NOW)
        whole = time.perf_counter() - started
        assert result["review_requests_enqueued"] == DUE, result
        print(
            f"{'whole timers.run_due':<40}: review requests enqueued {result['review_requests_enqueued']}   "
            f"{whole * 1000:,.0f} ms on moto"
        )
        for name, a, b in (("due()", alone[0], loaded[0]), ("run_sweep", alone[1], loaded[1])):
            assert b.items_read == a.items_read, (name, a.items_read, b.items_read)
            assert b.queries == a.queries and len(b.pages) == len(a.pages), (name, a, b)
        print(
            f"items read: {alone[1].items_read} alone, {loaded[1].items_read} among {ORDERS:,} delivered "
            f"orders (goal: equal)   est. capacity {alone[1].units:.1f} and {loaded[1].units:.1f} RCU"
        )
        print()
        print(
            f"Why {loaded[1].seconds * 1000:,.0f} ms beside {alone[1].seconds * 1000:,.0f} ms for the same "
            f"{loaded[1].items_read} items read: moto's cost, not DynamoDB's."
        )
        print(
            "  moto answers a Query on an index by walking every item of the base table and sorting the\n"
            "  shard's entries (moto/dynamodb/models/table.py: Table.query loops over Table.all_items())\n"
            "  before applying `next_reminder_at <= now`: its time grows with the table."
        )
        print(
            f"  Timed here: that walk over the {walked:,} stored items, keeping and sorting each shard's "
            f"{DUE + pending:,} index entries in all,\n  once per shard ({due_reminders.SHARDS} Query "
            f"requests): {walk * 1000:,.0f} ms, against {(loaded[0].seconds - alone[0].seconds) * 1000:,.0f} "
            f"ms more in due() than with the {DUE} alone."
        )
        print(
            "  DynamoDB reads only the index's keys at or before now in each shard: the figures that "
            f"matter are items read ({loaded[1].items_read}) and RCU ({loaded[1].units:.1f})."
        )


if __name__ == "__main__":
    main()
