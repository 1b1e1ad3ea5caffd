"""Review requests end to end on the local clock (issue 10's quality bar): timing, the reminder,
what stops them, the gate, and the reward."""

from __future__ import annotations

from datetime import timedelta

import pytest

from omotenashi import clock
from omotenashi.logic.core import store_admin
from tests.integration.reviews.helpers import (
    DAY,
    T0,
    advance_to,
    consent,
    delivered_order,
    ledger_kinds,
    loyalty,
    order,
    pin,
    review,
    sent,
    view_order,
)


@pytest.fixture
def shop(stack):
    pin(T0 - timedelta(days=2))
    consent(stack)
    yield stack
    clock.set_source(None)


def test_request_on_day_7_reminder_on_day_12(shop):
    delivered_order(shop)
    assert view_order(shop)["review_request"]["status"] == "scheduled"
    advance_to(shop, T0 + timedelta(days=7) - timedelta(minutes=2))
    assert sent(shop, "review_request") == []
    advance_to(shop, T0 + timedelta(days=7, minutes=1))
    [request] = sent(shop, "review_request")
    assert request["to"] == ["taro@example.jp"]
    assert "List-Unsubscribe" in request["headers"]
    assert "token=v1." in request["html"]
    advance_to(shop, T0 + timedelta(days=12) - timedelta(minutes=2))
    assert sent(shop, "review_reminder") == []
    advance_to(shop, T0 + timedelta(days=12, minutes=2))
    assert len(sent(shop, "review_reminder")) == 1
    advance_to(shop, T0 + timedelta(days=20))
    assert len(sent(shop, "review_request")) == 1
    assert len(sent(shop, "review_reminder")) == 1
    assert view_order(shop)["review_request"]["status"] == "reminded"


def test_request_due_in_quiet_hours_goes_at_08_00(shop):
    late = T0 + timedelta(hours=12)  # 22:00 JST
    delivered_order(shop, at=late)
    advance_to(shop, late + timedelta(days=7, hours=1))
    assert sent(shop, "review_request") == []  # 23:00 JST: held
    advance_to(shop, late + timedelta(days=7, hours=9, minutes=59))  # 07:59 JST
    assert sent(shop, "review_request") == []
    advance_to(shop, late + timedelta(days=7, hours=10, minutes=1))  # 08:01 JST
    [request] = sent(shop, "review_request")
    assert request["sent_at"].startswith("2026-11-09T23:0")  # 08:0x JST on day 8


def test_review_on_day_9_stops_the_reminder_and_earns_one_reward(shop):
    delivered_order(shop)
    advance_to(shop, T0 + timedelta(days=9))
    review(shop, rating=1)
    shop.drain()
    review(shop, review_id="rv-10", sku="CUP-02", rating=5)  # a second review of the same order
    shop.drain()
    advance_to(shop, T0 + timedelta(days=20))
    assert len(sent(shop, "review_request")) == 1
    assert sent(shop, "review_reminder") == []
    assert len(sent(shop, "review_reward")) == 1
    assert ledger_kinds(shop).count(("review_reward", 50)) == 1
    assert loyalty(shop)["available"] >= 50
    shown = view_order(shop)
    assert sorted(r["review_id"] for r in shown["reviews"]) == ["rv-10", "rv-9"]
    assert all(r["incentivized"] for r in shown["reviews"])
    assert shown["review_reward"]["outcome"] == "granted"
    assert shown["review_request"]["status"] == "reviewed"


def test_a_review_of_another_order_within_30_days_earns_nothing(shop):
    delivered_order(shop, "o-1")
    delivered_order(shop, "o-2")
    review(shop, "rv-1", "o-1")
    shop.drain()
    advance_to(shop, clock.now() + timedelta(days=29))
    review(shop, "rv-2", "o-2")
    shop.drain()
    assert ledger_kinds(shop).count(("review_reward", 50)) == 1
    assert view_order(shop, "o-2")["review_reward"]["outcome"] == "limited"
    delivered_order(shop, "o-3", at=clock.now())
    advance_to(shop, clock.now() + timedelta(days=2))  # 31 days after the first reward
    review(shop, "rv-3", "o-3")
    shop.drain()
    assert ledger_kinds(shop).count(("review_reward", 50)) == 2


def test_one_star_and_five_star_reviews_earn_the_same(shop):
    delivered_order(shop, "o-1")
    review(shop, "rv-1", "o-1", rating=1)
    shop.drain()
    advance_to(shop, clock.now() + timedelta(days=31))
    delivered_order(shop, "o-2", at=clock.now())
    review(shop, "rv-2", "o-2", rating=5)
    shop.drain()
    assert (
        view_order(shop, "o-1")["review_reward"]["points"]
        == view_order(shop, "o-2")["review_reward"]["points"]
    )
    assert ledger_kinds(shop).count(("review_reward", 50)) == 2


@pytest.mark.parametrize(
    ("ending", "reason"),
    [("cancelled", "order_cancelled"), ("refunded", "order_refunded")],
)
def test_cancelled_or_fully_refunded_orders_get_no_request(shop, ending, reason):
    delivered_order(shop)
    extra = {"refund_id": "rf-1", "refund_amount": "5240"} if ending == "refunded" else {}
    order(shop, ending, T0 + timedelta(days=3), **extra)
    shop.drain()
    advance_to(shop, T0 + timedelta(days=14))
    assert sent(shop, "review_request") == []
    assert view_order(shop)["review_request"]["stopped"] == reason


def test_a_partly_refunded_order_lists_only_the_items_kept(shop):
    delivered_order(shop)
    returned = [{"sku": "CUP-02", "name": "湯呑み", "quantity": 1, "unit_price": "2000"}]
    order(shop, "refunded", T0 + timedelta(days=2), refund_id="rf-1", refund_amount="2000", items=returned)
    shop.drain()
    advance_to(shop, T0 + timedelta(days=7, minutes=5))
    [request] = sent(shop, "review_request")
    assert "玉露" in request["text"]
    assert "湯呑み" not in request["text"]


def test_no_consent_no_request(stack):
    pin(T0 - timedelta(days=2))
    delivered_order(stack)
    advance_to(stack, T0 + timedelta(days=14))
    assert sent(stack, "review_request") == []


def test_unsubscribed_customer_gets_no_request(shop):
    delivered_order(shop)
    consent(shop, given=False)
    advance_to(shop, T0 + timedelta(days=14))
    assert sent(shop, "review_request") == []


def test_open_inquiry_holds_the_request(shop):
    from tests.support import call

    delivered_order(shop)
    advance_to(shop, T0 + timedelta(days=6))
    body = {
        "customer": {"email": "taro@example.jp", "name": "山田太郎"},
        "channel": "web_form",
        "subject": "配送について",
        "message": "箱が潰れていました",
    }
    assert call(shop, "POST", "/v1/inquiries", body).status == 202
    advance_to(shop, T0 + timedelta(days=8))
    assert sent(shop, "review_request") == []


def test_rewards_can_be_switched_off_and_reviews_are_then_not_incentivized(shop):
    store_admin.set_reviews("demo", {"reward": None})
    delivered_order(shop)
    review(shop)
    shop.drain()
    shown = view_order(shop)
    assert shown["reviews"][0]["incentivized"] is False
    assert shown["review_reward"]["outcome"] == "off"
    assert sent(shop, "review_reward") == []
    assert ("review_reward", 50) not in ledger_kinds(shop)


def test_a_store_without_delivery_events_may_time_from_fulfilled(shop):
    store_admin.set_reviews("demo", {"request_after": "fulfilled", "request_delay_days": 3})
    order(shop, "placed", T0 - timedelta(days=1))
    order(shop, "fulfilled", T0)
    shop.drain()
    advance_to(shop, T0 + timedelta(days=3, minutes=5))
    assert len(sent(shop, "review_request")) == 1


def test_survey_bonus_once_per_survey_and_customer(shop):
    from tests.integration.reviews.helpers import survey

    survey(shop, "sv-1", "resp-1")
    survey(shop, "sv-1", "resp-2")  # a second answer to the same survey
    survey(shop, "sv-2", "resp-3")
    shop.drain()
    assert ledger_kinds(shop).count(("survey_bonus", 50)) == 2
    assert len(sent(shop, "review_reward")) == 2
    assert DAY == 86400
