"""Control characters: refused in single-line fields and (but for line breaks and tabs) in bodies,
and never in an email's display names."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from pydantic import ValidationError

from omotenashi.messaging.mime import build_email, display_name
from omotenashi.messaging.templates import RenderedMessage
from omotenashi.schemas.inquiries import FollowUpIn, InquiryIn, ReplyIn

# VT, FF, NEL, line and paragraph separators, other C0/C1 controls, bidi overrides and isolates.
SINGLE_LINE_REFUSED = [
    "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x01", "\x1b", "\x7f", "\x9f", "\t", "\r", "\n", "\x00",
    "\u202e", "\u202d", "\u2066", "\u2069",
]  # fmt: skip
BODY_REFUSED = ["\x01", "\x1b", "\x7f", "\x9f", "\x00", "\x08"]
# Line breaks by another name (Word's manual break VT, FF, NEL, U+2028/9): kept as a line break.
BODY_LINE_BREAKS = ["\x0b", "\x0c", "\x85", "\u2028", "\u2029"]


def _inquiry(**overrides):
    body = {
        "customer": {"email": "a@b.jp", "name": "山田"},
        "channel": "chat",
        "subject": "s",
        "message": "m",
    }
    body.update(overrides)
    return InquiryIn.model_validate(body)


def _fields(error: ValidationError) -> list[str]:
    return [".".join(str(p) for p in e["loc"]) for e in error.errors()]


@pytest.mark.parametrize("character", SINGLE_LINE_REFUSED)
def test_single_line_fields_refuse_controls(character):
    with pytest.raises(ValidationError) as subject_error:
        _inquiry(subject=f"配送{character}について")
    assert _fields(subject_error.value) == ["subject"]
    assert f"U+{ord(character):04X}" in str(subject_error.value)
    with pytest.raises(ValidationError) as name_error:
        _inquiry(customer={"email": "a@b.jp", "name": f"山田{character}太郎"})
    assert _fields(name_error.value) == ["customer.name"]


@pytest.mark.parametrize("character", BODY_REFUSED)
def test_bodies_refuse_controls_other_than_line_breaks_and_tabs(character):
    text = f"いつ{character}届きますか"
    with pytest.raises(ValidationError) as error:
        _inquiry(message=text)
    assert _fields(error.value) == ["message"]
    with pytest.raises(ValidationError):
        ReplyIn.model_validate({"author": "sato@shop.example", "message": text})
    with pytest.raises(ValidationError):
        FollowUpIn.model_validate({"message": text})


@pytest.mark.parametrize("character", BODY_LINE_BREAKS)
def test_bodies_keep_other_line_breaks_as_line_breaks(character):
    text = f"いつ{character}届きますか"
    assert _inquiry(message=text).message == "いつ\n届きますか"
    assert FollowUpIn.model_validate({"message": text}).message == "いつ\n届きますか"


def test_folded_source_headers_are_unfolded_not_refused():
    folded = "from mx.example ([192.0.2.1])\r\n\tby mx.shop.example; Mon, 23 Nov 2026"
    model = _inquiry(channel="email", headers={"Received": folded})
    assert model.headers == {"Received": "from mx.example ([192.0.2.1]) by mx.shop.example; Mon, 23 Nov 2026"}
    with pytest.raises(ValidationError):
        _inquiry(channel="email", headers={"X-Bad": "a\r\nBcc: x@evil.example"})  # not folding


def test_what_real_text_holds_is_kept():
    body = "一行目\r\n二行目\n\t字下げ\n段落\u202e右から"  # bodies keep breaks, tabs, bidi marks
    name = "Ali\u200f \U0001f469\u200d\U0001f4bb Ōta-O'Brien"  # RLM, ZWJ emoji, accents, apostrophe
    model = _inquiry(message=body, subject="Re: 注文 #1001 😀", customer={"email": "a@b.jp", "name": name})
    assert model.message == body
    assert model.customer.name == name
    assert ReplyIn.model_validate({"author": "s@shop.example", "message": body}).message == body
    assert FollowUpIn.model_validate({"message": body}).message == body


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("山田\x0b太郎", "山田 太郎"),
        ("山田\u2028Bcc: x@evil.example", "山田 Bcc: x@evil.example"),
        ("a\x85b\r\nc\x00", "a b c"),
        ("\u202etxt.exe", "txt.exe"),
        ("\x0c\x0b", ""),
        (None, ""),
        ("山田 太郎", "山田 太郎"),
    ],
)
def test_display_names_never_carry_controls(raw, shown):
    assert display_name(raw) == shown
    email = build_email(
        kind="inquiry_auto_reply",
        sender="shop@demo.example",
        sender_name=raw,
        recipient="taro@example.jp",
        recipient_name=raw,
        rendered=RenderedMessage("件名", "本文", "<p>本文</p>"),
        reference="inq_1.demo",
        sent_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    parsed = message_from_bytes(email.raw_mime, policy=policy.default)
    assert parsed["To"].addresses[0].display_name == shown
    assert parsed["To"].addresses[0].addr_spec == "taro@example.jp"
    assert parsed["From"].addresses[0].display_name == shown
    assert "Bcc" not in parsed


@pytest.mark.parametrize("name", ["デモ\x0b店", "デモ\u2028店", "\u202eデモ店", "デモ\t店"])
def test_store_names_refuse_controls(name):
    from omotenashi.logic.core.store_admin import InvalidStore, create_store

    with pytest.raises(InvalidStore, match="name"):
        create_store(
            store_id="kyoto",
            name=name,
            sender="shop@kyoto.example",
            staff_addresses=("staff@kyoto.example",),
            default_locale="ja",
            time_zone="Asia/Tokyo",
            sla_hours=24,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
