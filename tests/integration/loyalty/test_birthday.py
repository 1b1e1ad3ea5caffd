"""Birthday bonus: a customer's `birthday` ("MM-DD", from an order or cart event) earns 100 points
once a year on that day at 09:00 store time (Asia/Tokyo); 29 February is celebrated on 28 February
in other years. The birthday_bonus email is marketing: only with consent (the points are credited
without), with List-Unsubscribe and the legal footer."""

from __future__ import annotations

from omotenashi import clock
from omotenashi.logic.core import jobs
from omotenashi.schemas.jobs import LoyaltyTimerJob
from tests.integration.loyalty.helpers import (
    CUSTOMER,
    advance_to,
    audit,
    emails,
    give_consent,
    ledger,
    send_order,
    start_at,
)
from tests.support import call

BIRTHDAY_CUSTOMER = {**CUSTOMER, "birthday": "11-25"}
BIRTHDAY_2026 = "2026-11-25T00:00:00Z"  # 09:00 JST


def _birthday_entries(stack, customer_id="c-123"):
    return [e for e in ledger(stack, customer_id) if e["kind"] == "birthday"]


def _cart(stack, customer, cart_id="cart-1"):
    body = {
        "cart_id": cart_id,
        "customer": customer,
        "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 1, "unit_price": "1620"}],
        "currency": "JPY",
        "subtotal": "1620",
        "cart_url": f"https://shop.example/cart/{cart_id}",
        "updated_at": clock.isoformat(clock.now()),
    }
    reply = call(stack, "POST", "/v1/events/carts", body)
    assert reply.status == 202, reply.text
    stack.drain()


def test_birthday_bonus_at_9_local_with_a_lawful_marketing_email_once_a_year(stack):
    start_at()
    give_consent(stack)
    send_order(stack, order_id="o-1", total="1000", customer=BIRTHDAY_CUSTOMER)
    stack.drain()
    advance_to(stack, "2026-11-24T23:59:00Z")  # 08:59 JST
    assert _birthday_entries(stack) == [] and emails(stack, "birthday_bonus") == []
    advance_to(stack, BIRTHDAY_2026)
    entries = _birthday_entries(stack)
    assert [(e["points"], e["bucket"]) for e in entries] == [(100, "available")]
    balance = audit(stack)
    assert balance["available"] == 100  # an earning: every point now lasts until the end of 2027-11-25 JST
    assert balance["expiring"] == [{"points": 100, "expires_at": "2027-11-25T15:00:00Z"}]
    sent = emails(stack, "birthday_bonus")
    assert len(sent) == 1
    mail = sent[0]
    assert mail["headers"]["X-Omotenashi-Kind"] == "birthday_bonus"
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
    assert mail["to"] == ["taro@example.jp"] and "100" in mail["subject"]
    assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = mail["headers"]["List-Unsubscribe"].strip("<>")
    assert "/v1/unsubscribe?token=" in link
    for part in (mail["text"], mail["html"]):
        assert "東京都千代田区千代田1-1" in part and "support@demo.example" in part
        assert "Omotenashi Demo Shop" in part and "100" in part
    assert link in mail["text"]

    # The same events again, the sweep again, the same timer job twice: nothing more this year.
    send_order(stack, order_id="o-1", total="1000", customer=BIRTHDAY_CUSTOMER)
    send_order(stack, order_id="o-2", total="1000", customer=BIRTHDAY_CUSTOMER)
    for _ in range(2):
        jobs.enqueue(
            LoyaltyTimerJob(
                store_id="demo",
                customer_id="c-123",
                item_key="timer#birthday",
                due_kind="birthday",
                due_at=clock.instant(clock.parse_iso(BIRTHDAY_2026)),
            )
        )
    stack.advance(0)
    stack.advance(3600)
    assert len(_birthday_entries(stack)) == 1 and len(emails(stack, "birthday_bonus")) == 1
    assert audit(stack)["available"] == 100

    advance_to(stack, "2027-11-24T23:59:00Z")
    assert len(_birthday_entries(stack)) == 1
    advance_to(stack, "2027-11-25T00:00:00Z")  # the next year: again
    assert sorted(e["reason"] for e in _birthday_entries(stack)) == ["birthday 2026", "birthday 2027"]
    assert len(emails(stack, "birthday_bonus")) == 2


def test_without_consent_the_points_are_credited_but_no_email_goes(stack):
    start_at()
    _cart(stack, BIRTHDAY_CUSTOMER)  # a cart event tells the birthday too
    advance_to(stack, BIRTHDAY_2026)
    assert [e["points"] for e in _birthday_entries(stack)] == [100]
    assert audit(stack)["available"] == 100
    assert emails(stack, "birthday_bonus") == []
    decisions = call(stack, "GET", "/v1/customers/c-123/marketing/decisions").json["decisions"]
    assert [(d["flow"], d["outcome"], d["reason"]) for d in decisions] == [
        ("birthday_bonus", "skip", "consent_missing")
    ]


def test_29_february_is_celebrated_on_28_february_in_other_years(stack):
    start_at("2027-02-20T00:00:00Z")
    send_order(
        stack,
        order_id="o-1",
        total="1000",
        occurred_at="2027-02-20T00:00:00Z",
        customer={**CUSTOMER, "birthday": "02-29"},
    )
    stack.drain()
    advance_to(stack, "2027-02-27T23:59:00Z")
    assert _birthday_entries(stack) == []
    advance_to(stack, "2027-02-28T00:00:00Z")  # 2027-02-28 09:00 JST
    assert [e["reason"] for e in _birthday_entries(stack)] == ["birthday 2027"]
    advance_to(stack, "2028-02-28T00:00:00Z")  # 2028 is a leap year: not on the 28th
    assert len(_birthday_entries(stack)) == 1
    advance_to(stack, "2028-02-29T00:00:00Z")
    assert sorted(e["reason"] for e in _birthday_entries(stack)) == ["birthday 2027", "birthday 2028"]


def test_a_corrected_birthday_later_the_same_year_credits_nothing_more(stack):
    start_at()
    give_consent(stack)
    send_order(stack, order_id="o-1", total="1000", customer=BIRTHDAY_CUSTOMER)
    stack.drain()
    advance_to(stack, BIRTHDAY_2026)
    send_order(
        stack,
        order_id="o-2",
        total="1000",
        occurred_at="2026-11-25T01:00:00Z",
        customer={**CUSTOMER, "birthday": "12-01"},
    )
    stack.drain()
    advance_to(stack, "2026-12-01T00:00:00Z")
    stack.advance(0)
    assert len(_birthday_entries(stack)) == 1
    assert len(emails(stack, "birthday_bonus")) == 1


def test_a_birthday_run_in_quiet_hours_credits_at_once_and_emails_next_morning(stack):
    start_at()
    give_consent(stack)
    send_order(stack, order_id="o-1", total="1000", customer=BIRTHDAY_CUSTOMER)
    stack.drain()
    advance_to(stack, "2026-11-25T13:00:00Z")  # the sweep first runs at 22:00 JST (an outage)
    assert [e["points"] for e in _birthday_entries(stack)] == [100]
    assert emails(stack, "birthday_bonus") == []  # quiet hours (21:00-08:00): deferred, not dropped
    advance_to(stack, "2026-11-25T22:59:00Z")
    assert emails(stack, "birthday_bonus") == []
    advance_to(stack, "2026-11-25T23:00:00Z")  # 08:00 JST
    assert len(emails(stack, "birthday_bonus")) == 1
    stack.advance(86400)
    assert len(emails(stack, "birthday_bonus")) == 1


def test_a_birthday_given_with_consent_earns_the_bonus(stack):
    start_at()
    body = {
        "email": "taro@example.jp",
        "marketing_email": True,
        "source": "account_settings",
        "wording": "お知らせを受け取る",
        "name": "山田太郎",
        "locale": "ja",
        "birthday": "11-25",
    }
    assert call(stack, "PUT", "/v1/customers/c-123/consent", body).status == 200
    advance_to(stack, BIRTHDAY_2026)
    assert [e["points"] for e in _birthday_entries(stack)] == [100]
    assert len(emails(stack, "birthday_bonus")) == 1
