"""GET /v1/reports/carts on the local clock: a known mix of carts (recovered, reminded only,
emptied, ordered before any reminder, never reminded, outside the period, in USD) and every figure
of the report; the period's rules; stores apart; one Query, never a Scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omotenashi import clock
from omotenashi_local.instrument import aws_calls
from tests.integration.test_cart_reminders import advance_to, cart, consent, reminders
from tests.support import call, create_other_store

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 10:00 JST on 22 November
BEFORE = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # 23:00 JST on 21 November: outside the day
DAY = "/v1/reports/carts?from=2026-11-22&to=2026-11-23"  # that day in the store's zone (Asia/Tokyo)


def customer(letter: str) -> dict[str, str]:
    return {"id": f"c-{letter}", "email": f"{letter}@example.jp", "name": f"客{letter}", "locale": "ja"}


def placed(stack, order_id, who, cart_id, currency="JPY", total="3240"):
    body = {
        "order_id": order_id,
        "type": "placed",
        "customer": who,
        "cart_id": cart_id,
        "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": total}],
        "currency": currency,
        "total": total,
        "occurred_at": clock.isoformat(clock.now()),
    }
    assert call(stack, "POST", "/v1/events/orders", body).status == 202
    stack.drain()


def usd_cart(stack, cart_id, who):
    body = {
        "cart_id": cart_id,
        "customer": who,
        "items": [{"sku": "TEA-US", "name": "Gyokuro", "quantity": 1, "unit_price": "16.20"}],
        "currency": "USD",
        "subtotal": "16.20",
        "cart_url": f"https://shop.example/cart/{cart_id}",
        "updated_at": clock.isoformat(clock.now()),
    }
    assert call(stack, "POST", "/v1/events/carts", body).status == 202
    stack.drain()


@pytest.fixture
def mix(stack):
    """Every customer consents except g; each has one cart (the frequency cap is per customer)."""
    clock.set_source(lambda: BEFORE)
    try:
        for letter in "abcdefh":
            consent(stack, customer_id=f"c-{letter}", email=f"{letter}@example.jp")
        cart(stack, cart_id="cart-outside", customer=customer("h"))  # reminded at 08:00, but on the 21st
        advance_to(stack, T0)
        cart(stack, cart_id="cart-recovered", customer=customer("a"))
        cart(stack, cart_id="cart-reminded", customer=customer("b"))
        cart(stack, cart_id="cart-emptied", customer=customer("c"))
        cart(stack, cart_id="cart-ordered", customer=customer("d"))
        usd_cart(stack, "cart-usd", customer("f"))
        cart(stack, cart_id="cart-no-consent", customer=customer("g"))
        advance_to(stack, T0 + timedelta(minutes=30))
        cart(stack, cart_id="cart-emptied", customer=customer("c"), items=0)
        placed(stack, "o-d", customer("d"), "cart-ordered")  # before its first reminder
        advance_to(stack, T0 + timedelta(hours=2))  # the 11:00 reminders went out
        placed(stack, "o-a", customer("a"), "cart-recovered")
        placed(stack, "o-f", customer("f"), "cart-usd", currency="USD", total="16.20")
        advance_to(stack, T0 + timedelta(hours=3))
        yield stack
    finally:
        clock.set_source(None)


def test_every_figure_of_a_known_mix(mix):
    stack = mix
    sent = {m["to"][0] for m in reminders(stack)}
    assert sent == {"a@example.jp", "b@example.jp", "f@example.jp", "h@example.jp"}  # the setup holds
    statuses = {
        c: call(stack, "GET", f"/v1/carts/{c}").json["status"] for c in ("cart-emptied", "cart-ordered")
    }
    assert statuses == {"cart-emptied": "emptied", "cart-ordered": "ordered"}

    with aws_calls() as log:
        report = call(stack, "GET", DAY)
    assert report.status == 200, report.text
    assert report.json == {
        "from": "2026-11-21T15:00:00Z",
        "to": "2026-11-22T15:00:00Z",
        # recovered, reminded, usd, no-consent (never reminded, still active); not emptied, ordered, outside
        "abandoned": 4,
        "reminded": 3,
        "recovered": 2,
        "recovery_rate": "0.6667",
        "recovered_revenue": {"JPY": "3240", "USD": "16.20"},
    }
    assert [op for service, op in log.calls if service == "dynamodb"] == ["Query"]


def test_the_period_is_half_open_and_datetimes_carry_their_offset(mix):
    stack = mix
    # Up to the day's start: only the cart of the 21st, reminded at 08:00 on the 22nd.
    before = call(stack, "GET", "/v1/reports/carts?from=2026-11-21&to=2026-11-22").json
    assert (before["abandoned"], before["reminded"], before["recovered"]) == (1, 1, 0)
    assert before["recovery_rate"] == "0.0000" and before["recovered_revenue"] == {}
    # [10:00, 10:00:01) JST holds the six carts posted at T0; the emptied one is last updated later.
    at_t0 = call(stack, "GET", "/v1/reports/carts?from=2026-11-22T10:00:00%2B09:00&to=2026-11-22T01:00:01Z")
    assert at_t0.json["from"] == "2026-11-22T01:00:00Z" and at_t0.json["abandoned"] == 4
    # An unencoded + arrives as a space: read as the offset it was.
    same = call(stack, "GET", "/v1/reports/carts?from=2026-11-22T10:00:00+09:00&to=2026-11-22T01:00:01Z")
    assert same.json == at_t0.json
    after = call(stack, "GET", "/v1/reports/carts?from=2026-11-22T01:00:01Z&to=2026-11-23").json
    assert (after["abandoned"], after["reminded"], after["recovered"]) == (0, 0, 0)


def test_another_store_sees_zeros(mix):
    create_other_store()
    theirs = call(mix, "GET", DAY, store="other", secret="other-secret")
    assert theirs.status == 200
    assert theirs.json == {
        "from": "2026-11-22T00:00:00Z",  # their day: the store's zone is UTC
        "to": "2026-11-23T00:00:00Z",
        "abandoned": 0,
        "reminded": 0,
        "recovered": 0,
        "recovery_rate": "0.0000",
        "recovered_revenue": {},
    }


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("", ["query.from", "query.to"]),
        ("?from=2026-11-01", ["query.to"]),
        ("?to=2026-11-01", ["query.from"]),
        ("?from=&to=2026-11-01", ["query.from"]),
        ("?from=yesterday&to=2026-11-01", ["query.from"]),
        ("?from=2026-11-01&to=2026-11-31", ["query.to"]),  # no such day
        ("?from=2026-11-01T00:00:00&to=2026-11-02", ["query.from"]),  # no zone
        ("?from=2026-11-01&to=2026/11/02", ["query.to"]),
        ("?from=2026-11-01T00:00:00Z&to=2026-11-02T25:00:00Z", ["query.to"]),
        ("?from=2026-11-02&to=2026-11-01", ["query.to"]),  # before from
        ("?from=2026-11-01&to=2026-11-01", ["query.to"]),  # empty period
        ("?from=2026-01-01&to=2027-01-03", ["query.to"]),  # 367 days
        ("?from=bad&to=worse", ["query.from", "query.to"]),
    ],
)
def test_bad_periods_are_422_naming_the_field(stack, query, fields):
    answer = call(stack, "GET", f"/v1/reports/carts{query}")
    assert answer.status == 422, answer.text
    assert [f["field"] for f in answer.json["error"]["fields"]] == fields


def test_a_year_is_allowed(stack):
    leap = call(stack, "GET", "/v1/reports/carts?from=2028-01-01&to=2029-01-01")  # 366 days
    assert leap.status == 200 and leap.json["abandoned"] == 0


def test_unsigned_is_401(stack):
    assert call(stack, "GET", DAY, sign=False).status == 401


@pytest.mark.parametrize("later", ["emptied", "ordered_after_the_window"])
def test_a_reminded_cart_stays_abandoned_and_reminded_whatever_came_after(stack, later):
    clock.set_source(lambda: T0)
    try:
        consent(stack)
        cart(stack)
        advance_to(stack, T0 + timedelta(hours=1, minutes=1))
        assert len(reminders(stack)) == 1
        if later == "emptied":
            cart(stack, items=0)
        else:
            advance_to(stack, T0 + timedelta(hours=25))  # the second reminder, at 24 h
            assert len(reminders(stack)) == 2
            advance_to(stack, T0 + timedelta(days=9))  # 8 days after it: outside the 7-day window
            placed(stack, "o-late", {"id": "c-123", "email": "taro@example.jp"}, "cart-77")
        status = call(stack, "GET", "/v1/carts/cart-77").json["status"]
        assert status == ("emptied" if later == "emptied" else "ordered")
        report = call(
            stack, "GET", DAY if later == "emptied" else "/v1/reports/carts?from=2026-11-22&to=2026-12-22"
        )
        figures = report.json
        assert (figures["abandoned"], figures["reminded"], figures["recovered"]) == (1, 1, 0)
        assert figures["recovery_rate"] == "0.0000"
    finally:
        clock.set_source(None)


def test_every_page_is_read_and_the_read_is_every_cart_of_the_store(mix, monkeypatch):
    from omotenashi.dal import carts as cart_data

    whole = call(mix, "GET", DAY).json
    monkeypatch.setattr(cart_data, "REPORT_PAGE_SIZE", 2)
    with aws_calls() as log:
        paged = call(mix, "GET", DAY).json
    assert paged == whole
    assert [op for service, op in log.calls if service == "dynamodb"] == ["Query"] * 4  # 7 carts, 2 a page
    stats = cart_data.ReportStats()
    found = list(cart_data.abandoned_carts("demo", "2000-01-01T00:00:00.000000Z", "2100-01-01", stats))
    assert len(found) == 5 and stats.items_read == 7  # the filter cuts the answer, not the read
