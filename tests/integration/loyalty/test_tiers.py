"""Tiers: silver from the first placed order; gold (50,000 yen) and platinum (150,000 yen) of rolling
12-month confirmed spend (total - shipping - refunds, counted when the points are confirmed), at
once on confirmation; downgrades only at the daily run (local midnight, Asia/Tokyo) once spend
left the window, also after a refund of a confirmed order. The earning rate follows the tier."""

from __future__ import annotations

import pytest

from tests.integration.loyalty.helpers import (
    CUSTOMER,
    DAY,
    advance_to,
    audit,
    confirmed_order,
    emails,
    ledger,
    loyalty,
    send_order,
    start_at,
)

EN_CUSTOMER = {"id": "c-en", "email": "jane@example.com", "name": "Jane Doe", "locale": "en"}


def _tier(stack, customer_id="c-123"):
    return loyalty(stack, customer_id)["tier"]


def test_first_placed_order_joins_silver_with_one_welcome_email_in_japanese_by_default(stack):
    start_at()
    assert _tier(stack) is None
    no_locale = {k: v for k, v in CUSTOMER.items() if k != "locale"}
    send_order(stack, order_id="o-1", total="3240", customer=no_locale)
    send_order(stack, order_id="o-1", total="3240", customer=no_locale)  # the same event again
    stack.drain()
    assert _tier(stack) == "silver"
    joined = emails(stack, "tier_changed")
    assert len(joined) == 1, joined
    mail = joined[0]
    assert mail["to"] == ["taro@example.jp"]
    assert "会員プログラム" in mail["subject"] and "シルバー" in mail["subject"]
    assert "シルバー" in mail["text"] and "1%" in mail["text"]
    send_order(stack, order_id="o-2", total="1000", occurred_at="2026-11-22T03:00:00Z", customer=no_locale)
    stack.advance(60)
    assert len(emails(stack, "tier_changed")) == 1  # a second order is no second welcome


def test_gold_at_50000_confirmed_spend_upgrades_at_confirmation_and_next_order_earns_2_percent(stack):
    start_at()
    # 52,000 paid of which 2,000 shipping: 50,000 of spend, exactly the gold threshold.
    confirmed_order(stack, "o-1", "52000", shipping="2000")
    balance = audit(stack)
    assert (balance["tier"], balance["available"], balance["tier_spend_12m"]) == ("gold", 500, "50000")
    assert (balance["next_tier"], balance["spend_to_next_tier"]) == ("platinum", "100000")
    changes = emails(stack, "tier_changed")
    assert len(changes) == 2, [m["subject"] for m in changes]  # joined silver, then gold
    gold = changes[1]
    assert "ゴールド" in gold["subject"] and "アップ" in gold["subject"]
    for part in (gold["text"], gold["html"]):
        assert "ゴールド" in part and "2%" in part and "シルバー" in part
    # The gold customer's next order earns 2 %.
    send_order(stack, order_id="o-2", total="10000", occurred_at="2026-12-06T03:00:00Z")
    stack.drain()
    assert audit(stack)["pending"] == 200
    assert [e["points"] for e in ledger(stack) if e["order_id"] == "o-2"] == [200]


def test_upgrade_waits_for_confirmation_not_for_placement_or_delivery(stack):
    start_at()
    send_order(stack, order_id="o-1", total="60000", occurred_at="2026-11-22T02:00:00Z")
    send_order(stack, order_id="o-1", type_="delivered", occurred_at="2026-11-22T02:00:00Z")
    stack.advance(14 * DAY - 60)
    balance = loyalty(stack)
    assert (balance["tier"], balance["tier_spend_12m"]) == ("silver", "0")
    stack.advance(60)
    assert _tier(stack) == "gold"


@pytest.mark.parametrize(
    ("total", "shipping", "refund", "tier", "spend"),
    [
        ("51000", "2000", None, "silver", "49000"),  # shipping does not count
        ("50000", "0", "1", "silver", "49999"),  # nor what was refunded before confirmation
        ("50500", "0", "500", "gold", "50000"),
    ],
)
def test_spend_is_total_less_shipping_less_refunds(stack, total, shipping, refund, tier, spend):
    start_at()
    send_order(stack, order_id="o-1", total=total, shipping=shipping)
    if refund:
        send_order(
            stack,
            order_id="o-1",
            type_="refunded",
            occurred_at="2026-11-22T03:00:00Z",
            refund_id="r-1",
            refund_amount=refund,
        )
    send_order(stack, order_id="o-1", type_="delivered", occurred_at="2026-11-22T02:00:00Z")
    stack.advance(14 * DAY)
    balance = audit(stack)
    assert (balance["tier"], balance["tier_spend_12m"]) == (tier, spend)


def test_platinum_at_150000_then_downgrades_one_step_at_a_time_as_spend_leaves_the_window(stack):
    start_at()
    confirmed_order(stack, "o-1", "150000")  # confirmed 2026-12-06T02:00Z (11:00 JST)
    assert _tier(stack) == "platinum"
    changes = emails(stack, "tier_changed")
    assert len(changes) == 2  # joined silver; then straight to platinum (no gold in between)
    assert "プラチナ" in changes[1]["text"] and "3%" in changes[1]["text"]
    confirmed_order(stack, "o-2", "60000")  # placed as platinum: 3 %; confirmed 2026-12-20T02:00Z
    assert [e["points"] for e in ledger(stack) if e["order_id"] == "o-2" and e["kind"] == "earn"] == [1800]
    assert loyalty(stack)["tier_spend_12m"] == "210000"

    # o-1 leaves the window on 2027-12-06 at 11:00 JST: the daily run at the next local midnight
    # (2027-12-07 00:00 JST = 2027-12-06T15:00Z) downgrades, not before.
    advance_to(stack, "2027-12-06T02:00:00Z")
    advance_to(stack, "2027-12-06T14:59:00Z")
    assert _tier(stack) == "platinum"
    assert len(emails(stack, "tier_changed")) == 2
    advance_to(stack, "2027-12-06T15:00:00Z")
    balance = loyalty(stack)
    assert (balance["tier"], balance["tier_spend_12m"]) == ("gold", "60000")
    down = emails(stack, "tier_changed")[2:]
    assert len(down) == 1
    assert "変更" in down[0]["subject"] and "アップ" not in down[0]["subject"]
    assert "ゴールド" in down[0]["text"] and "プラチナ" in down[0]["text"] and "2%" in down[0]["text"]

    # o-2 leaves on 2027-12-20 11:00 JST: silver at 2027-12-21 00:00 JST.
    advance_to(stack, "2027-12-20T14:59:00Z")
    assert _tier(stack) == "gold"
    advance_to(stack, "2027-12-20T15:00:00Z")
    balance = loyalty(stack)
    assert (balance["tier"], balance["tier_spend_12m"]) == ("silver", "0")
    assert len(emails(stack, "tier_changed")) == 4
    for _ in range(3):
        stack.advance(DAY)  # later daily runs change nothing more
    assert _tier(stack) == "silver"
    assert len(emails(stack, "tier_changed")) == 4


def test_refund_after_confirmation_downgrades_only_at_the_next_daily_run(stack):
    start_at()
    confirmed_order(stack, "o-1", "50000")  # gold at 2026-12-06T02:00Z (11:00 JST)
    assert _tier(stack) == "gold"
    stack.advance(3600)
    send_order(
        stack,
        order_id="o-1",
        type_="refunded",
        occurred_at="2026-12-06T03:00:00Z",
        refund_id="r-1",
        refund_amount="1000",
    )
    stack.drain()
    balance = audit(stack)
    assert (balance["tier"], balance["tier_spend_12m"], balance["available"]) == ("gold", "49000", 490)
    advance_to(stack, "2026-12-06T14:59:00Z")  # 23:59 JST the same day
    assert _tier(stack) == "gold"
    assert len(emails(stack, "tier_changed")) == 2
    advance_to(stack, "2026-12-06T15:00:00Z")  # the daily run at midnight JST
    assert _tier(stack) == "silver"
    changes = emails(stack, "tier_changed")
    assert len(changes) == 3
    assert "シルバー" in changes[2]["text"] and "1%" in changes[2]["text"]
    # A silver customer's next order earns 1 % again.
    send_order(stack, order_id="o-2", total="10000", occurred_at="2026-12-06T16:00:00Z")
    stack.drain()
    assert [e["points"] for e in ledger(stack) if e["order_id"] == "o-2"] == [100]


def test_tier_email_in_english_for_an_english_customer(stack):
    start_at()
    confirmed_order(stack, "o-1", "50000", customer=EN_CUSTOMER)
    assert _tier(stack, "c-en") == "gold"
    changes = emails(stack, "tier_changed", to="jane@example.com")
    assert len(changes) == 2
    joined, gold = changes
    assert "Silver" in joined["subject"] and "Welcome" in joined["subject"]
    assert "moved up to Gold" in gold["subject"]
    for part in (gold["text"], gold["html"]):
        assert "Gold" in part and "2%" in part
        assert "ゴールド" not in part
    assert not emails(stack, "tier_changed", to=CUSTOMER["email"])


def test_a_downgrade_after_a_29_february_confirmation_happens_at_a_daily_run(stack):
    from omotenashi.dal import loyalty as loyalty_data

    start_at("2028-02-15T02:00:00Z")
    confirmed_order(stack, "o-1", "50000")  # confirmed 2028-02-29T02:00Z (11:00 JST)
    assert _tier(stack) == "gold"
    advance_to(stack, "2029-02-28T15:00:00Z")  # 2029-03-01 00:00 JST: the daily run
    at_midnight = _tier(stack)
    due_at, _, _ = loyalty_data.get_timer("demo", "c-123", "tier")
    assert due_at is None or due_at > "2029-02-28T15:00:00.000000Z"  # not due again at once
    advance_to(stack, "2029-03-01T03:00:00Z")  # 12:00 JST: no daily run since midnight
    assert _tier(stack) == at_midnight
    advance_to(stack, "2029-03-01T15:00:00Z")  # 2029-03-02 00:00 JST
    assert _tier(stack) == "silver"
