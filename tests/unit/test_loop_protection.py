from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omotenashi.domain import Customer, Inquiry, Store
from omotenashi.logic.inquiries.loop_protection import automated_reason

STORE = Store("demo", "Demo", "shop@demo.example", (), "ja", "Asia/Tokyo", 24)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _inquiry(email="taro@example.jp", headers=None, channel="email"):
    return Inquiry(
        store_id="demo",
        inquiry_id="inq_1",
        customer=Customer(email=email),
        locale="ja",
        channel=channel,
        subject="s",
        message="m",
        priority="normal",
        status="open",
        received_at=NOW,
        reply_due_at=NOW,
        request_hash="h",
        accepted_response="{}",
        source_headers=headers or {},
    )


@pytest.mark.parametrize(
    "email",
    [
        "MAILER-DAEMON@x.jp",
        "postmaster@x.jp",
        "noreply@x.jp",
        "no-reply+abc@x.jp",
        "do-not-reply@x.jp",
        "bounces@x.jp",
        "bounce-123@x.jp",
    ],
)
def test_automated_senders(email):
    assert automated_reason(_inquiry(email=email), STORE) == "automated_sender"


@pytest.mark.parametrize(
    "email", ["taro@example.jp", "noreplyfan@example.jp", "info@example.jp", "replyme@x.jp"]
)
def test_people(email):
    assert automated_reason(_inquiry(email=email), STORE) is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"auto-submitted": "auto-generated"}, "auto_submitted_header"),
        ({"AUTO-SUBMITTED": "Auto-Replied"}, "auto_submitted_header"),
        ({"Precedence": "junk"}, "bulk_precedence"),
        ({"X-Autorespond": "1"}, "autoresponder_header"),
        ({"X-Auto-Response-Suppress": "OOF, AutoReply"}, "auto_response_suppressed"),
        ({"List-Unsubscribe": "<mailto:x@y>"}, "mailing_list"),
        ({"Return-Path": "<>"}, "null_return_path"),
        ({"X-Omotenashi-Kind": "inquiry_auto_reply"}, "own_message"),
        ({"Auto-Submitted": "no", "Precedence": "first-class"}, None),
    ],
)
def test_headers(headers, reason):
    assert automated_reason(_inquiry(headers=headers), STORE) == reason
