"""Concurrent requests on one account: redemptions never take `available` below zero, repeats
apply once, and a change landing between a request's read and its write is retried (the answer
stays exact), never lost and never a 500/503.

The local stack runs one invocation at a time (INVOCATION_LOCK), so the threads below interleave
between invocations; the race inside one invocation is forced by a rival write."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.loyalty_domain import Entry, LedgerLine
from tests.integration.loyalty.helpers import (
    adjust,
    audit,
    cancel_redemption,
    earn_available,
    ledger,
    redeem,
    start_at,
)

THREADS = 20


def at_once(requests):
    """Run the request functions on as many threads, released together; their replies in order."""
    barrier = threading.Barrier(len(requests))

    def run(request):
        barrier.wait(timeout=30)
        return request()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests, timeout=120))


def test_twenty_concurrent_redemptions_against_five_worth_of_points(stack):
    start_at()
    earn_available(stack, 100)
    for round_ in range(3):  # three times: a race that passes once by luck fails here
        if round_:
            assert adjust(stack, f"top-up-{round_}", 100).json["available"] == 100
        ids = [f"rd-{round_}-{n}" for n in range(THREADS)]
        replies = at_once([lambda rid=rid: redeem(stack, rid, 20) for rid in ids])
        assert Counter(r.status for r in replies) == {201: 5, 409: 15}, [r.text for r in replies]
        refused = {r.json["error"]["type"] for r in replies if r.status == 409}
        assert refused == {"insufficient_points"}
        accepted = [r.json for r in replies if r.status == 201]
        assert sorted(a["available"] for a in accepted) == [0, 20, 40, 60, 80]
        balance = audit(stack)
        assert (balance["available"], balance["redeemable"]) == (0, 0)
        redeemed = {
            e["entry_id"] for e in ledger(stack) if e["kind"] == "redeem" and f"rd-{round_}-" in e["entry_id"]
        }
        assert redeemed == {f"redeem:{a['redemption_id']}" for a in accepted}


def test_concurrent_repeats_of_one_redemption_and_of_its_delete_apply_once(stack):
    start_at()
    earn_available(stack, 100)
    replies = at_once([lambda: redeem(stack, "rd-1", 30)] * 10)
    assert {(r.status, r.text) for r in replies} == {(201, replies[0].text)}
    assert replies[0].json["available"] == 70
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in replies) == 9
    cancels = at_once([lambda: cancel_redemption(stack, "rd-1")] * 10)
    assert {(r.status, r.text) for r in cancels} == {(200, cancels[0].text)}
    assert cancels[0].json["points_returned"] == 30
    entries = ledger(stack)
    assert sorted(e["kind"] for e in entries if e["kind"].startswith("rede")) == [
        "redeem",
        "redemption_cancel",
    ]
    assert audit(stack)["available"] == 100


def _rival_on_next_read(monkeypatch, points: int) -> list[str]:
    """On the next balance read, right after it, another request's deduction of `points` commits:
    the request that read goes on with a stale balance."""
    real = loyalty_data.get_account
    fired: list[str] = []

    def racing(store_id, customer_id):
        account = real(store_id, customer_id)
        if not fired:
            entry_id = f"adjust:rival-{len(fired)}-{points}"
            line = LedgerLine(
                Entry(entry_id, "adjust", -points, "available", None, "rival", "test"), clock.now()
            )
            loyalty_data.commit(
                loyalty_data.Commit(store_id, customer_id, lines=[line], min_available=points)
            )
            fired.append(entry_id)
        return account

    monkeypatch.setattr(loyalty_data, "get_account", racing)
    return fired


def test_a_change_between_read_and_write_is_retried_and_the_answer_stays_exact(stack, monkeypatch):
    start_at()
    earn_available(stack, 100)
    rivals = _rival_on_next_read(monkeypatch, 50)  # read 100, the rival leaves 50
    won = redeem(stack, "rd-1", 30)
    assert (won.status, won.json["available"]) == (201, 20), won.text  # not 70: read again
    assert rivals
    # Read 20 (15 fits), the rival leaves 10: the retry reads again and refuses.
    rivals = _rival_on_next_read(monkeypatch, 10)
    lost = redeem(stack, "rd-2", 15)
    assert lost.status == 409 and lost.json["error"]["type"] == "insufficient_points", lost.text
    assert rivals
    # The same for a deduction: read 10 (8 fits), the rival leaves 5.
    rivals = _rival_on_next_read(monkeypatch, 5)
    refused = adjust(stack, "adj-1", -8)
    assert refused.status == 409 and refused.json["error"]["type"] == "insufficient_points", refused.text
    assert rivals
    monkeypatch.undo()
    entries = ledger(stack)
    assert sorted(e["points"] for e in entries if e["reason"] in ("rival", "redeemed")) == [-50, -30, -10, -5]
    assert not [e for e in entries if e["entry_id"] in ("redeem:rd-2", "adjust:adj-1")]
    assert audit(stack)["available"] == 5


def test_twenty_lambdas_redeeming_at_once_against_moto_take_exactly_what_the_balance_covers(stack):
    """As many Lambda instances as threads: the logic runs truly concurrently (no invocation lock),
    each in its own thread, against the same moto tables; only the ledger's conditions decide."""
    from omotenashi.logic.core import directory
    from omotenashi.logic.core.errors import InsufficientPoints
    from omotenashi.logic.loyalty import accounts

    start_at()
    store = directory.require("demo")
    for round_ in range(3):
        customer = f"c-race-{round_}"
        accounts.adjust(store, customer, "seed", 100, "seed", "staff", "seed", None)

        def one(n: int, customer: str = customer) -> str:
            try:
                accounts.redeem(store, customer, f"rd-{n}", 20, None, f"rd-{n}", None)
                return "201"
            except InsufficientPoints:
                return "409"

        outcomes = Counter(at_once([lambda n=n: one(n) for n in range(THREADS)]))
        assert outcomes == Counter({"201": 5, "409": 15}), outcomes
        account = loyalty_data.get_account("demo", customer)
        lines = loyalty_data.all_lines("demo", customer)
        assert account is not None and account.available == 0
        assert sum(line.entry.points for line in lines if line.entry.bucket == "available") == 0


def test_redemptions_racing_refunds_of_their_order_keep_the_books(stack):
    """Redemptions naming an order, and the order's refunds applied by other instances, at once:
    whatever the interleaving, the books balance and no more comes back than was redeemed."""
    from omotenashi.logic.commerce import orders
    from omotenashi.logic.core import directory
    from omotenashi.logic.core.errors import InsufficientPoints
    from omotenashi.logic.loyalty import accounts
    from omotenashi.schemas.commerce import OrderEventIn

    start_at()
    store = directory.require("demo")
    accounts.adjust(store, "c-123", "seed", 1000, "seed", "staff", "seed", None)
    placed = {
        "order_id": "o-r",
        "type": "placed",
        "customer": {"id": "c-123"},
        "items": [{"sku": "A", "name": "a", "quantity": 1, "unit_price": "10000"}],
        "currency": "JPY",
        "total": "10000",
        "occurred_at": "2026-11-22T02:00:00Z",
    }
    orders.apply_order_event("demo", OrderEventIn.model_validate(placed))
    accounts.reconcile_order(store, "c-123", "o-r")

    def redemption(n: int):
        def go() -> str:
            try:
                accounts.redeem(store, "c-123", f"rd-{n}", 50, "o-r", f"rd-{n}", None)
                return "redeemed"
            except InsufficientPoints:
                return "refused"

        return go

    def refund(n: int):
        def go() -> str:
            event = {
                "order_id": "o-r",
                "type": "refunded",
                "customer": {"id": "c-123"},
                "refund_id": f"r{n}",
                "refund_amount": "1000",
                "currency": "JPY",
                "occurred_at": "2026-11-23T02:00:00Z",
            }
            orders.apply_order_event("demo", OrderEventIn.model_validate(event))
            accounts.reconcile_order(store, "c-123", "o-r")
            return "refunded"

        return go

    outcomes = Counter(at_once([redemption(n) for n in range(10)] + [refund(n) for n in range(5)]))
    assert outcomes["refunded"] == 5 and outcomes["redeemed"] == 10, outcomes
    accounts.reconcile_order(store, "c-123", "o-r")  # settle: whatever raced, the order is reconciled
    lines = loyalty_data.all_lines("demo", "c-123")
    account = loyalty_data.get_account("demo", "c-123")
    assert account is not None
    assert account.available == sum(line.entry.points for line in lines if line.entry.bucket == "available")
    assert account.pending == sum(line.entry.points for line in lines if line.entry.bucket == "pending")
    back = sum(line.entry.points for line in lines if line.entry.kind == "redemption_return")
    assert back == 500 * 5000 // 10000  # half the order refunded: half of the 500 redeemed points
    assert account.pending == 100 - 100 * 5000 // 10000
