"""The auto-reply email: content in ja and en, headers, loop protection and the hourly cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omotenashi import clock
from tests.integration.helpers import auto_replies
from tests.support import call, inquiry_body

PATH = "/v1/inquiries"
T0 = datetime(2026, 11, 20, 8, 30, 0, tzinfo=UTC)  # Friday 17:30 JST


@pytest.fixture
def fixed_clock():
    now = [T0]
    clock.set_source(lambda: now[0])
    yield now
    clock.set_source(None)


def _inquiry(stack, **overrides):
    reply = call(stack, "POST", PATH, inquiry_body(**overrides))
    assert reply.status == 202, reply.text
    stack.drain()
    return reply.json


def test_japanese_auto_reply(stack, fixed_clock):
    created = _inquiry(stack)
    [mail] = auto_replies(stack)
    assert mail["to"] == ["taro@example.jp"]
    assert mail["from"].endswith("<shop@demo.example>")
    assert created["inquiry_id"] in mail["subject"]
    assert "お問い合わせを受け付けました" in mail["subject"]
    for part in (mail["text"], mail["html"]):
        assert "山田太郎 様" in part
        assert created["inquiry_id"] in part
        assert "配送について" in part
        # due 2026-11-21 08:30 UTC = Saturday 17:30 JST
        assert "2026年11月21日(土) 17:30（日本時間）" in part
    assert mail["headers"]["X-Omotenashi-Kind"] == "inquiry_auto_reply"
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
    assert mail["kind"] == "inquiry_auto_reply"
    view = call(stack, "GET", f"{PATH}/{created['inquiry_id']}").json
    assert view["auto_reply"] == "sent"


def test_english_auto_reply_in_store_time_zone(stack, fixed_clock):
    body = inquiry_body()
    body["customer"] = {"email": "jane@example.com", "name": "Jane Doe", "locale": "en"}
    created = _inquiry(stack, **body)
    [mail] = auto_replies(stack)
    assert "We received your inquiry" in mail["subject"]
    assert created["inquiry_id"] in mail["subject"]
    assert "Dear Jane Doe," in mail["text"]
    assert "Saturday, November 21, 2026, 5:30 PM JST" in mail["text"]
    assert "Saturday, November 21, 2026, 5:30 PM JST" in mail["html"]


def test_html_is_escaped_text_is_not(stack, fixed_clock):
    _inquiry(stack, subject="<script>alert(1)</script> & more")
    [mail] = auto_replies(stack)
    assert "<script>" not in mail["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in mail["html"]
    assert "<script>alert(1)</script> & more" in mail["text"]


@pytest.mark.parametrize(
    ("customer_email", "headers", "reason"),
    [
        ("mailer-daemon@example.jp", None, "automated_sender"),
        ("no-reply@shop.example", None, "automated_sender"),
        ("taro@example.jp", {"Auto-Submitted": "auto-replied"}, "auto_submitted_header"),
        ("taro@example.jp", {"Precedence": "bulk"}, "bulk_precedence"),
        ("taro@example.jp", {"X-Autoreply": "yes"}, "autoresponder_header"),
        ("taro@example.jp", {"List-Id": "<news.example.jp>"}, "mailing_list"),
        ("shop@demo.example", None, "own_sender_address"),
    ],
)
def test_no_auto_reply_to_automated_mail(stack, customer_email, headers, reason):
    body = inquiry_body(channel="email")
    body["customer"]["email"] = customer_email
    if headers:
        body["headers"] = headers
    created = _inquiry(stack, **body)
    assert auto_replies(stack) == []
    assert call(stack, "GET", f"{PATH}/{created['inquiry_id']}").json["auto_reply"] == "suppressed"
    from omotenashi.dal import inquiries

    assert inquiries.get("demo", created["inquiry_id"]).auto_reply_reason == reason


def test_auto_submitted_no_is_a_person(stack):
    _inquiry(stack, channel="email", headers={"Auto-Submitted": "no"})
    assert len(auto_replies(stack)) == 1


def test_at_most_three_auto_replies_per_address_per_hour(stack, fixed_clock):
    ids = [_inquiry(stack, subject=f"質問 {i}")["inquiry_id"] for i in range(5)]
    assert len(auto_replies(stack)) == 3
    states = [call(stack, "GET", f"{PATH}/{i}").json["auto_reply"] for i in ids]
    assert states == ["sent", "sent", "sent", "suppressed", "suppressed"]
    # Another address is not affected.
    other = inquiry_body()
    other["customer"]["email"] = "hanako@example.jp"
    _inquiry(stack, **other)
    assert len(auto_replies(stack)) == 4
    # The window slides: an hour after the first three, the address gets replies again.
    fixed_clock[0] = T0 + timedelta(hours=1, seconds=1)
    _inquiry(stack, subject="一時間後")
    assert len(auto_replies(stack)) == 5


def test_address_case_does_not_escape_the_cap(stack, fixed_clock):
    for i, email in enumerate(["Taro@Example.jp", "taro@example.jp", "TARO@EXAMPLE.JP", "taro@EXAMPLE.jp"]):
        body = inquiry_body(subject=f"q{i}")
        body["customer"]["email"] = email
        _inquiry(stack, **body)
    assert len(auto_replies(stack)) == 3


def test_store_template_override(stack, tmp_path, monkeypatch):
    import shutil

    from omotenashi.messaging import templates
    from omotenashi.settings import reset_settings

    root = tmp_path / "templates"
    shutil.copytree(templates.templates_dir(), root)
    override = root / "stores" / "demo" / "inquiry_auto_reply" / "ja"
    override.mkdir(parents=True)
    (override / "subject.txt").write_text("【特製】{{ inquiry.id }} を承りました\n", encoding="utf-8")
    monkeypatch.setenv("OMOTENASHI_TEMPLATES_DIR", str(root))
    reset_settings()
    created = _inquiry(stack)
    [mail] = auto_replies(stack)
    assert mail["subject"] == f"【特製】{created['inquiry_id']} を承りました"
    assert "山田太郎 様" in mail["text"]  # the body falls back to the default template
