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
    from omotenashi.logic.core.store_admin import create_store

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


def _reply(stack, inquiry_id, key=None, message="確認いたします。"):
    headers = {"Idempotency-Key": key} if key else None
    body = {"author": "sato@shop.example", "message": message}
    return call(stack, "POST", f"/v1/inquiries/{inquiry_id}/replies", body, headers=headers)


def _follow_up(stack, inquiry_id, message="追加で質問です", key=None):
    headers = {"Idempotency-Key": key} if key else None
    return call(stack, "POST", f"/v1/inquiries/{inquiry_id}/messages", {"message": message}, headers=headers)


def _view(stack, inquiry_id):
    return call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json


def _inquiry_updates(stack):
    table = stack.resources.tables["InquiriesTable"]
    return lambda params: params.get("TableName") == table


def test_follow_up_is_idempotent_by_key(stack, inquiry_id):
    assert _reply(stack, inquiry_id).status == 201
    clock.advance(3600)
    first = _follow_up(stack, inquiry_id, key="fu-1")
    assert first.status == 201, first.text
    assert _view(stack, inquiry_id)["status"] == "open"
    assert _reply(stack, inquiry_id).status == 201  # staff answer the follow-up
    clock.advance(3600)
    again = _follow_up(stack, inquiry_id, key="fu-1")  # the storefront retries the same request
    assert (again.status, again.json) == (first.status, first.json)
    assert again.headers.get("Idempotent-Replayed") == "true"
    view = _view(stack, inquiry_id)
    assert view["status"] == "answered"  # the retry did not open a third round
    assert view["reply_due_at"] == first.json["reply_due_at"]
    conflict = _follow_up(stack, inquiry_id, message="別の内容", key="fu-1")
    assert conflict.status == 409
    assert conflict.json["error"]["type"] == "idempotency_conflict"


def test_follow_up_on_closed_inquiry_opens_it_without_closed_at(stack, inquiry_id):
    call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close")
    clock.advance(3600)
    reopened = _follow_up(stack, inquiry_id)
    assert reopened.status == 201 and reopened.json["status"] == "open"
    view = _view(stack, inquiry_id)
    assert (view["status"], view["closed_at"]) == ("open", None)
    assert view["reply_due_at"] == reopened.json["reply_due_at"]


def test_follow_up_whose_reopening_failed_is_completed_by_the_retry(stack, inquiry_id):
    _reply(stack, inquiry_id)
    clock.advance(3600)
    with aws_fault("dynamodb", "UpdateItem", when=_inquiry_updates(stack)) as failures:
        assert _follow_up(stack, inquiry_id, key="fu-503").status == 503
    assert failures[0] == 1
    assert _view(stack, inquiry_id)["status"] == "answered"  # stored, not yet applied
    retried = _follow_up(stack, inquiry_id, key="fu-503")
    assert retried.status == 201
    view = _view(stack, inquiry_id)
    assert (view["status"], view["reply_due_at"]) == ("open", retried.json["reply_due_at"])


def test_reply_retry_in_a_later_round_still_stops_the_clock(stack, inquiry_id):
    """Round 1 (after a follow-up): the reply is stored, stopping the clock fails (503), the
    storefront retries: the retry must stop the clock although first_response_at is long set."""
    _reply(stack, inquiry_id)
    clock.advance(3600)
    _follow_up(stack, inquiry_id)
    assert _view(stack, inquiry_id)["status"] == "open"
    with aws_fault("dynamodb", "UpdateItem", when=_inquiry_updates(stack)):
        assert _reply(stack, inquiry_id, key="r2").status == 503
    assert _view(stack, inquiry_id)["status"] == "open"
    assert _reply(stack, inquiry_id, key="r2").status == 201
    assert _view(stack, inquiry_id)["status"] == "answered"
    stack.drain()
    assert len(_replies(stack)) == 2


def test_no_threading_headers_when_no_auto_reply_went_out(stack):
    body = inquiry_body(customer={"email": "mailer-daemon@example.jp"}, channel="email")
    inquiry_id = call(stack, "POST", "/v1/inquiries", body).json["inquiry_id"]
    stack.drain()
    assert _view(stack, inquiry_id)["auto_reply"] == "suppressed"
    assert _reply(stack, inquiry_id).status == 201
    stack.drain()
    [mail] = _replies(stack)
    assert "In-Reply-To" not in mail["headers"] and "References" not in mail["headers"]


def _stale_first_read(monkeypatch, snapshot):
    """The request's first read of the inquiry returns `snapshot`: it read just before another
    request changed the inquiry (the race, made deterministic)."""
    from omotenashi.logic.inquiries import views

    real = views.inquiry_or_404
    reads = []

    def first_read_stale(store, inquiry_id, **options):
        reads.append(inquiry_id)
        return snapshot if len(reads) == 1 else real(store, inquiry_id, **options)

    monkeypatch.setattr(views, "inquiry_or_404", first_read_stale)


def _stored(inquiry_id):
    from omotenashi.dal import inquiries as inquiry_data

    return inquiry_data.get("demo", inquiry_id, consistent=True)


def test_concurrent_follow_ups_both_count_and_answer_the_real_deadline(stack, inquiry_id, monkeypatch):
    assert _reply(stack, inquiry_id).status == 201
    answered = _stored(inquiry_id)  # answered, round 0
    clock.advance(60)
    first = _follow_up(stack, inquiry_id, "FIRST")
    clock.advance(60)
    _stale_first_read(monkeypatch, answered)  # the second read before the first reopened it
    second = _follow_up(stack, inquiry_id, "SECOND (newer)", key="fu-second")
    assert second.status == 201, second.text
    stored = _stored(inquiry_id)
    assert stored.sla_round == 1  # one new round, not two
    assert stored.latest_message == "SECOND (newer)"  # staff alerts quote the newest message
    assert second.json["reply_due_at"] == first.json["reply_due_at"] == clock.isoformat(stored.reply_due_at)
    monkeypatch.undo()
    assert _follow_up(stack, inquiry_id, "SECOND (newer)", key="fu-second").json == second.json


def test_follow_up_decided_before_a_staff_reply_opens_the_next_round(stack, inquiry_id, monkeypatch):
    open_inquiry = _stored(inquiry_id)  # open, round 0
    clock.advance(60)
    assert _reply(stack, inquiry_id).status == 201  # staff answer after the follow-up read
    _stale_first_read(monkeypatch, open_inquiry)
    late = _follow_up(stack, inquiry_id, "まだ質問があります", key="fu-late")
    assert late.status == 201
    stored = _stored(inquiry_id)
    assert (stored.status, stored.sla_round) == ("open", 1)  # the customer still waits for an answer
    assert late.json["reply_due_at"] == clock.isoformat(stored.reply_due_at)
    monkeypatch.undo()
    assert _follow_up(stack, inquiry_id, "まだ質問があります", key="fu-late").json == late.json
    assert _stored(inquiry_id).sla_round == 1


def test_reply_written_before_a_follow_up_does_not_answer_the_new_round(stack, inquiry_id, monkeypatch):
    assert _reply(stack, inquiry_id).status == 201
    answered = _stored(inquiry_id)  # answered, round 0
    clock.advance(60)
    assert _follow_up(stack, inquiry_id, "追加").status == 201
    _stale_first_read(monkeypatch, answered)  # a second staff reply read before the follow-up
    assert _reply(stack, inquiry_id, message="補足です").status == 201
    stored = _stored(inquiry_id)
    assert (stored.status, stored.sla_round) == ("open", 1)  # round 1 still needs its answer
    assert stored.alert_index == 0  # and its alerts still run


def test_follow_up_on_an_inquiry_that_vanished_creates_nothing(stack):
    from omotenashi.dal import inquiries as inquiry_data

    at = clock.now()
    assert not inquiry_data.record_latest_message("demo", "inq_gone", sla_round=0, message="x", at=at)
    assert _stored("inq_gone") is None
