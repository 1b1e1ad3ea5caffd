"""A failure of any single AWS call delays the auto-reply but loses nothing and duplicates nothing."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.integration.helpers import auto_replies, item_count, queue_depth
from tests.support import aws_fault, call, inquiry_body

PATH = "/v1/inquiries"


def _accept(stack, key="fault-key"):
    reply = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": key})
    assert reply.status == 202, reply.text
    return reply.json["inquiry_id"]


def _state(stack, inquiry_id):
    return call(stack, "GET", f"{PATH}/{inquiry_id}").json["auto_reply"]


def _redeliver_now(stack):
    """Failed messages come back at once in tests (no back-off); run the consumers until idle."""
    stack.drain()


WORKER_CALLS = [
    ("dynamodb", "GetItem"),  # inquiry, rate window, delivery state
    ("dynamodb", "PutItem"),  # rate window, delivery claim
    ("dynamodb", "UpdateItem"),  # delivery record, inquiry outcome
    ("ses", "SendRawEmail"),
]


@pytest.mark.parametrize(("service", "operation"), WORKER_CALLS)
@pytest.mark.parametrize(
    "code", ["ThrottlingException", "InternalServerError", "ProvisionedThroughputExceededException"]
)
def test_single_worker_failure_delays_but_never_loses_or_duplicates(stack, service, operation, code):
    inquiry_id = _accept(stack)
    with aws_fault(service, operation, code=code) as failures:
        stack.drain()
    assert failures[0] == 1
    _redeliver_now(stack)
    assert len(auto_replies(stack, inquiry_id)) == 1
    assert _state(stack, inquiry_id) == "sent"
    _redeliver_now(stack)
    assert len(auto_replies(stack, inquiry_id)) == 1


@pytest.mark.parametrize("which", [1, 2])
def test_each_update_failing_once(stack, which):
    """The worker makes two UpdateItem calls after sending (the delivery record, then the inquiry);
    fail each in turn: neither may cause a second email."""
    inquiry_id = _accept(stack)
    seen = [0]

    def nth_update(_params):
        seen[0] += 1
        return seen[0] == which

    with aws_fault("dynamodb", "UpdateItem", when=nth_update) as failures:
        stack.drain()
    assert failures[0] == 1
    _redeliver_now(stack)
    [mail] = auto_replies(stack, inquiry_id)
    assert _state(stack, inquiry_id) == "sent"
    # The redelivery still records SES's id, which staff replies thread under.
    from omotenashi.dal import inquiries

    assert inquiries.get("demo", inquiry_id).auto_reply_message_id == mail["id"]


def test_ses_throttled_then_released_claim_also_fails(stack):
    """Two failures in a row (SES, then releasing the claim): a redelivery inside the lease waits,
    one after the lease sends. Driven by direct invocations so the timing is the test's own."""
    from datetime import timedelta

    from omotenashi import clock
    from omotenashi.logic.core.delivery import LEASE

    inquiry_id = _accept(stack)
    poller = stack.pollers[0]
    sqs = boto3.client("sqs")
    [message] = sqs.receive_message(QueueUrl=poller.queue.url, MaxNumberOfMessages=10)["Messages"]
    event = {"Records": [poller._record(message)]}
    failed_batch = {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}

    with aws_fault("ses", "SendRawEmail"), aws_fault("dynamodb", "DeleteItem") as failed:
        assert poller.pool.invoke(event) == failed_batch
    assert failed[0] == 1
    assert _state(stack, inquiry_id) == "pending"
    # Redelivered while the (dead) claim's lease runs: retried later, nothing sent.
    assert poller.pool.invoke(event) == failed_batch
    assert auto_replies(stack, inquiry_id) == []
    clock.advance((LEASE + timedelta(seconds=1)).total_seconds())
    assert poller.pool.invoke(event) == {"batchItemFailures": []}
    assert poller.pool.invoke(event) == {"batchItemFailures": []}
    assert len(auto_replies(stack, inquiry_id)) == 1


def test_api_enqueue_failure_answers_503_writes_nothing_and_retry_recovers(stack):
    with aws_fault("sqs", "SendMessage") as failures:
        reply = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": "retry-me"})
    assert failures[0] == 1
    assert reply.status == 503
    assert reply.headers.get("Retry-After")
    assert item_count(stack, "InquiriesTable") == 0  # withdrawn: a 503 leaves no partial write
    retry = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": "retry-me"})
    assert retry.status == 202
    assert item_count(stack, "InquiriesTable") == 1
    stack.drain()
    assert len(auto_replies(stack)) == 1


def test_enqueue_and_withdraw_both_failing_still_loses_nothing_on_retry(stack):
    with aws_fault("sqs", "SendMessage"), aws_fault("dynamodb", "DeleteItem"):
        reply = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": "twice-unlucky"})
    assert reply.status == 503
    assert item_count(stack, "InquiriesTable") == 1  # stranded, but the retry finds it
    retry = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": "twice-unlucky"})
    assert retry.status == 202
    stack.drain()
    assert len(auto_replies(stack)) == 1


def test_message_for_withdrawn_inquiry_is_skipped_not_dead_lettered(stack):
    sqs = boto3.client("sqs")
    queue = stack.resources.queues["InquiryQueue"]
    sqs.send_message(
        QueueUrl=queue.url, MessageBody=json.dumps({"store_id": "demo", "inquiry_id": "inq_gone"})
    )
    stack.drain()
    assert queue_depth(stack) == 0
    assert auto_replies(stack) == []


def test_api_store_failure_answers_503_and_writes_nothing(stack):
    with aws_fault("dynamodb", "PutItem"):
        reply = call(stack, "POST", PATH, inquiry_body())
    assert reply.status == 503
    assert item_count(stack, "InquiriesTable") == 0
    assert queue_depth(stack) == 0


def test_poison_message_lands_in_dead_letter_queue(stack):
    sqs = boto3.client("sqs")
    queue = stack.resources.queues["InquiryQueue"]
    dlq = stack.resources.queues["InquiryDeadLetterQueue"]
    sqs.send_message(QueueUrl=queue.url, MessageBody="{not json")
    sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps({"store_id": "demo"}))
    good = _accept(stack)
    for _ in range(8):  # more rounds than maxReceiveCount (5)
        _redeliver_now(stack)
    dead = sqs.receive_message(QueueUrl=dlq.url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in dead) == sorted(["{not json", json.dumps({"store_id": "demo"})])
    assert len(auto_replies(stack, good)) == 1
    assert queue_depth(stack) == len(dead)  # only the DLQ still holds messages


def test_staff_reply_for_a_vanished_store_is_kept_for_a_person_not_dropped(stack, caplog):
    """Like the auto-reply and alerts: the job fails visibly (retries, then the DLQ), so nobody
    believes a customer was answered when no email went out."""
    inquiry_id = _accept(stack, key="vanishing-store")
    _redeliver_now(stack)
    reply = {"author": "sato@shop.example", "message": "ご回答します"}
    assert call(stack, "POST", f"{PATH}/{inquiry_id}/replies", reply).status == 201
    boto3.client("dynamodb").delete_item(
        TableName=stack.resources.tables["StoresTable"], Key={"store_id": {"S": "demo"}}
    )
    from omotenashi.logic.core.directory import directory

    directory.clear()
    for _ in range(8):  # more rounds than maxReceiveCount (5)
        _redeliver_now(stack)
    dlq = stack.resources.queues["MessageDeadLetterQueue"]
    dead = boto3.client("sqs").receive_message(QueueUrl=dlq.url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["type"] for m in dead] == ["inquiry_reply"]
    assert not [m for m in stack.outbox() if m["kind"] == "inquiry_reply"]
    # Each failed attempt is logged (Powertools' batch processor, through our logger), not silent.
    failures = [r for r in caplog.records if r.name == "omotenashi" and r.levelname == "WARNING"]
    assert any("store demo not found" in (r.exc_text or r.getMessage()) for r in failures)
