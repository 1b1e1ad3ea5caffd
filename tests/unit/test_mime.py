from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from omotenashi.messaging.mime import build_email
from omotenashi.messaging.templates import RenderedMessage


def test_multipart_with_headers_and_encoded_japanese():
    email = build_email(
        kind="inquiry_auto_reply",
        sender="shop@demo.example",
        sender_name="デモ店",
        recipient="taro@example.jp",
        recipient_name="山田太郎",
        rendered=RenderedMessage("件名テスト", "本文", "<p>本文</p>"),
        reference="inq_1.demo",
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    raw = email.raw_mime
    assert b"\xe4" not in raw.split(b"\r\n\r\n", 1)[0]  # headers are 7-bit (RFC 2047)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "件名テスト"
    assert parsed["X-Omotenashi-Kind"] == "inquiry_auto_reply"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"] == "<inquiry_auto_reply.inq_1.demo@demo.example>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed.get_body(("plain",)).get_content().strip() == "本文"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>本文</p>"
    assert email.recipients == ("taro@example.jp",)


def test_the_store_rides_along_as_a_header_and_on_the_email():
    """SES hands the header back in bounce and complaint notifications (logic/marketing/bounces)."""
    common = {
        "kind": "cart_reminder",
        "sender": "shop@demo.example",
        "sender_name": "デモ店",
        "recipient": "taro@example.jp",
        "recipient_name": None,
        "rendered": RenderedMessage("件名", "本文", "<p>本文</p>"),
        "reference": "c-1",
        "sent_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    email = build_email(**common, store_id="demo")
    assert email.store_id == "demo"
    assert message_from_bytes(email.raw_mime, policy=policy.default)["X-Omotenashi-Store"] == "demo"
    bare = build_email(**common)
    assert bare.store_id is None
    assert "X-Omotenashi-Store" not in message_from_bytes(bare.raw_mime, policy=policy.default)
