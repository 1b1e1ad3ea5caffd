"""POST /_local/clock/advance answers when the work it set off is done, also when a background
poller (make run) took a message the advance's own schedules enqueued before its drain saw it."""

from __future__ import annotations

import time

from tests.support import call, inquiry_body


def test_advance_waits_for_work_a_background_poller_is_running(stack, monkeypatch):
    from omotenashi.dal import mailer

    assert call(stack, "POST", "/v1/inquiries", inquiry_body()).status == 202
    stack.drain()  # the auto-reply
    real_send = mailer.send

    def slow_send(email):
        time.sleep(0.5)  # the staff reminder is still being sent when the advance drains
        return real_send(email)

    monkeypatch.setattr(mailer, "send", slow_send)
    stack.start_background()  # as make run: pollers wake when the sweep enqueues
    try:
        stack.advance(21 * 3600)  # the sweep enqueues the 4-hours-left reminder
        kinds = sorted(m["kind"] for m in stack.outbox())
        assert kinds == ["inquiry_auto_reply", "sla_reminder", "staff_new_inquiry"], kinds
    finally:
        stack.stop()
