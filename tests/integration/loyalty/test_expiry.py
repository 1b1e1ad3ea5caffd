"""Expiry: every available point expires 12 months after the customer's last earning (at the end of
that local day, Asia/Tokyo); each earning (a confirmation, a birthday bonus, a positive adjustment)
extends all of them. A points_expiring email goes 30 days before, then an `expire` entry takes
exactly the available points."""

from __future__ import annotations

import pytest

from tests.integration.loyalty.helpers import (
    DAY,
    adjust_ok,
    advance_to,
    audit,
    confirmed_order,
    emails,
    ledger,
    loyalty,
    send_order,
    start_at,
)
from tests.support import call

# The order of `confirmed_order` at the default start is confirmed 2026-12-06T02:00Z (11:00 JST):
# its points expire at the end of 2027-12-06 JST (2027-12-06T15:00Z); the warning goes 30 days
# before (2027-11-06T15:00Z, midnight JST).
EXPIRY = "2027-12-06T15:00:00Z"
WARNING = "2027-11-06T15:00:00Z"


def _expire_entries(stack):
    return [e for e in ledger(stack) if e["kind"] == "expire"]


def test_warning_30_days_before_then_expire_takes_exactly_the_available_points(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240")  # 32 points available
    send_order(stack, order_id="o-2", total="5000", occurred_at="2026-12-06T02:00:00Z")  # pending 50
    stack.drain()
    balance = audit(stack)
    assert (balance["available"], balance["pending"]) == (32, 50)
    assert balance["expiring"] == [{"points": 32, "expires_at": EXPIRY}]

    advance_to(stack, "2027-11-06T14:59:00Z")
    assert emails(stack, "points_expiring") == []
    advance_to(stack, WARNING)
    warned = emails(stack, "points_expiring")
    assert len(warned) == 1
    for part in (warned[0]["subject"], warned[0]["text"], warned[0]["html"]):
        assert "32" in part and "2027年12月6日" in part  # the last day the points are valid
    assert warned[0]["to"] == ["taro@example.jp"]

    advance_to(stack, "2027-12-06T14:59:00Z")
    assert audit(stack)["available"] == 32 and _expire_entries(stack) == []
    advance_to(stack, EXPIRY)
    expired = _expire_entries(stack)
    assert len(expired) == 1 and expired[0]["points"] == -32 and expired[0]["bucket"] == "available"
    balance = audit(stack)
    assert (balance["available"], balance["pending"], balance["expiring"]) == (0, 50, [])
    for _ in range(3):
        stack.advance(0)
    stack.advance(86400)
    assert len(_expire_entries(stack)) == 1 and len(emails(stack, "points_expiring")) == 1


def test_the_expire_entry_takes_what_is_left_after_redemptions(stack):
    start_at()
    confirmed_order(stack, "o-1", "10000")  # 100 available
    body = {"redemption_id": "rd-1", "points": 30, "order_id": "o-9"}
    assert call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", body).status == 201
    advance_to(stack, WARNING)
    assert "70" in emails(stack, "points_expiring")[0]["text"]
    advance_to(stack, EXPIRY)
    assert [e["points"] for e in _expire_entries(stack)] == [-70]
    assert audit(stack)["available"] == 0


def test_each_earning_extends_every_available_point(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240")  # 32 points, confirmed 2026-12-06
    advance_to(stack, "2027-01-10T03:00:00Z")  # 12:00 JST
    adjust_ok(stack, "adj-1", 10)  # an earning: every point now expires at the end of 2028-01-10 JST
    assert loyalty(stack)["expiring"] == [{"points": 42, "expires_at": "2028-01-10T15:00:00Z"}]
    advance_to(stack, WARNING)
    advance_to(stack, EXPIRY)
    advance_to(stack, "2027-12-07T15:00:00Z")
    assert emails(stack, "points_expiring") == [] and _expire_entries(stack) == []
    assert audit(stack)["available"] == 42
    advance_to(stack, "2027-12-11T15:00:00Z")  # 30 days before the new date
    warned = emails(stack, "points_expiring")
    assert len(warned) == 1 and "42" in warned[0]["text"] and "2028年1月10日" in warned[0]["text"]
    advance_to(stack, "2028-01-10T15:00:00Z")
    assert [e["points"] for e in _expire_entries(stack)] == [-42]
    assert audit(stack)["available"] == 0


def test_an_earning_inside_the_warning_window_postpones_the_expiry(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240")
    advance_to(stack, WARNING)
    assert len(emails(stack, "points_expiring")) == 1
    advance_to(stack, "2027-11-20T03:00:00Z")
    adjust_ok(stack, "adj-1", 5)  # 2027-11-20 12:00 JST: now expiring at the end of 2028-11-20 JST
    advance_to(stack, EXPIRY)
    stack.advance(0)
    assert _expire_entries(stack) == []
    balance = audit(stack)
    assert balance["available"] == 37
    assert balance["expiring"] == [{"points": 37, "expires_at": "2028-11-20T15:00:00Z"}]
    assert len(emails(stack, "points_expiring")) == 1  # nothing more until the new warning
    advance_to(stack, "2028-10-21T15:00:00Z")
    assert len(emails(stack, "points_expiring")) == 2
    advance_to(stack, "2028-11-20T15:00:00Z")
    assert [e["points"] for e in _expire_entries(stack)] == [-37]


def test_a_confirmation_inside_the_warning_window_postpones_the_expiry(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240")
    advance_to(stack, WARNING)
    send_order(stack, order_id="o-2", total="1000", occurred_at="2027-11-06T15:00:00Z")
    send_order(stack, order_id="o-2", type_="delivered", occurred_at="2027-11-06T15:00:00Z")
    advance_to(stack, "2027-11-20T15:00:00Z")  # o-2 confirmed: an earning
    assert audit(stack)["available"] == 42
    advance_to(stack, EXPIRY)
    stack.advance(0)
    assert _expire_entries(stack) == [] and audit(stack)["available"] == 42


def test_nothing_expires_and_no_warning_without_available_points(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240")
    body = {"redemption_id": "rd-1", "points": 32}
    assert call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", body).status == 201
    advance_to(stack, WARNING)
    advance_to(stack, EXPIRY)
    assert emails(stack, "points_expiring") == [] and _expire_entries(stack) == []
    assert audit(stack)["available"] == 0


@pytest.mark.parametrize("history", ["new_customer", "pending_points_only"])
def test_a_positive_adjustment_is_an_earning_for_a_customer_without_available_points(stack, history):
    start_at()
    if history == "pending_points_only":
        send_order(stack, order_id="o-1", total="3240")
        stack.drain()
    adjust_ok(stack, "adj-1", 10)
    balance = audit(stack)
    assert balance["available"] == 10
    assert balance["expiring"] == [{"points": 10, "expires_at": "2027-11-22T15:00:00Z"}]


@pytest.mark.parametrize("how", ["redemption_cancelled", "order_cancelled"])
def test_points_returned_after_their_expiry_date_do_not_stay_available_for_ever(stack, how):
    start_at()
    confirmed_order(stack, "o-1", "3240")
    send_order(stack, order_id="o-2", total="1000", occurred_at="2026-12-06T02:00:00Z")
    stack.drain()
    body = {"redemption_id": "rd-1", "points": 32, "order_id": "o-2"}
    assert call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", body).status == 201
    advance_to(stack, WARNING)
    advance_to(stack, EXPIRY)  # nothing available: nothing expires
    advance_to(stack, "2027-12-16T03:00:00Z")
    if how == "redemption_cancelled":
        assert call(stack, "DELETE", "/v1/customers/c-123/loyalty/redemptions/rd-1").status == 200
    else:  # the order the points paid for is cancelled: they come back
        send_order(stack, order_id="o-2", type_="cancelled", occurred_at="2027-12-16T03:00:00Z")
    stack.drain()
    assert audit(stack)["available"] == 32
    stack.advance(DAY)
    balance = audit(stack)
    assert all(e["expires_at"] > "2027-12-17T03:00:00Z" for e in balance["expiring"]), balance
    for when in ("2028-06-01T00:00:00Z", "2028-12-01T00:00:00Z", "2029-01-01T00:00:00Z"):
        advance_to(stack, when)
    assert audit(stack)["available"] == 0


def test_points_returned_inside_the_warning_window_are_warned_before_they_expire(stack):
    start_at()
    confirmed_order(stack, "o-1", "3240")
    body = {"redemption_id": "rd-1", "points": 32}
    assert call(stack, "POST", "/v1/customers/c-123/loyalty/redemptions", body).status == 201
    advance_to(stack, WARNING)  # nothing available: no warning
    advance_to(stack, "2027-11-10T03:00:00Z")
    assert call(stack, "DELETE", "/v1/customers/c-123/loyalty/redemptions/rd-1").status == 200
    advance_to(stack, "2027-11-20T03:00:00Z")
    advance_to(stack, EXPIRY)
    assert [e["points"] for e in _expire_entries(stack)] == [-32]
    assert len(emails(stack, "points_expiring")) == 1
