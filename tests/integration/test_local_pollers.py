"""The local stack's SQS pollers: waiting costs nothing, and a message sent wakes them at once."""

from __future__ import annotations

import time

from tests.support import aws_calls, call, inquiry_body


def test_idle_pollers_wait_without_polling_and_wake_on_send(stack):
    with aws_calls() as log:
        stack.start_background()
        try:
            time.sleep(1.5)
            idle_receives = log.count("sqs", "ReceiveMessage")
            started = time.monotonic()
            body = inquiry_body(customer={"email": "wake@example.jp"}, external_id="wake-1")
            assert call(stack, "POST", "/v1/inquiries", body).status == 202
            while not stack.outbox() and time.monotonic() - started < 10:
                time.sleep(0.005)
            latency = time.monotonic() - started
        finally:
            stack.stop()
    # Each poller polls once when it starts, then sleeps until something is sent (it used to ask
    # every 20 ms: some 300 ReceiveMessage calls in these 1.5 s).
    assert idle_receives <= len(stack.pollers)
    assert [m["kind"] for m in stack.outbox()] == ["inquiry_auto_reply", "staff_new_inquiry"]
    assert latency < 2.0  # woken by the send, not by the 10-second safety re-poll


def test_a_delayed_message_wakes_its_poller_when_due(stack):
    from omotenashi.dal.aws import client

    queue = stack.pollers[0].queue
    received: list[float] = []
    original = stack.pollers[0].poll_once

    def counting(wait_seconds: int = 0) -> int:
        count = original(wait_seconds)
        if count:
            received.append(time.monotonic())
        return count

    stack.pollers[0].poll_once = counting  # type: ignore[method-assign]
    stack.pollers[0].start()
    try:
        time.sleep(0.3)
        sent = time.monotonic()
        client("sqs").send_message(QueueUrl=queue.url, MessageBody="{}", DelaySeconds=1)
        while not received and time.monotonic() - sent < 8:
            time.sleep(0.01)
    finally:
        stack.stop()
    assert received, "the delayed message was not received"
    assert 0.9 <= received[0] - sent < 3.0
