"""Earning: an order's points are pending from `placed`, available when the return window ends
(14 days after `delivered`), voided by a cancellation, reversed in proportion by refunds."""

from __future__ import annotations

from tests.integration.loyalty.helpers import audit, ledger, send_order, start_at

DAY = 86400


def test_placed_order_earns_pending_points_that_become_available_after_the_return_window(stack):
    start_at()
    send_order(stack, total="3240")
    stack.drain()
    balance = audit(stack)
    assert (balance["pending"], balance["available"], balance["tier"]) == (32, 0, "silver")
    send_order(stack, type_="delivered", occurred_at="2026-11-23T02:00:00Z")
    stack.advance(13 * DAY)
    assert audit(stack)["pending"] == 32
    stack.advance(2 * DAY)
    balance = audit(stack)
    assert (balance["pending"], balance["available"]) == (0, 32), balance
    assert balance["expiring"][0]["points"] == 32
    kinds = [e["kind"] for e in ledger(stack)]
    assert sorted(kinds) == ["confirm", "confirm", "earn"]
    emails = [m for m in stack.outbox() if m["kind"] in ("points_earned", "tier_changed")]
    assert sorted(m["kind"] for m in emails) == ["points_earned", "tier_changed"], emails


def test_cancel_voids_and_partial_refunds_add_up_exactly(stack):
    start_at()
    send_order(stack, order_id="o-1", total="1000")
    send_order(stack, order_id="o-2", total="1000")
    send_order(stack, order_id="o-1", type_="cancelled", occurred_at="2026-11-22T03:00:00Z")
    for refund_id, amount in (("r1", "333"), ("r2", "333"), ("r3", "334")):
        send_order(
            stack,
            order_id="o-2",
            type_="refunded",
            occurred_at="2026-11-22T04:00:00Z",
            refund_id=refund_id,
            refund_amount=amount,
        )
    stack.drain()
    balance = audit(stack)
    assert (balance["pending"], balance["available"]) == (0, 0), ledger(stack)
