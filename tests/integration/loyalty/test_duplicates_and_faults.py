"""The ledger under repeats and failures: every request three times, every stream record and queue
message twice, and an AWS call that fails (before it happens, or after it happened with its answer
lost) anywhere on an order's way to the ledger and its email. The ledger ends exact, each entry and
each email once; a failed transaction is retried, never half-applied."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.exceptions import ClientError

from tests.integration.loyalty.helpers import audit, ledger, order_event, send_order, start_at
from tests.integration.test_commerce_duplicates import _replay_stream
from tests.support import aws_fault, call

DAY = 86400


def _three_times(stack: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    replies = [call(stack, method, path, body) for _ in range(3)]
    assert len({r.status for r in replies}) == 1, [r.text for r in replies]
    assert len({r.text for r in replies}) == 1, [r.text for r in replies]
    return replies[0].status, replies[0].json


def _double_queue(stack: Any, logical: str) -> int:
    """Copy every message waiting on the queue once (SQS delivers at least once)."""
    sqs = boto3.client("sqs")
    url = stack.resources.queues[logical].url
    seen = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    for message in seen:
        sqs.send_message(QueueUrl=url, MessageBody=message["Body"])
    return len(seen)


def _emails(stack: Any, *kinds: str) -> Counter[str]:
    return Counter(m["kind"] for m in stack.outbox() if m["kind"] in kinds)


def test_everything_twice_or_three_times_applies_once(stack):
    start_at()
    for type_, extra in (
        ("placed", {"total": "10000"}),
        ("delivered", {"occurred_at": "2026-11-23T02:00:00Z"}),
        ("refunded", {"occurred_at": "2026-11-24T02:00:00Z", "refund_id": "r1", "refund_amount": "2500"}),
    ):
        status, _ = _three_times(stack, "POST", "/v1/events/orders", order_event(type_=type_, **extra))
        assert status == 202
    stack.drain()
    assert _replay_stream(stack) == 3
    stack.drain()
    assert audit(stack)["pending"] == 75  # 100 earned, a quarter refunded
    stack.advance(15 * DAY - 60)
    stack.run_schedules()
    stack.run_schedules()  # overlapping sweeps: the lease lets one enqueue the confirmation
    assert _double_queue(stack, "LoyaltyQueue") <= 1
    stack.drain()
    _double_queue(stack, "MessageQueue")
    stack.drain()
    stack.advance(60)
    balance = audit(stack)
    assert (balance["available"], balance["pending"]) == (75, 0)

    status, first = _three_times(
        stack, "POST", "/v1/customers/c-123/loyalty/redemptions", {"redemption_id": "rd-1", "points": 30}
    )
    assert status == 201 and first["available"] == 45
    status, _ = _three_times(stack, "DELETE", "/v1/customers/c-123/loyalty/redemptions/rd-1")
    assert status == 200
    adjustment = {"adjustment_id": "adj-1", "points": 5, "reason": "お詫び", "author": "sato@shop.example"}
    assert _three_times(stack, "POST", "/v1/customers/c-123/loyalty/adjustments", adjustment)[0] == 201
    stack.drain()

    kinds = Counter(e["kind"] for e in ledger(stack))
    assert kinds == Counter(
        {"earn": 1, "reverse": 1, "confirm": 2, "redeem": 1, "redemption_cancel": 1, "adjust": 1}
    ), kinds
    assert audit(stack)["available"] == 80
    assert _emails(stack, "points_earned", "tier_changed") == Counter({"points_earned": 1, "tier_changed": 1})


@contextlib.contextmanager
def answer_lost(operation: str, *, when: Any = None, times: int = 1) -> Iterator[list[int]]:
    """The call happens, then its answer is lost (a timeout after the service applied it)."""
    base: Any = botocore.client.BaseClient
    previous = base._make_api_call
    lost = [0]

    def flaky(self: Any, operation_name: str, api_params: Any) -> Any:
        result = previous(self, operation_name, api_params)
        if operation_name == operation and lost[0] < times and (when is None or when(api_params)):
            lost[0] += 1
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "answer lost"}}, operation_name
            )
        return result

    base._make_api_call = flaky
    try:
        yield lost
    finally:
        base._make_api_call = previous


def _fault(kind: str, operation: str, service: str = "dynamodb", when: Any = None) -> Any:
    if kind == "before":
        return aws_fault(service, operation, when=when)
    return answer_lost(operation, when=when)


def _to_queue(logical: str):
    return lambda params: logical in str(params.get("QueueUrl", ""))


@pytest.mark.parametrize("kind", ["before", "after"])
@pytest.mark.parametrize(
    ("phase", "operation", "service", "when"),
    [
        ("placed", "TransactWriteItems", "dynamodb", None),  # the event worker's ledger write
        ("placed", "TransactGetItems", "dynamodb", None),
        ("placed", "SendMessage", "sqs", _to_queue("MessageQueue")),  # the tier_changed notice
        ("confirm", "TransactWriteItems", "dynamodb", None),  # the loyalty worker's confirmation
        ("confirm", "SendMessage", "sqs", _to_queue("MessageQueue")),  # the points_earned notice
        ("confirm", "SendMessage", "sqs", _to_queue("LoyaltyQueue")),  # the sweep's enqueue
    ],
)
def test_a_failed_call_on_the_way_loses_nothing_and_doubles_nothing(
    stack, kind, phase, operation, service, when
):
    start_at()
    fault = _fault(kind, operation, service, when)
    if phase == "placed":
        with fault as failures:
            send_order(stack, total="5000")
            stack.drain()
        assert failures[0] == 1
        send_order(stack, type_="delivered", occurred_at="2026-11-23T02:00:00Z")
        stack.drain()
        stack.advance(15 * DAY)
    else:
        send_order(stack, total="5000")
        send_order(stack, type_="delivered", occurred_at="2026-11-23T02:00:00Z")
        stack.drain()
        stack.advance(15 * DAY - 120)
        with fault as failures:
            stack.advance(120)
        assert failures[0] == 1
    for _ in range(3):
        stack.advance(3600)  # a lease that ran out brings a lost timer back
    balance = audit(stack)
    assert (balance["available"], balance["pending"]) == (50, 0), ledger(stack)
    assert Counter(e["kind"] for e in ledger(stack)) == Counter({"earn": 1, "confirm": 2})
    assert _emails(stack, "points_earned", "tier_changed") == Counter({"points_earned": 1, "tier_changed": 1})


@pytest.mark.parametrize("kind", ["before", "after"])
def test_a_redemption_whose_transaction_fails_is_retried_by_the_client_and_applies_once(stack, kind):
    start_at()
    adjustment = {"adjustment_id": "adj-1", "points": 100, "reason": "welcome", "author": "sato@shop.example"}
    assert call(stack, "POST", "/v1/customers/c-123/loyalty/adjustments", adjustment).status == 201
    body = {"redemption_id": "rd-1", "points": 60}
    with _fault(kind, "TransactWriteItems"):
        failed = call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", body)
    assert failed.status == 503, failed.text  # retry the same request
    retried = call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", body)
    assert retried.status == 201 and retried.json["available"] == 40, retried.text
    assert audit(stack)["available"] == 40
    assert [e["kind"] for e in ledger(stack)].count("redeem") == 1
