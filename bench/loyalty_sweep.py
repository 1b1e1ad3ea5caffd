"""Loyalty sweep cost: items read by one run of the loyalty sweep (schedule.run_sweep: a Query per
shard of LoyaltyTable's sparse `due` index with `due_at <= now`, then a lease and a job per due
timer) with 100 customers whose timer is due alone, and beside 99,900 customers whose timer is not
due yet (100,000 customers in all). Goal: the same items read.

The timers are shaped as the code writes them. One customer goes through the real path first
(signed order events into the local stack's API function, the event worker, the return window on
the local clock, the sweep and the loyalty worker's confirmation), which leaves its "timer#expiry"
item: the points_expiring warning, due 30 days before the points expire. That item is read back
and removed, and every benchmark timer is a copy of it with its own account, shard (the code's
own dal.loyalty._shard), due time and expiry detail, written with batch writes (the API path takes
tens of milliseconds per customer on moto: 100,000 customers that way would take hours). The due
ones are warnings due 1 minute to 4 hours ago; the others fall due between tomorrow and 11 months
on, as the warnings of customers who earned points over the last year do. Only the timers are
written (a customer's balance, orders and entries carry no due-index key: DynamoDB never puts them
in the index; here they would only lengthen moto's walk below). The benchmark counts the index
entries.

Items read are counted three ways: the sweep's own SweepStats (what run_sweep logs as
items_read), the Count and ScannedCount of every Query response on the due index (a recorder on
botocore's BaseClient._make_api_call, which both boto3 and PynamoDB go through), and the jobs
enqueued. moto reports no consumed capacity, so the capacity figure is an estimate from the bytes
the Query pages returned (the projected attributes: keys and due_kind): per Query request,
ceil(bytes / 4 KB) x 0.5 RCU (a global secondary index is read eventually consistent).

The milliseconds are moto's, not DynamoDB's: moto answers a Query on an index by walking every
item of the base table (moto/dynamodb/models/table.py: Table.query loops over Table.all_items()),
so each of the 4 Query requests costs time in proportion to the whole table. The benchmark times
that walk and prints it beside the sweep. DynamoDB reads the index's own partition, only the keys
at or before `now` in each shard; what carries over is the items read and the read capacity.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from _common import fake_aws_environment
from _common import index_entries as count_index_entries
from sla_sweep import item_size, read_units

DUE = 100
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))  # with the due ones
INDEX = "due"
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
TIMER_ATTRIBUTES = {"account", "key", "due_shard", "due_at", "due_kind", "detail"}


@dataclass
class Page:
    count: int
    scanned: int
    size: int  # bytes of the projected attributes returned
    seconds: float  # moto's time for the request


class Pages(list[Page]):
    """The Query pages on the due index, and moto's time per operation of every call made."""

    def __init__(self) -> None:
        super().__init__()
        self.time_by_operation: dict[str, float] = {}
        self.calls_by_operation: dict[str, int] = {}


@contextlib.contextmanager
def index_queries(attributes: set[str]) -> Iterator[Pages]:
    """Every Query page on the due index (every botocore client): Count, ScannedCount, bytes."""
    import botocore.client

    pages = Pages()
    base: Any = botocore.client.BaseClient
    previous = base._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        started = time.perf_counter()
        response = previous(self, operation_name, api_params)
        elapsed = time.perf_counter() - started
        name = f"{self.meta.service_model.service_name}:{operation_name}"
        pages.time_by_operation[name] = pages.time_by_operation.get(name, 0.0) + elapsed
        pages.calls_by_operation[name] = pages.calls_by_operation.get(name, 0) + 1
        if operation_name == "Query" and api_params.get("IndexName") == INDEX:
            size = sum(item_size(item, attributes) for item in response.get("Items", []))
            pages.append(Page(response["Count"], response["ScannedCount"], size, elapsed))
        return response

    base._make_api_call = recording
    try:
        yield pages
    finally:
        base._make_api_call = previous


@contextlib.contextmanager
def sweep_stats() -> Iterator[list[Any]]:
    """The SweepStats each sweep run creates (what it logs as items_read)."""
    from omotenashi.dal import loyalty as loyalty_data

    made: list[Any] = []
    original = loyalty_data.SweepStats

    class Recorded(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    loyalty_data.SweepStats = Recorded  # type: ignore[misc]
    try:
        yield made
    finally:
        loyalty_data.SweepStats = original  # type: ignore[misc]


def moto_table_walk(table_name: str, region: str, shards: int, expected: int) -> tuple[float, int]:
    """Time of the work moto does for the sweep's Query requests, one per shard: walk every item of
    the base table (Table.all_items()), keep the shard's index entries, sort them by the index keys."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    moto_table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
    started = time.perf_counter()
    entries = 0
    for shard in (f"s{n}" for n in range(shards)):
        items = moto_table.all_items()
        kept = [
            i
            for i in items
            if i.attrs.get("due_shard") and i.attrs.get("due_at") and i.attrs["due_shard"].value == shard
        ]
        kept.sort(key=lambda i: (i.attrs["due_at"].value, i.range_key.value if i.range_key else ""))
        entries += len(kept)
    elapsed = time.perf_counter() - started
    assert entries == expected, (entries, expected)
    return elapsed, len(items)


@dataclass
class Run:
    enqueued: int
    items_read: int  # SweepStats
    queries: int  # SweepStats
    pages: list[Page]
    seconds: float

    @property
    def query_seconds(self) -> float:
        return sum(p.seconds for p in self.pages)

    @property
    def units(self) -> float:
        return read_units([p.size for p in self.pages])


def main() -> None:
    fake_aws_environment()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from moto import mock_aws

    with mock_aws():
        import boto3

        from omotenashi import clock
        from omotenashi.dal import loyalty as loyalty_data
        from omotenashi.logic.core.signing import sign_header
        from omotenashi.logic.loyalty import schedule, tiers
        from omotenashi.logic.loyalty.settings import DEFAULTS
        from omotenashi_local.stack import LocalStack

        clock.set_source(lambda: NOW - timedelta(days=340))  # the template earns 340 days ago
        stack = LocalStack()
        region = stack.resources.region
        table = stack.resources.tables["LoyaltyTable"]
        dynamodb = boto3.resource("dynamodb", region_name=region).Table(table)
        client = boto3.client("dynamodb", region_name=region)

        definition = stack.resources.template["Resources"]["LoyaltyTable"]["Properties"]
        [index] = [i for i in definition["GlobalSecondaryIndexes"] if i["IndexName"] == INDEX]
        projected = {k["AttributeName"] for k in definition["KeySchema"] + index["KeySchema"]}
        projected |= set(index["Projection"]["NonKeyAttributes"])

        def post(path: str, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Omotenashi-Store": "demo",
                "X-Omotenashi-Signature": sign_header(
                    stack.demo_secret, int(time.time()), "POST", path, data
                ),
            }
            status = int(stack.api("POST", path, headers, data)["statusCode"])
            assert status == 202, (path, status)

        # -- one customer through the real path: an order confirmed, its expiry timer set ------------
        start = clock.now()
        order = {"order_id": "tmpl-o1", "customer": {"id": "tmpl", "email": "tmpl@example.jp"}}
        post(
            "/v1/events/orders",
            {
                **order,
                "type": "placed",
                "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 1, "unit_price": "3240"}],
                "currency": "JPY",
                "total": "3240",
                "occurred_at": clock.isoformat(start - timedelta(days=2)),
            },
        )
        post(
            "/v1/events/orders",
            {**order, "type": "delivered", "occurred_at": clock.isoformat(start - timedelta(days=1))},
        )
        stack.drain()
        stack.advance(14 * 86400)  # the return window ends: sweep, confirmation, expiry timer
        earned_at = clock.now()
        account = loyalty_data.account_key("demo", "tmpl")
        key = {"account": account, "key": "timer#expiry"}
        template = dynamodb.get_item(Key=key, ConsistentRead=True)["Item"]
        assert set(template) == TIMER_ATTRIBUTES, template
        expiry = tiers.expires_at(earned_at, DEFAULTS, "Asia/Tokyo")
        assert expiry is not None
        assert template["due_kind"] == "warn" and template["detail"] == clock.instant(expiry), template
        assert template["due_at"] == clock.instant(expiry - timedelta(days=30)), template
        assert template["due_shard"] == loyalty_data._shard(account)
        dynamodb.delete_item(Key=key)
        clock.set_source(lambda: NOW)
        # The stack's other items (store, events, orders, the template customer's balance, order
        # record and entries) stay; none of them carries the index keys.

        def copy(i: int, due: bool) -> dict[str, Any]:
            customer = f"{'due' if due else 'cu'}-{i:07d}"
            account = loyalty_data.account_key("demo", customer)
            if due:
                warn = NOW - timedelta(minutes=1 + i % 240)  # due 1 minute to 4 hours ago
            else:
                warn = NOW + timedelta(days=1, seconds=i * 97 % (330 * 86400))  # tomorrow to 11 months on
            item = {
                **template,
                "account": account,
                "due_shard": loyalty_data._shard(account),
                "due_at": clock.instant(warn),
                "detail": clock.instant(warn + timedelta(days=30)),
            }
            assert set(item) == set(template)
            return item

        def write(items: Iterator[dict[str, Any]]) -> None:
            with dynamodb.batch_writer() as batch:
                for item in items:
                    batch.put_item(Item=item)

        def index_entries() -> int:
            return count_index_entries(client, table, INDEX, "due_shard", loyalty_data.DUE_SHARDS)

        def run(label: str) -> Run:
            with sweep_stats() as stats, index_queries(projected) as pages:
                started = time.perf_counter()
                enqueued = schedule.run_sweep(NOW)
                elapsed = time.perf_counter() - started
            [stat] = stats
            result = Run(enqueued, stat.items_read, stat.queries, pages, elapsed)
            counted = sum(p.count for p in pages)
            scanned = sum(p.scanned for p in pages)
            print(
                f"{label:<34}: enqueued {enqueued:4d}   items read {stat.items_read:4d} (SweepStats)   "
                f"Query Count {counted:4d}, ScannedCount {scanned:4d}"
            )
            print(
                f"{'':<34}  {len(pages)} Query requests on the index ({stat.queries} shard queries)   "
                f"est. {result.units:.1f} RCU ({sum(p.size for p in pages):,} bytes)   "
                f"{elapsed * 1000:,.0f} ms per run on moto"
            )
            print(
                f"{'':<34}  moto's time by call: "
                + ", ".join(
                    f"{pages.calls_by_operation[k]} x {k} {v * 1000:,.0f} ms"
                    for k, v in sorted(pages.time_by_operation.items())
                )
            )
            assert enqueued == DUE and stat.items_read == DUE and counted == DUE and scanned == DUE
            # Each due timer was leased an hour on: a second run at the same moment finds none.
            with sweep_stats() as again:
                assert schedule.run_sweep(NOW) == 0 and again[0].items_read == 0
            return result

        def reset_due() -> None:
            write(copy(i, due=True) for i in range(DUE))  # as due as before the run leased them

        assert index_entries() == 0  # the template's timer is gone; the confirmed order left the index
        reset_due()
        print(
            f"== Loyalty sweep cost (schedule.run_sweep: Query on the sparse `due` index, "
            f"{loyalty_data.DUE_SHARDS} shards; never Scan) =="
        )
        alone = run(f"{DUE} customers, all due")

        background = CUSTOMERS - DUE
        started = time.perf_counter()
        write(copy(i, due=False) for i in range(background))
        written = time.perf_counter() - started
        reset_due()
        entries = index_entries()
        print(
            f"(stored {background:,} not-due expiry timers in {written:.0f} s with batch writes; due index "
            f"entries now {entries:,} = {DUE} due + {background:,} due from tomorrow to 11 months on)"
        )
        assert entries == CUSTOMERS, entries
        loaded = run(f"{CUSTOMERS:,} customers, {DUE} due")
        walk, walked = moto_table_walk(table, region, loyalty_data.DUE_SHARDS, CUSTOMERS)

        # The whole every-minute run (SLA alerts, cart reminders, loyalty timers) for context.
        reset_due()
        from omotenashi.logic import timers

        with index_queries(projected) as pages:
            started = time.perf_counter()
            result = timers.run_due(NOW)
            whole = time.perf_counter() - started
        assert result["loyalty_timers_enqueued"] == DUE, result
        print(
            f"{'whole timers.run_due':<34}: loyalty timers enqueued {result['loyalty_timers_enqueued']}   "
            f"due-index items read {sum(p.count for p in pages)}   {whole * 1000:,.0f} ms on moto"
        )
        print(
            f"items read: {alone.items_read} alone, {loaded.items_read} beside {background:,} customers "
            f"not due (goal: equal)   est. capacity {alone.units:.1f} and {loaded.units:.1f} RCU"
        )
        print()
        print(
            f"Why {loaded.seconds * 1000:,.0f} ms beside {alone.seconds * 1000:,.0f} ms for the same "
            f"{loaded.items_read} items read: moto's cost, not DynamoDB's."
        )
        print(
            "  moto answers a Query on an index by walking every item of the base table and sorting the\n"
            "  shard's entries (moto/dynamodb/models/table.py: Table.query loops over Table.all_items())\n"
            "  before applying `due_at <= now`: its time grows with the table."
        )
        print(
            f"  Timed here: that walk over the {walked:,} stored items, keeping and sorting each shard's "
            f"entries, once per shard\n  ({loyalty_data.DUE_SHARDS} Query requests): {walk * 1000:,.0f} ms, "
            f"against {(loaded.query_seconds - alone.query_seconds) * 1000:,.0f} ms more in the sweep's "
            f"Query requests than with the {DUE} alone."
        )
        print(
            "  DynamoDB reads only the index's keys at or before now in each shard: the figures that "
            f"matter are items read ({loaded.items_read}) and RCU ({loaded.units:.1f})."
        )


if __name__ == "__main__":
    main()
