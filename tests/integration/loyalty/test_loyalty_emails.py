"""Loyalty emails: points_earned (after confirmation, store setting on by default), tier_changed and
points_expiring are transactional: Auto-Submitted, no List-Unsubscribe, sent without marketing
consent, never to a suppressed address. Each goes exactly once, also when a job runs twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from omotenashi import clock
from omotenashi.dal import marketing as marketing_data
from omotenashi.logic.core import jobs
from omotenashi.logic.core.store_admin import set_loyalty
from omotenashi.schemas.jobs import LoyaltyTimerJob
from tests.integration.loyalty.helpers import (
    DAY,
    advance_to,
    audit,
    confirmed_order,
    emails,
    ledger,
    send_order,
    start_at,
)
from tests.support import aws_fault

TRANSACTIONAL = ("points_earned", "tier_changed", "points_expiring")
EN_CUSTOMER = {"id": "c-en", "email": "jane@example.com", "name": "Jane Doe", "locale": "en"}
# With `confirmed_order` from the default start: confirmed 2026-12-06T02:00Z; warned 2027-11-06T15:00Z;
# expired 2027-12-06T15:00Z.
WARNING = "2027-11-06T15:00:00Z"
EXPIRY = "2027-12-06T15:00:00Z"


def _kinds(stack):
    return sorted(m["kind"] for m in stack.outbox() if m["kind"] in (*TRANSACTIONAL, "birthday_bonus"))


def _timer_job(due_kind: str, item_key: str = "timer#expiry", customer_id: str = "c-123") -> LoyaltyTimerJob:
    return LoyaltyTimerJob(
        store_id="demo",
        customer_id=customer_id,
        item_key=item_key,
        due_kind=due_kind,
        due_at=clock.instant(clock.now()),
    )


def test_the_three_transactional_emails_without_consent_and_without_marketing_headers(stack):
    start_at()
    confirmed_order(stack, "o-1", "50000")  # joined silver, then gold and 500 points at confirmation
    advance_to(stack, WARNING)
    assert _kinds(stack) == ["points_earned", "points_expiring", "tier_changed", "tier_changed"]
    for mail in stack.outbox():
        headers = mail["headers"]
        assert headers["X-Omotenashi-Kind"] == mail["kind"]
        assert headers["Auto-Submitted"] == "auto-generated"
        assert "List-Unsubscribe" not in headers and "List-Unsubscribe-Post" not in headers
        assert mail["to"] == ["taro@example.jp"]
        for part in (mail["text"], mail["html"]):
            assert "/v1/unsubscribe" not in part and "東京都千代田区" not in part  # no marketing footer
    earned = emails(stack, "points_earned")[0]
    for part in (earned["subject"], earned["text"], earned["html"]):
        assert "500" in part
    assert "o-1" in earned["text"] and "ゴールド" in earned["text"]
    expiring = emails(stack, "points_expiring")[0]
    assert "500" in expiring["text"] and "2027年12月6日" in expiring["text"]


def test_english_customer_gets_english_loyalty_emails(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240", customer=EN_CUSTOMER)
    advance_to(stack, WARNING)
    earned = emails(stack, "points_earned", to="jane@example.com")
    assert len(earned) == 1 and "32 points are now ready to use" in earned[0]["subject"]
    expiring = emails(stack, "points_expiring", to="jane@example.com")
    assert len(expiring) == 1
    assert "December 6, 2027" in expiring[0]["text"] and "32" in expiring[0]["text"]


def test_points_earned_email_can_be_turned_off_per_store(stack):
    set_loyalty("demo", {"points_earned_email": False})
    start_at()
    confirmed_order(stack, "o-1", "50000")
    assert audit(stack)["available"] == 500
    assert emails(stack, "points_earned") == []
    assert len(emails(stack, "tier_changed")) == 2  # the other loyalty emails still go


def test_no_loyalty_email_to_a_suppressed_address_but_the_points_move(stack):
    start_at()
    marketing_data.suppress("demo", "Taro@Example.jp", reason="bounce", at=clock.now())
    confirmed_order(stack, "o-1", "50000")
    advance_to(stack, WARNING)
    advance_to(stack, EXPIRY)
    balance = audit(stack)
    assert (balance["tier"], balance["available"]) == ("silver", 0)  # gold, then down at the daily run
    assert [e["points"] for e in ledger(stack) if e["kind"] == "expire"] == [-500]
    assert _kinds(stack) == []


def test_suppression_does_not_stop_email_to_another_address(stack):
    start_at()
    marketing_data.suppress("demo", "taro@example.jp", reason="complaint", at=clock.now())
    confirmed_order(stack, "o-1", "3240", customer=EN_CUSTOMER)
    assert sorted(m["kind"] for m in emails(stack, "points_earned") + emails(stack, "tier_changed")) == [
        "points_earned",
        "tier_changed",
    ]


def test_each_email_once_when_timer_jobs_are_duplicated_and_the_sweep_repeats(stack):
    start_at()
    send_order(stack, order_id="o-1", total="50000", occurred_at="2026-11-22T02:00:00Z")
    send_order(stack, order_id="o-1", type_="delivered", occurred_at="2026-11-22T02:00:00Z")
    stack.drain()
    # The return window ends; the confirmation job is enqueued twice besides the sweep's own.
    clock.advance(14 * DAY)
    for _ in range(2):
        jobs.enqueue(_timer_job("confirm", item_key="order#o-1"))
    for _ in range(3):
        stack.advance(0)
    assert _kinds(stack) == ["points_earned", "tier_changed", "tier_changed"]
    assert audit(stack)["available"] == 500

    clock.advance((clock.parse_iso(WARNING) - clock.now()).total_seconds())
    for _ in range(2):
        jobs.enqueue(_timer_job("warn"))
    for _ in range(3):
        stack.advance(0)
    assert len(emails(stack, "points_expiring")) == 1

    # The expiry and the daily tier run (gold -> silver) fall due together; each job twice more.
    clock.advance((clock.parse_iso(EXPIRY) - clock.now()).total_seconds())
    for _ in range(2):
        jobs.enqueue(_timer_job("expire"))
        jobs.enqueue(_timer_job("tier", item_key="timer#tier"))
    for _ in range(3):
        stack.advance(0)
    assert [e["points"] for e in ledger(stack) if e["kind"] == "expire"] == [-500]
    balance = audit(stack)
    assert (balance["tier"], balance["available"]) == ("silver", 0)
    assert _kinds(stack) == [
        "points_earned",
        "points_expiring",
        "tier_changed",
        "tier_changed",
        "tier_changed",
    ]


@pytest.mark.parametrize("nth", [1, 2])
def test_a_failed_enqueue_after_the_confirmation_loses_no_email_and_sends_none_twice(stack, nth):
    """The confirmation is written, then enqueueing its email fails: the job is retried, finds the
    change made and enqueues the emails again; each still goes once."""
    start_at()
    send_order(stack, order_id="o-1", total="50000")
    send_order(stack, order_id="o-1", type_="delivered", occurred_at="2026-11-22T02:00:00Z")
    stack.drain()
    assert _kinds(stack) == ["tier_changed"]
    seen = [0]

    def notice(params):
        if '"loyalty_notice"' not in params.get("MessageBody", ""):
            return False
        seen[0] += 1
        return seen[0] == nth

    with aws_fault("sqs", "SendMessage", when=notice) as failures:
        stack.advance(14 * DAY)
        stack.advance(0)
    assert failures == [1]
    assert _kinds(stack) == ["points_earned", "tier_changed", "tier_changed"]
    assert audit(stack)["available"] == 500


def test_points_earned_goes_once_per_order_and_not_for_an_order_wholly_refunded(stack):
    start_at()
    send_order(stack, order_id="o-1", total="3000")
    send_order(stack, order_id="o-2", total="2000")
    send_order(stack, order_id="o-3", total="1000")
    for order_id in ("o-1", "o-2", "o-3"):
        send_order(stack, order_id=order_id, type_="delivered", occurred_at="2026-11-22T02:00:00Z")
    send_order(
        stack,
        order_id="o-3",
        type_="refunded",
        occurred_at="2026-11-22T03:00:00Z",
        refund_id="r-1",
        refund_amount="1000",
    )
    stack.advance(14 * DAY)
    stack.advance(timedelta(days=1).total_seconds())
    earned = emails(stack, "points_earned")
    assert sorted(("o-1" in m["text"], "o-2" in m["text"]) for m in earned) == [(False, True), (True, False)]
    assert audit(stack)["available"] == 50
