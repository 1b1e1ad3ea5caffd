"""The sweep reads only what is due: one Query per shard of the sparse due index, never a Scan, so a
run when nothing is due reads no loyalty item however many customers have timers."""

from __future__ import annotations

import pytest

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.logic.core import directory
from omotenashi.logic.loyalty import accounts, schedule
from tests.integration.loyalty.helpers import (
    CUSTOMER,
    audit,
    ledger,
    send_order,
    start_at,
)
from tests.support import aws_calls

CUSTOMERS = 50
START = "2026-11-22T02:00:00Z"
# Points earned at the start (11:00 JST) expire at the end of 2027-11-22 JST, warned 30 days before.
WARNING = "2027-10-23T15:00:00Z"
CONFIRMATION = "2026-12-06T02:00:00Z"  # an order delivered at the start, 14 days on


@pytest.fixture
def sweeps(monkeypatch):
    """The stats of every loyalty sweep run from now on (what its Queries read)."""
    runs: list[loyalty_data.SweepStats] = []

    class Recorded(loyalty_data.SweepStats):
        def __init__(self) -> None:
            super().__init__()
            runs.append(self)

    monkeypatch.setattr(loyalty_data, "SweepStats", Recorded)
    return runs


def _many_customers(stack):
    """50 customers with available points (an expiry timer each), and one with a birthday and a
    delivered order.

    The points are a bonus credited through the loyalty orchestrator (the path of the birthday,
    review and survey rewards): cheaper than 50 orders, whose every transaction moto runs on a copy
    of the whole table. (A staff adjustment would be cheapest, but one for a customer without
    available points fails: see test_expiry.py.)"""
    store = directory.require("demo")
    for n in range(CUSTOMERS):
        assert accounts.credit_bonus(store, f"c-{n:03d}", "welcome", "bonus", 10, "welcome bonus")
    birthday = {**CUSTOMER, "id": "c-bday", "birthday": "11-25"}
    send_order(stack, order_id="o-bday", total="1000", customer=birthday)
    send_order(stack, order_id="o-bday", type_="delivered", occurred_at=START, customer=birthday)
    stack.drain()


def _to(when: str) -> None:
    """Move the business clock without running anything."""
    clock.advance((clock.parse_iso(when) - clock.now()).total_seconds())


def test_a_sweep_with_nothing_due_reads_no_loyalty_item_and_never_scans(stack, sweeps):
    start_at(START)
    _many_customers(stack)
    _to("2026-11-23T02:00:00Z")  # nothing due: the birthday on 11-25, the expiry warnings in 2027
    with aws_calls() as log:
        enqueued = schedule.run_sweep(clock.now())
    assert enqueued == 0
    assert [(s.queries, s.items_read) for s in sweeps] == [(loyalty_data.DUE_SHARDS, 0)]
    assert log.count("dynamodb", "Scan") == 0
    assert log.count("dynamodb", "Query") == loyalty_data.DUE_SHARDS
    assert len(log.calls) == loyalty_data.DUE_SHARDS, log.calls  # no read, write or send besides

    # The whole every-minute function (SLA alerts, cart reminders, loyalty): no Scan either.
    with aws_calls() as log:
        stack.advance(60)
    assert log.count("dynamodb", "Scan") == 0
    assert len(sweeps) == 2 and sweeps[-1].items_read == 0
    assert [m["kind"] for m in stack.outbox()] == ["tier_changed"]  # the birthday customer's welcome


def test_a_sweep_reads_what_is_due_and_the_run_takes_it_out_of_the_index(stack, sweeps):
    start_at(START)
    _many_customers(stack)
    _to("2026-11-25T00:00:00Z")  # 09:00 JST: the one birthday is the one thing due
    with aws_calls() as log:
        assert schedule.run_sweep(clock.now()) == 1
    assert sweeps[-1].items_read == 1 and log.count("dynamodb", "Scan") == 0
    stack.drain()
    assert [e["points"] for e in ledger(stack, "c-bday") if e["kind"] == "birthday"] == [100]
    schedule.run_sweep(clock.now())
    assert sweeps[-1].items_read == 0  # the birthday timer moved to next year

    _to(CONFIRMATION)  # the birthday customer's order: its confirmation is the one thing due
    assert schedule.run_sweep(clock.now()) == 1 and sweeps[-1].items_read == 1
    stack.drain()
    assert audit(stack, "c-bday")["available"] == 110
    schedule.run_sweep(clock.now())
    assert sweeps[-1].items_read == 0  # a confirmed order leaves the index

    # Every expiry warning at once (the birthday customer's is later: its last earning is the
    # confirmation): each read once.
    _to(WARNING)
    with aws_calls() as log:
        assert schedule.run_sweep(clock.now()) == CUSTOMERS
    assert sweeps[-1].items_read == CUSTOMERS and log.count("dynamodb", "Scan") == 0
    # A second sweep while those jobs wait on the queue: each timer is leased, none read again.
    assert schedule.run_sweep(clock.now()) == 0
    assert sweeps[-1].items_read == 0
