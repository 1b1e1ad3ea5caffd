"""Duplicates: the same request three times and every queue message twice -> one inquiry, one email."""

from __future__ import annotations

import boto3

from tests.integration.helpers import auto_replies, item_count
from tests.support import call, inquiry_body

PATH = "/v1/inquiries"


def _deliver_every_message_twice(stack) -> int:
    """Receive each visible message and hand it to the worker twice, as SQS at-least-once may."""
    sqs = boto3.client("sqs")
    delivered = 0
    for poller in stack.pollers:
        while True:
            messages = sqs.receive_message(QueueUrl=poller.queue.url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                break
            event = {"Records": [poller._record(m) for m in messages]}
            for _ in range(2):
                result = poller.pool.invoke(event)
                assert result == {"batchItemFailures": []}
                delivered += len(messages)
            for message in messages:
                sqs.delete_message(QueueUrl=poller.queue.url, ReceiptHandle=message["ReceiptHandle"])
    return delivered


def test_same_request_three_times_with_key(stack):
    headers = {"Idempotency-Key": "7c1f9a5e-form-submit"}
    replies = [call(stack, "POST", PATH, inquiry_body(), headers=headers) for _ in range(3)]
    assert [r.status for r in replies] == [202, 202, 202]
    assert replies[0].text == replies[1].text == replies[2].text
    assert "Idempotent-Replayed" not in replies[0].headers
    assert replies[1].headers.get("Idempotent-Replayed") == "true"
    assert item_count(stack, "InquiriesTable") == 1
    assert _deliver_every_message_twice(stack) >= 2
    assert len(auto_replies(stack)) == 1


def test_same_request_three_times_with_external_id(stack):
    body = inquiry_body(external_id="form-9f2c")
    replies = [call(stack, "POST", PATH, body) for _ in range(3)]
    assert {r.text for r in replies} == {replies[0].text}
    assert item_count(stack, "InquiriesTable") == 1
    _deliver_every_message_twice(stack)
    assert len(auto_replies(stack)) == 1


def test_replay_after_processing_returns_original_body_and_sends_nothing(stack):
    headers = {"Idempotency-Key": "k-1"}
    first = call(stack, "POST", PATH, inquiry_body(), headers=headers)
    stack.drain()
    assert len(auto_replies(stack)) == 1
    again = call(stack, "POST", PATH, inquiry_body(), headers=headers)
    assert (again.status, again.text) == (first.status, first.text)
    stack.drain()
    assert len(auto_replies(stack)) == 1


def test_key_order_and_whitespace_do_not_make_a_different_body(stack):
    headers = {"Idempotency-Key": "k-2"}
    body = inquiry_body()
    first = call(stack, "POST", PATH, raw=_dumps(body, indent=None), headers=headers)
    reordered = dict(reversed(list(body.items())))
    second = call(stack, "POST", PATH, raw=_dumps(reordered, indent=2), headers=headers)
    assert second.status == 202 and second.text == first.text


def _dumps(value, indent):
    import json

    return json.dumps(value, ensure_ascii=False, indent=indent).encode()


def test_keys_are_scoped_per_store(stack):
    from omotenashi import clock
    from omotenashi.logic.stores import create_store

    create_store(
        store_id="other",
        name="Other",
        sender="shop@other.example",
        staff_addresses=(),
        default_locale="en",
        time_zone="UTC",
        sla_hours=24,
        now=clock.now(),
        secret_value="other-secret",
    )
    headers = {"Idempotency-Key": "shared-key"}
    a = call(stack, "POST", PATH, inquiry_body(), headers=headers).json
    b = call(
        stack,
        "POST",
        PATH,
        inquiry_body(subject="other"),
        headers=headers,
        store="other",
        secret="other-secret",
    )
    assert b.status == 202
    assert a["inquiry_id"] != b.json["inquiry_id"]


def test_without_any_key_each_request_is_new(stack):
    call(stack, "POST", PATH, inquiry_body())
    call(stack, "POST", PATH, inquiry_body())
    assert item_count(stack, "InquiriesTable") == 2


def test_header_key_takes_precedence_over_external_id(stack):
    body = inquiry_body(external_id="ext-1")
    a = call(stack, "POST", PATH, body, headers={"Idempotency-Key": "a"}).json
    b = call(stack, "POST", PATH, body, headers={"Idempotency-Key": "b"}).json
    assert a["inquiry_id"] != b["inquiry_id"]


def test_idempotency_header_name_is_case_insensitive(stack):
    for name in ("idempotency-key", "IDEMPOTENCY-KEY", "Idempotency-key"):
        assert call(stack, "POST", PATH, inquiry_body(), headers={name: "same"}).status == 202
    assert item_count(stack, "InquiriesTable") == 1


def test_openapi_documents_the_idempotency_header(stack):
    document = call(stack, "GET", "/v1/openapi.json", sign=False).json
    parameters = document["paths"]["/v1/inquiries"]["post"].get("parameters", [])
    assert any(p["name"].lower() == "idempotency-key" and p["in"] == "header" for p in parameters)
