"""Redemptions: 201 with the available points after it, or 409 insufficient_points with nothing
written; idempotent by redemption_id (and Idempotency-Key); DELETE gives the points back once; a
refund or cancellation of the order a redemption names gives back its share, never more in total."""

from __future__ import annotations

from tests.integration.helpers import item_count
from tests.integration.loyalty.helpers import (
    account_path,
    adjust,
    audit,
    cancel_redemption,
    earn_available,
    ledger,
    loyalty,
    now_iso,
    redeem,
    send_order,
    start_at,
    writes,
)
from tests.support import aws_calls, call, create_other_store


def loyalty_items(stack) -> int:
    return item_count(stack, "LoyaltyTable")


def kinds(entries) -> list[tuple[str, int]]:
    return [(e["kind"], e["points"]) for e in entries]


def test_redemption_is_201_with_the_available_points_after_it(stack):
    start_at()
    earn_available(stack, 100)
    reply = redeem(stack, "rd-1", 30)
    assert reply.status == 201, reply.text
    assert reply.json["redemption_id"] == "rd-1"
    assert (reply.json["points"], reply.json["available"]) == (30, 70)
    assert "Idempotent-Replayed" not in reply.headers
    [entry] = [e for e in ledger(stack) if e["kind"] == "redeem"]
    assert (entry["points"], entry["bucket"], entry["order_id"]) == (-30, "available", None)
    balance = audit(stack)
    assert (balance["available"], balance["redeemable"]) == (70, 70)


def test_more_than_available_is_409_insufficient_points_and_writes_nothing(stack):
    start_at()
    earn_available(stack, 100)
    before = (loyalty_items(stack), loyalty(stack), ledger(stack))
    with aws_calls() as calls:
        reply = redeem(stack, "rd-1", 101)
    assert reply.status == 409, reply.text
    assert reply.json["error"]["type"] == "insufficient_points"
    assert writes(calls) == [], calls.calls
    assert (loyalty_items(stack), loyalty(stack), ledger(stack)) == before
    # Nothing was kept of the refused request: the same id may redeem what is there.
    assert cancel_redemption(stack, "rd-1").status == 404
    assert redeem(stack, "rd-1", 100).status == 201
    assert audit(stack)["available"] == 0
    # A customer never seen: refused as well, and no account is created for them.
    items = loyalty_items(stack)
    nobody = redeem(stack, "rd-1", 1, customer_id="c-nobody")
    assert nobody.status == 409 and nobody.json["error"]["type"] == "insufficient_points", nobody.text
    assert loyalty_items(stack) == items
    assert audit(stack, "c-nobody")["available"] == 0


def test_the_same_redemption_three_times_is_one_entry_and_the_same_answer(stack):
    start_at()
    earn_available(stack, 100)
    first = redeem(stack, "rd-1", 30)
    items = loyalty_items(stack)
    with aws_calls() as calls:
        repeats = [redeem(stack, "rd-1", 30), redeem(stack, "rd-1", 30)]
    assert first.status == 201
    for again in repeats:
        assert (again.status, again.json) == (201, first.json)
        assert again.headers.get("Idempotent-Replayed") == "true"
    assert writes(calls) == [], calls.calls
    assert loyalty_items(stack) == items
    # Key order does not make another body.
    body = {"points": 30, "redemption_id": "rd-1"}
    swapped = call(stack, "POST", f"{account_path()}/redemptions", body)
    assert (swapped.status, swapped.json) == (201, first.json)
    assert kinds(e for e in ledger(stack) if e["kind"] == "redeem") == [("redeem", -30)]
    assert audit(stack)["available"] == 70


def test_a_reused_redemption_id_or_idempotency_key_with_another_body_is_409(stack):
    start_at()
    earn_available(stack, 100)
    key = {"headers": {"Idempotency-Key": "k-1"}}
    first = redeem(stack, "rd-1", 30, **key)
    assert first.status == 201, first.text
    again = redeem(stack, "rd-1", 30, **key)
    assert (again.status, again.json) == (201, first.json)
    assert again.headers.get("Idempotent-Replayed") == "true"
    items, entries = loyalty_items(stack), ledger(stack)
    conflicts = [
        redeem(stack, "rd-1", 31),  # the id with other points
        redeem(stack, "rd-1", 30, order_id="o-9"),  # ... naming an order
        redeem(stack, "rd-2", 30, **key),  # the key with another redemption
        redeem(stack, "rd-1", 40, **key),
        adjust(stack, "a-1", 5, **key),  # ... or with an adjustment
    ]
    for other in conflicts:
        assert other.status == 409, other.text
        assert other.json["error"]["type"] == "idempotency_conflict"
    assert (loyalty_items(stack), ledger(stack)) == (items, entries)
    assert cancel_redemption(stack, "rd-2").status == 404
    assert audit(stack)["available"] == 70
    # Another key for another redemption is a new one.
    assert redeem(stack, "rd-2", 30, headers={"Idempotency-Key": "k-2"}).json["available"] == 40


def test_delete_gives_the_points_back_once(stack):
    start_at()
    earn_available(stack, 100)
    assert redeem(stack, "rd-1", 40).json["available"] == 60
    first = cancel_redemption(stack, "rd-1")
    assert first.status == 200, first.text
    assert first.json == {
        "redemption_id": "rd-1",
        "status": "cancelled",
        "points_returned": 40,
        "available": 100,
    }
    items = loyalty_items(stack)
    with aws_calls() as calls:
        repeats = [cancel_redemption(stack, "rd-1"), cancel_redemption(stack, "rd-1")]
    assert [(r.status, r.json) for r in repeats] == [(200, first.json)] * 2
    assert writes(calls) == []
    assert loyalty_items(stack) == items
    # Repeating the redemption itself now replays it: the points are not taken again.
    assert redeem(stack, "rd-1", 40).status == 201
    entries = ledger(stack)
    assert sorted(kinds(e for e in entries if e["kind"].startswith("rede"))) == [
        ("redeem", -40),
        ("redemption_cancel", 40),
    ]
    assert audit(stack)["available"] == 100
    # An unknown id, and this customer's id under another customer, are 404.
    for unknown in (
        cancel_redemption(stack, "rd-never"),
        cancel_redemption(stack, "rd-1", customer_id="c-456"),
    ):
        assert unknown.status == 404 and unknown.json["error"]["type"] == "not_found", unknown.text
    assert loyalty_items(stack) == items


def test_a_partial_refund_of_the_named_order_returns_its_share_and_delete_only_the_rest(stack):
    start_at()
    earn_available(stack, 100)
    send_order(stack, order_id="o-2", total="5000", occurred_at=now_iso())
    assert redeem(stack, "rd-1", 60, order_id="o-2").json["available"] == 40
    refund = {"order_id": "o-2", "type_": "refunded", "occurred_at": now_iso()}
    send_order(stack, **refund, refund_id="f-1", refund_amount="2500")
    stack.drain()
    returns = [e for e in ledger(stack) if e["kind"] == "redemption_return"]
    assert [(e["points"], e["bucket"], e["order_id"]) for e in returns] == [(30, "available", "o-2")]
    assert audit(stack)["available"] == 70
    first = cancel_redemption(stack, "rd-1")
    assert (first.json["points_returned"], first.json["available"]) == (30, 100), first.text
    assert cancel_redemption(stack, "rd-1").json == first.json
    # The rest of the order refunded after the DELETE gives back nothing more.
    send_order(stack, **refund, refund_id="f-2", refund_amount="2500")
    stack.drain()
    entries = ledger(stack)
    given_back = sum(e["points"] for e in entries if e["kind"] in ("redemption_return", "redemption_cancel"))
    assert given_back == 60
    balance = audit(stack)
    assert (balance["available"], balance["pending"]) == (100, 0)


def test_a_cancelled_order_returns_the_whole_redemption_and_delete_then_nothing(stack):
    start_at()
    earn_available(stack, 100)
    send_order(stack, order_id="o-2", total="5000", occurred_at=now_iso())
    assert redeem(stack, "rd-1", 60, order_id="o-2").status == 201
    send_order(stack, order_id="o-2", type_="cancelled", occurred_at=now_iso())
    stack.drain()
    assert [e["points"] for e in ledger(stack) if e["kind"] == "redemption_return"] == [60]
    assert audit(stack)["available"] == 100
    reply = cancel_redemption(stack, "rd-1")
    assert reply.status == 200, reply.text
    assert (reply.json["points_returned"], reply.json["available"]) == (0, 100)
    assert not [e for e in ledger(stack) if e["kind"] == "redemption_cancel"]
    balance = audit(stack)
    assert (balance["available"], balance["pending"]) == (100, 0)


def test_two_redemptions_of_one_order_never_get_back_more_than_redeemed(stack):
    start_at()
    earn_available(stack, 100)
    send_order(stack, order_id="o-2", total="3000", occurred_at=now_iso())
    assert redeem(stack, "rd-1", 7, order_id="o-2").status == 201
    assert redeem(stack, "rd-2", 5, order_id="o-2").status == 201
    send_order(
        stack, order_id="o-2", type_="refunded", occurred_at=now_iso(), refund_id="f", refund_amount="1000"
    )
    stack.drain()
    assert [e["points"] for e in ledger(stack) if e["kind"] == "redemption_return"] == [4]  # floor(12 / 3)
    back = [cancel_redemption(stack, r).json["points_returned"] for r in ("rd-1", "rd-2", "rd-1", "rd-2")]
    assert back[2:] == back[:2]
    entries = ledger(stack)
    given_back = sum(e["points"] for e in entries if e["kind"] in ("redemption_return", "redemption_cancel"))
    assert given_back == 12
    assert audit(stack)["available"] == 100


def test_a_negative_balance_after_a_refund_cannot_redeem(stack):
    start_at()
    earn_available(stack, 100)
    assert redeem(stack, "rd-1", 100).json["available"] == 0  # spent, on another order
    send_order(
        stack,
        order_id="o-seed",
        type_="refunded",
        occurred_at=now_iso(),
        refund_id="f",
        refund_amount="10000",
    )
    stack.drain()
    balance = audit(stack)
    assert (balance["available"], balance["redeemable"], balance["expiring"]) == (-100, 0, []), balance
    items = loyalty_items(stack)
    for refused in (redeem(stack, "rd-2", 1), adjust(stack, "a-1", -1)):
        assert refused.status == 409 and refused.json["error"]["type"] == "insufficient_points", refused.text
    assert loyalty_items(stack) == items
    # A goodwill credit smaller than the debt still leaves nothing redeemable.
    assert adjust(stack, "a-2", 40).json["available"] == -60
    assert redeem(stack, "rd-3", 1).status == 409
    balance = audit(stack)
    assert (balance["available"], balance["redeemable"]) == (-60, 0)


def test_a_guest_is_their_email_address_in_any_case(stack):
    start_at()
    guest = {"email": "Taro@Example.jp", "name": "山田太郎", "locale": "ja"}
    earn_available(stack, 100, customer=guest)
    balance = loyalty(stack, "Taro@Example.jp")
    assert (balance["customer_id"], balance["available"]) == ("taro@example.jp", 100)
    assert redeem(stack, "rd-1", 30, customer_id="TARO@example.JP").json["available"] == 70
    assert (
        redeem(stack, "rd-1", 30, customer_id="taro@example.jp").headers.get("Idempotent-Replayed") == "true"
    )
    assert cancel_redemption(stack, "rd-1", customer_id="taro@EXAMPLE.jp").json["points_returned"] == 30
    assert len([e for e in ledger(stack, "Taro@Example.jp") if e["kind"] == "redeem"]) == 1
    assert audit(stack, "taro@example.jp")["available"] == 100
    assert loyalty(stack)["available"] == 0  # c-123 is another customer


def test_another_store_sees_zeros_and_cannot_touch_the_redemption(stack):
    start_at()
    earn_available(stack, 100)
    assert redeem(stack, "rd-1", 40).status == 201
    other = create_other_store()
    items = loyalty_items(stack)
    theirs = call(stack, "GET", account_path(), **other)
    assert theirs.status == 200, theirs.text
    assert (theirs.json["available"], theirs.json["pending"], theirs.json["tier"]) == (0, 0, None)
    assert call(stack, "GET", f"{account_path()}/ledger", **other).json == {
        "entries": [],
        "next_cursor": None,
    }
    assert cancel_redemption(stack, "rd-1", **other).status == 404
    refused = redeem(stack, "rd-1", 40, **other)
    assert refused.status == 409 and refused.json["error"]["type"] == "insufficient_points"
    assert loyalty_items(stack) == items
    assert audit(stack)["available"] == 60
    assert cancel_redemption(stack, "rd-1").json["points_returned"] == 40


BAD_BODIES = [
    ({"points": 10}, "redemption_id"),
    ({"redemption_id": "rd-1"}, "points"),
    ({"redemption_id": "rd-1", "points": 0}, "points"),
    ({"redemption_id": "rd-1", "points": -5}, "points"),
    ({"redemption_id": "rd-1", "points": 10_000_001}, "points"),
    ({"redemption_id": "rd-1", "points": 10, "note": "x"}, "note"),
]


def test_bad_bodies_are_422_naming_the_field_and_write_nothing(stack):
    start_at()
    for body, field in BAD_BODIES:
        reply = call(stack, "POST", f"{account_path()}/redemptions", body)
        assert reply.status == 422, (body, reply.text)
        assert field in [f["field"] for f in reply.json["error"]["fields"]], (body, reply.text)
    assert loyalty_items(stack) == 0
