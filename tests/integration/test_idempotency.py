"""Duplicates: the same request three times and every queue message twice -> one inquiry, one email."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from omotenashi import clock
from tests.integration.helpers import auto_replies, item_count
from tests.support import call, create_other_store, inquiry_body

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
    create_other_store()
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


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Idempotency-Key": "daily-form"}, inquiry_body()),
        ({}, inquiry_body(external_id="form-77")),
    ],
    ids=["idempotency-key", "external_id"],
)
def test_keys_last_24_hours_then_are_free_again(stack, headers, body):
    """Within 24 h a repeat replays; after that the key names a new request (as with Stripe),
    whose own retries replay it, and a different body is no longer a conflict."""
    clock.set_source(lambda: datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    first = call(stack, "POST", PATH, body, headers=headers)
    clock.advance(24 * 3600 - 1)
    assert call(stack, "POST", PATH, body, headers=headers).json == first.json  # still within 24 h
    clock.advance(1)
    second = call(stack, "POST", PATH, body, headers=headers)
    assert second.status == 202 and "Idempotent-Replayed" not in second.headers
    assert second.json["inquiry_id"] != first.json["inquiry_id"]
    assert second.json["received_at"] == "2026-11-17T01:00:00Z"
    retry = call(stack, "POST", PATH, body, headers=headers)
    assert retry.json == second.json and retry.headers.get("Idempotent-Replayed") == "true"
    clock.advance(25 * 3600)
    third = call(stack, "POST", PATH, {**body, "subject": "別の件名"}, headers=headers)
    assert third.status == 202
    assert len({first.json["inquiry_id"], second.json["inquiry_id"], third.json["inquiry_id"]}) == 3
    assert item_count(stack, "InquiriesTable") == 3
    stack.drain()
    assert len(auto_replies(stack)) == 3
    # The first inquiry is still there, unchanged.
    assert (
        call(stack, "GET", f"{PATH}/{first.json['inquiry_id']}").json["received_at"]
        == first.json["received_at"]
    )
    clock.set_source(None)


def test_reply_key_lasts_24_hours(stack):
    inquiry_id = call(stack, "POST", PATH, inquiry_body()).json["inquiry_id"]
    path = f"{PATH}/{inquiry_id}/replies"
    body = {"author": "sato@shop.example", "message": "確認します"}
    key = {"Idempotency-Key": "reply-key"}
    first = call(stack, "POST", path, body, headers=key)
    assert call(stack, "POST", path, body, headers=key).json == first.json
    clock.advance(24 * 3600)
    later = call(stack, "POST", path, body, headers=key)
    assert later.status == 201 and later.json["reply_id"] != first.json["reply_id"]
    stack.drain()
    assert len([m for m in stack.outbox() if m["kind"] == "inquiry_reply"]) == 2
    clock.set_source(None)
