"""email.json (logic/inquiries/email_settings.py) and the pure parts of inbound routing."""

from __future__ import annotations

import pytest

from omotenashi.domain import Store
from omotenashi.logic.inquiries import email_settings, inbound_mail
from omotenashi.logic.inquiries.email_settings import InvalidEmailSettings, validate

STORE = Store(
    store_id="demo",
    name="Demo",
    sender="shop@demo.example",
    staff_addresses=("staff@demo.example", "Boss@Demo.Example"),
    default_locale="ja",
    time_zone="Asia/Tokyo",
    sla_hours=24,
)


def test_defaults():
    settings = validate({}, STORE)

    assert settings.receiving_domain is None
    assert settings.support_addresses == ("support",)
    assert settings.new_inquiry_notice is True
    assert email_settings.receiving_domain(STORE, "inbound.example.com") == "demo.inbound.example.com"


def test_a_full_document_round_trips_in_normal_form():
    document = {
        "receiving_domain": "Shop.Example.",
        "support_addresses": ["Support", "info", "support"],
        "new_inquiry_notice": False,
        "staff_names": {"boss@demo.example": " 山田 花子 "},
    }
    settings = validate(document, STORE)

    assert settings.to_document() == {
        "receiving_domain": "shop.example",
        "support_addresses": ["support", "info"],
        "new_inquiry_notice": False,
        "staff_names": {"boss@demo.example": "山田 花子"},
    }
    stored = email_settings.settings_of(Store(**{**STORE.__dict__, "email": settings.to_document()}))
    assert stored == settings
    assert stored.staff_name("BOSS@demo.example") == "山田 花子"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([], "email settings"),
        ({"receiving_domian": "x.example"}, "receiving_domian"),
        ({"receiving_domain": "not a domain"}, "receiving_domain"),
        ({"receiving_domain": "localhost"}, "receiving_domain"),
        ({"receiving_domain": 5}, "receiving_domain"),
        ({"support_addresses": []}, "support_addresses"),
        ({"support_addresses": "support"}, "support_addresses"),
        ({"support_addresses": ["support@shop.example"]}, "support_addresses"),
        ({"support_addresses": ["reply+x"]}, "support_addresses"),
        ({"support_addresses": ["a+b"]}, "support_addresses"),
        ({"support_addresses": ["x"] * 11}, "support_addresses"),
        ({"new_inquiry_notice": "yes"}, "new_inquiry_notice"),
        ({"staff_names": ["x"]}, "staff_names"),
        ({"staff_names": {"stranger@x.example": "X"}}, "staff_names"),
        ({"staff_names": {"staff@demo.example": ""}}, "staff_names"),
        ({"staff_names": {"staff@demo.example": "a\nb"}}, "staff_names"),
        ({"staff_names": {"staff@demo.example": "x" * 101}}, "staff_names"),
    ],
)
def test_bad_documents_name_the_field(document, field):
    with pytest.raises(InvalidEmailSettings, match=f"^{field}"):
        validate(document, STORE)


def test_default_domains_name_their_store_and_nothing_else():
    assert (
        email_settings.store_id_from_default_domain("demo.inbound.example.com", "inbound.example.com")
        == "demo"
    )
    assert email_settings.store_id_from_default_domain("inbound.example.com", "inbound.example.com") is None
    assert (
        email_settings.store_id_from_default_domain("a.b.inbound.example.com", "inbound.example.com") is None
    )
    assert (
        email_settings.store_id_from_default_domain("demo.evil-inbound.example.com", "inbound.example.com")
        is None
    )
    # A store id with "_" is not a DNS label: it needs a receiving domain of its own.
    assert email_settings.default_domain("my_shop", "inbound.example.com") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("請求書.pdf", "請求書.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\a\\b\x00c.txt", "b_c.txt"),
        (None, "attachment-1.jpeg"),
        ("   ", "attachment-1.jpeg"),
        ("x" * 200 + ".pdf", "x" * 100 + ".pdf"),
    ],
)
def test_attachment_names_are_safe_object_key_parts(name, expected):
    assert inbound_mail._filename(name, 0, "image/jpeg") == expected


def test_ses_receipts_are_read_with_their_verdicts_and_odd_events_are_refused():
    record = {
        "ses": {
            "mail": {"messageId": "o3vrnil0e2ic28trm7dfhrc2v0clambda4nbp0g1"},
            "receipt": {
                "recipients": ["support@demo.example"],
                "spamVerdict": {"status": "PASS"},
                "virusVerdict": {"status": "FAIL"},
                "dmarcVerdict": {"status": "GRAY"},
            },
        }
    }
    receipt = inbound_mail._receipt(record)

    assert receipt is not None
    assert receipt.recipients == ("support@demo.example",)
    assert (receipt.virus, receipt.spam, receipt.dmarc) == ("FAIL", "PASS", "GRAY")
    assert inbound_mail._receipt({"ses": {"mail": {"messageId": "../etc"}, "receipt": {}}}) is None
    assert inbound_mail._receipt({"Sns": {}}) is None
    assert inbound_mail.handle_ses_event({"Records": [{"nothing": 1}]}) == {"results": []}


def test_the_notice_shows_the_first_message_as_such_even_after_a_follow_up(monkeypatch):
    from datetime import UTC, datetime

    from omotenashi.domain import Customer, Inquiry
    from omotenashi.logic.inquiries import staff_notice
    from omotenashi.settings import reset_settings

    monkeypatch.setenv("RECEIVING_DOMAIN", "inbound.example.com")
    reset_settings()
    at = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    inquiry = Inquiry(
        store_id="demo",
        inquiry_id="inq_" + "a" * 26,
        customer=Customer(email="taro@example.jp"),
        locale="ja",
        channel="email",
        subject="配送について",
        message="最初のメッセージ",
        priority="normal",
        status="open",
        received_at=at,
        reply_due_at=at,
        request_hash="h",
        accepted_response="{}",
        latest_message="追加のメッセージ",
        latest_message_at=at,
    )
    store = Store(**{**STORE.__dict__, "unsubscribe_keys": (b"k" * 32,)})

    draft = staff_notice.draft_notice(store, inquiry, "staff@demo.example")

    assert draft.context["inquiry"]["excerpt"] == "最初のメッセージ"
    assert draft.context["inquiry"]["follow_up"] is False and draft.context["latest_message_at"] is None
    assert draft.headers["Reply-To"].startswith("reply+s")
    reset_settings()
