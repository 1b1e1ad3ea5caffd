"""Staff replies, close and follow-ups through the API: validation, isolation, idempotency."""

from __future__ import annotations

import pytest

from omotenashi import clock
from tests.support import aws_fault, call, inquiry_body


@pytest.fixture
def inquiry_id(stack):
    created = call(stack, "POST", "/v1/inquiries", inquiry_body()).json
    stack.drain()
    return created["inquiry_id"]


def _replies(stack):
    return [m for m in stack.outbox() if m["kind"] == "inquiry_reply"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "hi"}, "author"),
        ({"author": "not-an-email", "message": "hi"}, "author"),
        ({"author": "sato@shop.example"}, "message"),
        ({"author": "sato@shop.example", "message": ""}, "message"),
        ({"author": "sato@shop.example", "message": "x" * 20001}, "message"),
    ],
)
def test_reply_validation(stack, inquiry_id, body, field):
    reply = call(stack, "POST", f"/v1/inquiries/{inquiry_id}/replies", body)
    assert reply.status == 422
    assert field in [f["field"] for f in reply.json["error"]["fields"]]
    stack.drain()
    assert _replies(stack) == []


def test_reply_to_unknown_or_foreign_inquiry_is_404(stack, inquiry_id):
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
    body = {"author": "x@other.example", "message": "hijack"}
    assert (
        call(
            stack, "POST", f"/v1/inquiries/{inquiry_id}/replies", body, store="other", secret="other-secret"
        ).status
        == 404
    )
    assert (
        call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close", store="other", secret="other-secret").status
        == 404
    )
    assert call(stack, "POST", "/v1/inquiries/inq_nothere/replies", body).status == 404
    stack.drain()
    assert _replies(stack) == []
    assert call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json["status"] == "open"


def test_reply_idempotency(stack, inquiry_id):
    path = f"/v1/inquiries/{inquiry_id}/replies"
    body = {"author": "sato@shop.example", "message": "発送しました。"}
    key = {"Idempotency-Key": "reply-1"}
    first = call(stack, "POST", path, body, headers=key)
    again = call(stack, "POST", path, body, headers=key)
    assert first.status == again.status == 201
    assert first.json == again.json
    assert call(stack, "POST", path, {**body, "message": "別の内容"}, headers=key).status == 409
    stack.drain()
    assert len(_replies(stack)) == 1


def test_second_reply_keeps_first_response_time(stack, inquiry_id):
    path = f"/v1/inquiries/{inquiry_id}/replies"
    call(stack, "POST", path, {"author": "sato@shop.example", "message": "一通目"})
    first = call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json["first_response_at"]
    clock.advance(3600)
    call(stack, "POST", path, {"author": "sato@shop.example", "message": "二通目"})
    assert call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json["first_response_at"] == first
    stack.drain()
    assert len(_replies(stack)) == 2


def test_reply_on_closed_inquiry_keeps_it_closed(stack, inquiry_id):
    call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close")
    reply = call(
        stack,
        "POST",
        f"/v1/inquiries/{inquiry_id}/replies",
        {"author": "sato@shop.example", "message": "ご連絡まで"},
    )
    assert reply.status == 201
    view = call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json
    assert view["status"] == "closed" and view["first_response_at"] is not None


def test_reply_enqueue_failure_is_503_and_retry_sends_once(stack, inquiry_id):
    path = f"/v1/inquiries/{inquiry_id}/replies"
    body = {"author": "sato@shop.example", "message": "発送しました。"}
    with aws_fault("sqs", "SendMessage"):
        assert call(stack, "POST", path, body, headers={"Idempotency-Key": "r-503"}).status == 503
    assert call(stack, "POST", path, body, headers={"Idempotency-Key": "r-503"}).status == 201
    stack.drain()
    assert len(_replies(stack)) == 1


def test_close_is_idempotent(stack, inquiry_id):
    first = call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close")
    second = call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close")
    assert first.status == second.status == 200
    assert first.json["closed_at"] == second.json["closed_at"]


def test_follow_up_on_open_inquiry_keeps_the_deadline(stack, inquiry_id):
    before = call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json["reply_due_at"]
    clock.advance(3600)
    after = call(stack, "POST", f"/v1/inquiries/{inquiry_id}/messages", {"message": "追記です"}).json
    assert after["reply_due_at"] == before
