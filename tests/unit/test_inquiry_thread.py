"""The conversation as people read it (logic/inquiries/thread.py) and the staff reply email's
templates: order, authors, display names, the quote as of a reply, both parts in ja and en."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omotenashi.domain import Attachment, ConversationEntry, Customer, Inquiry, Store
from omotenashi.logic.inquiries import thread
from omotenashi.messaging import templates
from tests.unit.html_balance import balanced

T0 = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
STORE = Store(
    store_id="demo",
    name="デモ店",
    sender="shop@demo.example",
    staff_addresses=("staff@demo.example", "sato@demo.example"),
    default_locale="ja",
    time_zone="Asia/Tokyo",
    sla_hours=24,
    email={"staff_names": {"staff@demo.example": "佐藤 花子"}},
)
INQUIRY = Inquiry(
    store_id="demo",
    inquiry_id="inq_1",
    customer=Customer(email="taro@example.jp", name="山田太郎"),
    locale="ja",
    channel="web_form",
    subject="配送",
    message="いつ届きますか",
    priority="normal",
    status="open",
    received_at=T0,
    reply_due_at=T0 + timedelta(days=1),
    request_hash="h",
    accepted_response="{}",
    attachments=(Attachment(name="a.pdf", content_type="application/pdf", size=3, key="k"),),
)


def _entry(
    entry_id: str, minutes: int, *, customer: bool, author: str = "customer", **kw
) -> ConversationEntry:
    return ConversationEntry(
        entry_id=entry_id,
        from_customer=customer,
        author=author,
        message=entry_id,
        created_at=T0 + timedelta(minutes=minutes),
        **kw,
    )


ENTRIES = [
    _entry("msg_b", 30, customer=True),
    _entry("rep_a", 10, customer=False, author="staff@demo.example"),
    _entry("rep_c", 50, customer=False, author="someone@demo.example"),
    _entry("rep_d", 60, customer=False, author="Sato", author_email="SATO@demo.example", channel="email"),
    _entry("msg_e", 60, customer=True, channel="email"),
]


def test_messages_in_time_order_with_authors():
    messages = thread.messages(STORE, INQUIRY, ENTRIES)
    assert [(m.message_id, m.type, m.author, m.channel) for m in messages] == [
        ("inq_1", "customer", "山田太郎", "web_form"),
        ("rep_a", "staff", "佐藤 花子", "api"),
        ("msg_b", "customer", "山田太郎", "api"),
        ("rep_c", "staff", "someone@demo.example", "api"),
        ("msg_e", "customer", "山田太郎", "email"),  # same time: by id
        ("rep_d", "staff", "Sato", "email"),
    ]
    assert messages[0].attachments == INQUIRY.attachments and messages[0].at == T0


def test_staff_name_by_the_address_a_reply_came_from_then_by_the_author():
    named = Store(**{**STORE.__dict__, "email": {"staff_names": {"sato@demo.example": "佐藤"}}})
    assert thread.staff_name(named, "Sato", "SATO@demo.example") == "佐藤"
    assert thread.staff_name(named, "sato@demo.example", None) == "佐藤"
    assert thread.staff_name(named, "other@demo.example", None) is None
    assert thread.staff_name(Store(**{**STORE.__dict__, "email": None}), "staff@demo.example", None) is None


def test_the_customers_words_as_of_a_moment():
    at = thread.customer_words_before
    assert at(INQUIRY, ENTRIES, T0 + timedelta(minutes=20)) == ("いつ届きますか", T0)
    assert at(INQUIRY, ENTRIES, T0 + timedelta(minutes=30)) == ("msg_b", T0 + timedelta(minutes=30))
    assert at(INQUIRY, ENTRIES, T0 + timedelta(minutes=59)) == ("msg_b", T0 + timedelta(minutes=30))
    assert at(INQUIRY, ENTRIES, T0 + timedelta(hours=2)) == ("msg_e", T0 + timedelta(minutes=60))
    assert at(INQUIRY, (), T0 + timedelta(hours=2)) == ("いつ届きますか", T0)


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("staff", ["佐藤 花子", None])
def test_reply_templates_quote_and_sign_in_both_parts(locale, staff):
    context = {
        "store": {"name": "デモ店", "sender": "shop@demo.example"},
        "customer": {"name": None},
        "inquiry": {"id": "inq_1", "subject": "配送"},
        "reply": {"message": "発送しました"},
        "staff": {"name": staff},
        "quote": {
            "author": "A&B",
            "at": "WHEN",
            "message": "一行目\n\n<三行目>",
            "lines": ["一行目", "", "<三行目>"],
        },
        "subject": "Re: 配送",
    }
    rendered = templates.render("inquiry_reply", locale, context)
    intro = "WHEN A&B 様:" if locale == "ja" else "On WHEN, A&B wrote:"
    assert intro in rendered.text and "> 一行目\n>\n> <三行目>\n" in rendered.text
    assert intro.replace("&", "&amp;") in rendered.html
    assert "<blockquote" in rendered.html and "一行目\n\n&lt;三行目&gt;</blockquote>" in rendered.html
    balanced(rendered.html)
    for part in (rendered.text, rendered.html):
        assert (staff in part) if staff else ("None" not in part)
        assert part.index("発送しました") < part.index("WHEN")
