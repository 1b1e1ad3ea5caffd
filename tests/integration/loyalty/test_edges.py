"""Edges an independent review found, each pinned: a second expiry on the same date, a redemption's
return finished by the client's retry, a downgrade email after a failed enqueue, a birthday bonus
switched off and on, the programme off with a redemption at checkout, crafted cursors and ids, an
Idempotency-Key after its 24 hours, the strongly consistent history read, no address in a log."""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import botocore.client

from omotenashi import clock
from omotenashi.logic.core.store_admin import set_loyalty
from tests.integration.loyalty.helpers import (
    DAY,
    adjust_ok,
    advance_to,
    audit,
    cancel_redemption,
    confirmed_order,
    emails,
    ledger,
    loyalty,
    redeem,
    send_order,
    start_at,
)
from tests.support import aws_fault, call


@contextlib.contextmanager
def recorded_params(operation: str) -> Iterator[list[dict[str, Any]]]:
    base: Any = botocore.client.BaseClient
    previous = base._make_api_call
    seen: list[dict[str, Any]] = []

    def recording(self: Any, name: str, params: Any) -> Any:
        if name == operation:
            seen.append(dict(params))
        return previous(self, name, params)

    base._make_api_call = recording
    try:
        yield seen
    finally:
        base._make_api_call = previous


def test_the_event_worker_reads_the_order_history_strongly_consistent(stack):
    start_at()
    with recorded_params("Query") as queries:
        send_order(stack, total="3240")
        stack.drain()
    history = [
        q for q in queries if str(q.get("TableName", "")).endswith("OrdersTable") and "IndexName" not in q
    ]
    assert history and all(q.get("ConsistentRead") is True for q in history), history


def test_points_that_come_back_after_a_partial_expiry_expire_too_without_failing_jobs(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240")  # 32 available, expiring at the end of 2027-12-06 JST
    assert redeem(stack, "rd-1", 10).status == 201
    advance_to(stack, "2027-12-06T15:00:00Z")  # 22 expire
    assert [e["points"] for e in ledger(stack) if e["kind"] == "expire"] == [-22]
    assert cancel_redemption(stack, "rd-1").status == 200  # 10 come back, past their date
    stack.advance(120)
    balance = audit(stack)
    assert balance["available"] == 0 and balance["expiring"] == []
    assert sorted(e["points"] for e in ledger(stack) if e["kind"] == "expire") == [-22, -10]
    assert stack.queued() == 0


def test_a_redemption_whose_return_failed_is_finished_by_the_retry(stack):
    start_at()
    confirmed_order(stack, "o-1", "20000")  # 200 available
    send_order(stack, order_id="o-2", total="10000")
    send_order(
        stack,
        order_id="o-2",
        type_="refunded",
        occurred_at="2026-12-06T03:00:00Z",
        refund_id="r1",
        refund_amount="5000",
    )
    stack.drain()
    with aws_fault("dynamodb", "TransactGetItems"):  # the settling read after the redemption's write
        first = redeem(stack, "rd-1", 100, order_id="o-2")
    retried = redeem(stack, "rd-1", 100, order_id="o-2")
    assert retried.status == 201, retried.text
    returns = [e["points"] for e in ledger(stack) if e["kind"] == "redemption_return"]
    assert returns == [50], (first.status, ledger(stack))
    assert audit(stack)["available"] == 200 - 100 + 50


def test_a_downgrade_email_lost_to_a_failed_enqueue_goes_on_the_retry(stack):
    start_at()
    confirmed_order(stack, "o-1", "50000")  # gold
    assert loyalty(stack)["tier"] == "gold"
    leaving = clock.now() + timedelta(days=370)
    with aws_fault("sqs", "SendMessage", when=lambda p: "MessageQueue" in str(p.get("QueueUrl", ""))):
        advance_to(stack, leaving)
    stack.advance(3600)
    assert loyalty(stack)["tier"] == "silver"
    subjects = [m["subject"] for m in emails(stack, "tier_changed")]
    assert len(subjects) == 3, subjects  # joined (silver), up (gold), and the downgrade once
    assert sum("会員ランク変更" in s for s in subjects) == 1, subjects


def test_a_birthday_bonus_switched_off_and_on_comes_back_next_year(stack):
    start_at("2026-11-22T02:00:00Z")
    customer = {"id": "c-123", "email": "taro@example.jp", "birthday": "12-01"}
    send_order(stack, total="3240", customer=customer)
    stack.drain()
    set_loyalty("demo", {"birthday_points": 0})
    advance_to(stack, "2026-12-01T01:00:00Z")  # 10:00 JST on the birthday: off
    assert [e for e in ledger(stack) if e["kind"] == "birthday"] == []
    set_loyalty("demo", {})
    advance_to(stack, "2027-12-01T01:00:00Z")
    assert [e["points"] for e in ledger(stack) if e["kind"] == "birthday"] == [100]


def test_with_the_programme_off_an_order_redeemed_at_checkout_earns_nothing(stack):
    start_at()
    confirmed_order(stack, "o-1", "10000")  # 100 available
    set_loyalty("demo", {"enabled": False})
    assert redeem(stack, "rd-1", 30, order_id="o-9").status == 201  # before o-9's placed
    send_order(stack, order_id="o-9", total="50000", occurred_at=clock.isoformat(clock.now()))
    stack.drain()
    balance = audit(stack)
    assert (balance["available"], balance["pending"]) == (70, 0)
    assert [e for e in ledger(stack) if e["order_id"] == "o-9" and e["kind"] == "earn"] == []


def test_crafted_cursors_and_ids_are_refused_by_name_never_500(stack):
    start_at()
    nested = base64.urlsafe_b64encode(b"[" * 1400).decode()
    for cursor in (nested, "%%%", base64.urlsafe_b64encode(b'{"a": 1}').decode()):
        reply = call(stack, "GET", f"/v1/customers/c-123/loyalty/ledger?cursor={cursor}")
        assert reply.status == 422 and "cursor" in reply.text, reply.text
    reply = call(stack, "DELETE", "/v1/customers/c-123/loyalty/redemptions/" + "x" * 2000)
    assert reply.status in (404, 414), reply.text


def test_an_idempotency_key_may_be_used_afresh_after_24_hours(stack):
    start_at()
    adjust_ok(stack, "adj-0", 100)
    key = {"Idempotency-Key": "checkout-7"}
    first = call(
        stack,
        "POST",
        "/v1/customers/c-123/loyalty/redemptions",
        {"redemption_id": "rd-1", "points": 10},
        headers=key,
    )
    assert first.status == 201
    other = {"redemption_id": "rd-2", "points": 20}
    assert call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", other, headers=key).status == 409
    stack.advance(DAY + 60)
    later = call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", other, headers=key)
    assert later.status == 201, later.text
    assert audit(stack)["available"] == 70


def test_a_refused_request_logs_no_email_address(stack, caplog):
    caplog.set_level(logging.INFO)
    reply = call(stack, "GET", "/v1/customers/taro@example.jp/loyalty", secret="wrong-secret")
    assert reply.status == 401
    assert "taro@example.jp" not in caplog.text and "taro%40example.jp" not in caplog.text
