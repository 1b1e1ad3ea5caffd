"""The SLA engine end to end with the local clock: reminder, breach, escalations; replies and
closing stop them; overlapping sweeps and redelivery never duplicate an alert."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omotenashi import clock
from tests.support import aws_fault, call, inquiry_body

T0 = datetime(2026, 11, 16, 1, 0, 0, tzinfo=UTC)  # Monday 10:00 JST
HOUR = 3600


@pytest.fixture
def clocked(stack):
    clock.set_source(lambda: T0)
    yield stack
    clock.set_source(None)


def _kinds(stack, inquiry_id):
    return [m["kind"] for m in stack.outbox() if inquiry_id in m["subject"] and m["kind"].startswith("sla_")]


def _new_inquiry(stack, **overrides):
    reply = call(stack, "POST", "/v1/inquiries", inquiry_body(**overrides))
    assert reply.status == 202, reply.text
    stack.drain()
    return reply.json["inquiry_id"]


def test_reminder_breach_and_escalation_each_exactly_once(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    stack.advance(20 * HOUR - 60)
    assert _kinds(stack, inquiry_id) == []  # not before T+20h
    stack.advance(60)
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]
    stack.advance(60)
    stack.advance(4 * HOUR - 120)
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]
    stack.advance(60)  # T+24h
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]
    stack.advance(4 * HOUR - 60)  # T+28h - 1 min
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]
    stack.advance(60)  # T+28h
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach", "sla_escalation"]
    stack.advance(60)
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach", "sla_escalation"]
    # Then every 24 hours while unanswered (T+52h, T+76h), at most 3.
    for expected in (2, 3):
        stack.advance(24 * HOUR - 120)
        assert _kinds(stack, inquiry_id).count("sla_escalation") == expected - 1
        stack.advance(60)
        assert _kinds(stack, inquiry_id).count("sla_escalation") == expected
        stack.advance(60)
    for _ in range(3):
        stack.advance(24 * HOUR)
    assert _kinds(stack, inquiry_id).count("sla_escalation") == 3  # at most 3
    breach = next(m for m in stack.outbox() if m["kind"] == "sla_breach")
    assert "状況: 期限到達" in breach["text"]  # sent at the deadline: not "0 minutes left"
    escalations = [m for m in stack.outbox() if m["kind"] == "sla_escalation"]
    assert ["1回目" in escalations[0]["subject"], "3回目" in escalations[2]["subject"]] == [True, True]


def test_alert_content_for_staff(clocked):
    stack = clocked
    body = inquiry_body(
        subject="商品が破損していました", message="届いた花瓶が割れていました。\n写真を送ります。"
    )
    inquiry_id = _new_inquiry(stack, **body)
    stack.advance(4 * HOUR)  # high priority (classifier): due T+8h, reminder at T+4h
    [mail] = [m for m in stack.outbox() if m["kind"] == "sla_reminder"]
    assert mail["to"] == ["staff@demo.example"]
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
    for needle in (
        inquiry_id,
        "山田太郎",
        "taro@example.jp",
        "チャネル: お問い合わせフォーム",
        "商品が破損していました",
        "届いた花瓶が割れていました",
        "写真を送ります",
        "優先度: 高（理由: 破損・不良）",
        "受付日時: 2026年11月16日(月) 10:00（日本時間）",
        "返信期限: 2026年11月16日(月) 18:00（日本時間）",
        "状況: 残り4時間",
    ):
        assert needle in mail["text"], needle
        assert needle.split(": ")[-1] in mail["html"], needle
    assert "web_form" not in mail["text"] and "damaged_item" not in mail["text"]  # words, not codes


def test_reply_within_an_hour_means_no_alerts(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    stack.advance(HOUR)
    reply = call(
        stack,
        "POST",
        f"/v1/inquiries/{inquiry_id}/replies",
        {"author": "sato@shop.example", "message": "お問い合わせありがとうございます。明日発送します。"},
    )
    assert reply.status == 201, reply.text
    assert reply.json["reply_id"].startswith("rep_")
    stack.drain()
    view = call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json
    assert view["status"] == "answered"
    assert view["first_response_at"] == "2026-11-16T02:00:00Z"
    for _ in range(5):
        stack.advance(24 * HOUR)
    assert _kinds(stack, inquiry_id) == []
    [mail] = [m for m in stack.outbox() if m["kind"] == "inquiry_reply"]
    assert mail["to"] == ["taro@example.jp"]
    assert mail["subject"] == "Re: 配送について"
    assert "明日発送します" in mail["text"]
    [auto_reply] = [m for m in stack.outbox() if m["kind"] == "inquiry_auto_reply"]
    # Threaded under the auto-reply by the Message-ID SES gave it (SES replaces the one we set).
    assert auto_reply["headers"]["Message-ID"].endswith("@ap-northeast-1.amazonses.com>")
    assert mail["headers"]["In-Reply-To"] == auto_reply["headers"]["Message-ID"]
    assert mail["headers"]["References"] == auto_reply["headers"]["Message-ID"]
    assert "Auto-Submitted" not in mail["headers"]


def test_close_means_no_alerts(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    closed = call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close")
    assert closed.status == 200 and closed.json["status"] == "closed"
    for _ in range(4):
        stack.advance(24 * HOUR)
    assert _kinds(stack, inquiry_id) == []


def test_follow_up_reopens_the_clock(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    call(
        stack,
        "POST",
        f"/v1/inquiries/{inquiry_id}/replies",
        {"author": "sato@shop.example", "message": "はい"},
    )
    stack.advance(2 * HOUR)
    reopened = call(stack, "POST", f"/v1/inquiries/{inquiry_id}/messages", {"message": "追加の質問です"})
    assert reopened.status == 201 and reopened.json["status"] == "open"
    assert reopened.json["message_id"].startswith("msg_")
    assert reopened.json["reply_due_at"] == "2026-11-17T03:00:00Z"  # T+2h + 24h
    view = call(stack, "GET", f"/v1/inquiries/{inquiry_id}").json
    assert (view["status"], view["reply_due_at"]) == ("open", "2026-11-17T03:00:00Z")
    stack.advance(20 * HOUR)
    stack.advance(4 * HOUR)
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]
    # Staff see what the customer just asked, not the first message.
    breach = next(m for m in stack.outbox() if m["kind"] == "sla_breach")
    assert "追加の質問です" in breach["text"]
    assert "注文した商品はいつ届きますか" not in breach["text"]


def _overlapping_sweeps(monkeypatch, count: int):
    """Run `count` sweeps that all read the due-alerts index before any of them writes: what two
    schedule invocations running at the same moment see."""
    from omotenashi.dal import alerts
    from omotenashi.logic.inquiries import sla_sweep

    snapshot = list(alerts.due_alerts(clock.now(), alerts.SweepStats()))
    with monkeypatch.context() as patch:
        patch.setattr(sla_sweep.alert_data, "due_alerts", lambda now, stats: iter(snapshot))
        return [sla_sweep.run_sweep() for _ in range(count)]


def _message_queue_records(stack):
    import boto3

    queue = stack.resources.queues["MessageQueue"]
    messages = boto3.client("sqs").receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10)["Messages"]
    poller = next(p for p in stack.pollers if p.queue.logical_id == "MessageQueue")
    return poller, {"Records": [poller._record(m) for m in messages]}


def test_overlapping_sweeps_and_redelivery_send_each_alert_once(clocked, monkeypatch):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    clock.advance(20 * HOUR)
    first, second = _overlapping_sweeps(monkeypatch, 2)
    assert first.enqueued + second.enqueued == 1  # only one of them could move the plan on
    poller, event = _message_queue_records(stack)
    assert len(event["Records"]) == 2  # but both had enqueued the reminder first
    assert poller.pool.invoke(event) == {"batchItemFailures": []}
    assert poller.pool.invoke(event) == {"batchItemFailures": []}  # and SQS delivered both twice
    stack.drain()
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]
    stack.advance(4 * HOUR)  # the plan moved on exactly once: the breach comes on time, once
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]


def test_reply_between_a_sweeps_read_and_write_stops_the_alert(clocked, monkeypatch):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    clock.advance(20 * HOUR)
    from omotenashi.dal import alerts
    from omotenashi.logic.inquiries import sla_sweep

    snapshot = list(alerts.due_alerts(clock.now(), alerts.SweepStats()))
    reply = {"author": "sato@shop.example", "message": "ご回答します"}
    assert call(stack, "POST", f"/v1/inquiries/{inquiry_id}/replies", reply).status == 201
    with monkeypatch.context() as patch:
        patch.setattr(sla_sweep.alert_data, "due_alerts", lambda now, stats: iter(snapshot))
        sla_sweep.run_sweep()  # enqueues the reminder it read, but cannot move an answered plan
    for _ in range(4):
        stack.advance(24 * HOUR)
    assert _kinds(stack, inquiry_id) == []  # the worker drops the job: the inquiry is answered
    assert list(alerts.due_alerts(clock.now(), alerts.SweepStats())) == []  # not back in the index


def test_reply_after_the_reminder_stops_breach_and_escalations(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    stack.advance(20 * HOUR)
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]
    reply = {"author": "sato@shop.example", "message": "お待たせしました"}
    assert call(stack, "POST", f"/v1/inquiries/{inquiry_id}/replies", reply).status == 201
    for _ in range(4):
        stack.advance(24 * HOUR)
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]


def test_close_after_the_breach_stops_escalations(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    stack.advance(20 * HOUR)
    stack.advance(4 * HOUR)
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]
    assert call(stack, "POST", f"/v1/inquiries/{inquiry_id}/close").status == 200
    for _ in range(4):
        stack.advance(24 * HOUR)
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]


def test_failed_ses_call_delays_but_never_loses_or_duplicates_an_alert(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    clock.advance(20 * HOUR)
    with aws_fault("ses", "SendRawEmail") as failures:
        stack.run_schedules()
        stack.drain()
    assert failures[0] == 1
    stack.drain()
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]


def test_failed_enqueue_in_sweep_is_retried_next_minute(clocked):
    stack = clocked
    inquiry_id = _new_inquiry(stack)
    clock.advance(20 * HOUR)
    with aws_fault("sqs", "SendMessage"), pytest.raises(Exception):  # noqa: B017 - fails loudly, retried next run
        stack.run_schedules()
    stack.advance(60)
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]


def test_business_hours_reminder_counts_open_hours(stack, tmp_path):
    import json

    from omotenashi import cli

    policy = {
        "hours": {"high": 8},
        "calendar": {
            "type": "business_hours",
            "holidays": "JP",
            "hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy))
    assert (
        cli.main(
            [
                "stores",
                "set-policy",
                "demo",
                "--file",
                str(path),
                "--stores-table",
                stack.resources.tables["StoresTable"],
            ]
        )
        == 0
    )
    clock.set_source(lambda: datetime(2026, 11, 20, 8, 30, tzinfo=UTC))  # Fri 17:30 JST
    inquiry_id = _new_inquiry(stack, priority="high")  # due Tue 16:30 JST (Mon is a holiday)
    stack.advance(3 * 24 * HOUR + 18 * HOUR)  # Tue 11:30 JST: 4 open hours before 16:30 is 12:30
    assert _kinds(stack, inquiry_id) == []
    stack.advance(HOUR)
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]
    clock.set_source(None)


def _digest_store(stack, tmp_path, **extra):
    import json

    from omotenashi import cli

    policy = {
        **extra,
        "hours": {"high": 8},
        "morning_digest": True,
        "calendar": {
            "type": "business_hours",
            "holidays": "JP",
            "hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        },
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(policy))
    assert (
        cli.main(
            [
                "stores",
                "set-policy",
                "demo",
                "--file",
                str(path),
                "--stores-table",
                stack.resources.tables["StoresTable"],
            ]
        )
        == 0
    )
    clock.set_source(lambda: datetime(2026, 11, 13, 0, 0, tzinfo=UTC))  # Friday 09:00 JST


def test_morning_digest_holds_night_alerts_for_one_email_at_opening(stack, tmp_path):
    _digest_store(stack, tmp_path)
    inquiry_id = _new_inquiry(stack, priority="high")  # due Fri 17:00 JST
    stack.advance(4 * HOUR)  # 13:00 reminder (open)
    stack.advance(4 * HOUR)  # 17:00 breach (open)
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]
    stack.advance(4 * HOUR)  # 21:00 escalation: closed, held
    stack.advance(24 * HOUR)  # Sat 21:00: held
    stack.advance(24 * HOUR)  # Sun 21:00: held
    assert _kinds(stack, inquiry_id) == ["sla_reminder", "sla_breach"]
    stack.advance(12 * HOUR - 60)  # Mon 08:59
    assert [m for m in stack.outbox() if m["kind"] == "sla_digest"] == []
    stack.advance(60)  # Mon 09:00: opening
    digests = [m for m in stack.outbox() if m["kind"] == "sla_digest"]
    assert len(digests) == 1
    assert inquiry_id in digests[0]["text"] and "未返信" in digests[0]["subject"]
    stack.advance(3600)
    assert len([m for m in stack.outbox() if m["kind"] == "sla_digest"]) == 1
    clock.set_source(None)


def test_no_digest_when_answered_before_opening(stack, tmp_path):
    _digest_store(stack, tmp_path)
    inquiry_id = _new_inquiry(stack, priority="high")
    stack.advance(4 * HOUR)
    stack.advance(4 * HOUR)
    stack.advance(4 * HOUR)  # escalation held
    call(
        stack,
        "POST",
        f"/v1/inquiries/{inquiry_id}/replies",
        {"author": "sato@shop.example", "message": "遅くなりました"},
    )
    stack.advance(3 * 24 * HOUR)
    assert [m for m in stack.outbox() if m["kind"] == "sla_digest"] == []
    clock.set_source(None)


def _digests(stack):
    return [m for m in stack.outbox() if m["kind"] == "sla_digest"]


def test_digest_goes_to_escalation_addresses_only_when_it_holds_an_escalation(stack, tmp_path):
    _digest_store(stack, tmp_path, escalation={"max": 1, "addresses": ["manager@demo.example"]})
    clock.set_source(lambda: datetime(2026, 11, 13, 1, 0, tzinfo=UTC))  # Friday 10:00 JST
    inquiry_id = _new_inquiry(stack, priority="high")  # due Fri 18:00 JST: closing time
    stack.advance(4 * HOUR)  # 14:00: reminder
    stack.advance(4 * HOUR)  # 18:00: the breach comes at closing: held
    assert _kinds(stack, inquiry_id) == ["sla_reminder"]
    stack.advance(4 * HOUR)  # 22:00: the escalation, held too
    stack.advance(3 * 24 * HOUR - 13 * HOUR)  # Mon 09:00 JST
    digests = _digests(stack)
    assert sorted(d["to"][0] for d in digests) == ["manager@demo.example", "staff@demo.example"]
    assert all(inquiry_id in d["text"] for d in digests)
    clock.set_source(None)


def test_digest_without_escalation_goes_to_staff_only(stack, tmp_path):
    _digest_store(stack, tmp_path, escalation={"max": 0, "addresses": ["manager@demo.example"]})
    clock.set_source(lambda: datetime(2026, 11, 13, 1, 0, tzinfo=UTC))  # Friday 10:00 JST
    inquiry_id = _new_inquiry(stack, priority="high")
    stack.advance(4 * HOUR)
    stack.advance(4 * HOUR)
    stack.advance(3 * 24 * HOUR - 9 * HOUR)
    [digest] = _digests(stack)
    assert digest["to"] == ["staff@demo.example"]
    assert inquiry_id in digest["text"]
    clock.set_source(None)


def test_alert_arriving_after_its_digest_went_out_is_sent_on_its_own(stack, tmp_path):
    """The message worker saw the store closed (08:59:59) but the digest for 09:00 had already been
    read and sent: an alert it does not list goes out by itself; one it lists (a redelivered job)
    is not sent again."""
    from omotenashi.logic.inquiries import sla_emails
    from omotenashi.schemas.jobs import SlaAlertJob

    _digest_store(stack, tmp_path)
    inquiry_id = _new_inquiry(stack, priority="high")  # Fri 09:00 JST, due 17:00
    stack.advance(12 * HOUR)  # Fri 21:00: escalation #1 held
    stack.advance(24 * HOUR)  # Sat 21:00: escalation #2 held
    stack.advance(24 * HOUR)  # Sun 21:00: escalation #3 held
    stack.advance(12 * HOUR)  # Mon 09:00: the digest goes out
    assert len(_digests(stack)) == 1
    assert _kinds(stack, inquiry_id).count("sla_escalation") == 0
    clock.set_source(lambda: datetime(2026, 11, 15, 23, 59, 59, tzinfo=UTC))  # Mon 08:59:59 JST
    late_id = _new_inquiry(stack, priority="urgent")

    def job(inquiry: str, index: int, kind: str) -> SlaAlertJob:
        return SlaAlertJob.model_validate(
            {
                "store_id": "demo",
                "inquiry_id": inquiry,
                "sla_round": 0,
                "alert_index": index,
                "kind": kind,
                "due_at": "2026-11-13T12:00:00Z",
            }
        )

    assert sla_emails.deliver_alert(job(inquiry_id, 2, "sla_escalation")) == "held"  # in the digest
    assert _kinds(stack, inquiry_id).count("sla_escalation") == 0
    assert sla_emails.deliver_alert(job(late_id, 0, "sla_breach")) == "sent"  # never held: not lost
    assert _kinds(stack, late_id).count("sla_breach") == 1
    clock.set_source(None)
