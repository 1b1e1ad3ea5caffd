"""Staff adjustments: signed, with a reason and an author; positive ones are an earning (they
extend the expiry of every available point), negative ones obey the redemption rule (409
insufficient_points, nothing written); idempotent by adjustment_id and Idempotency-Key."""

from __future__ import annotations

import pytest

from tests.integration.helpers import item_count
from tests.integration.loyalty.helpers import (
    account_path,
    adjust,
    audit,
    earn_available,
    ledger,
    loyalty,
    send_order,
    start_at,
    writes,
)
from tests.support import aws_calls, call

DAY = 86400


def loyalty_items(stack) -> int:
    return item_count(stack, "LoyaltyTable")


@pytest.mark.parametrize("history", ["never seen", "pending points only"])
def test_a_first_adjustment_credits_a_customer_without_available_points(stack, history):
    start_at()
    if history == "pending points only":
        send_order(stack, total="3240")
        stack.drain()
        assert loyalty(stack)["pending"] == 32
    reply = adjust(stack, "adj-1", 100)
    assert reply.status == 201, reply.text
    assert reply.json == {"adjustment_id": "adj-1", "points": 100, "available": 100}
    assert audit(stack)["available"] == 100


def test_a_positive_adjustment_is_201_and_extends_the_expiry(stack):
    start_at()
    earn_available(stack, 100)
    [before] = loyalty(stack)["expiring"]
    stack.advance(40 * DAY)
    body = {"adjustment_id": "adj-1", "points": 10, "reason": "お詫び", "author": "hanako@demo.example"}
    reply = call(stack, "POST", f"{account_path()}/adjustments", body)
    assert reply.status == 201, reply.text
    assert reply.json == {"adjustment_id": "adj-1", "points": 10, "available": 110}
    [after] = audit(stack)["expiring"]
    assert after["points"] == 110
    assert after["expires_at"] > before["expires_at"]
    [entry] = [e for e in ledger(stack) if e["kind"] == "adjust"]
    assert (entry["points"], entry["bucket"], entry["reason"], entry["author"]) == (
        10,
        "available",
        "お詫び",
        "hanako@demo.example",
    )
    assert entry["expires_at"] == after["expires_at"]


def test_a_negative_adjustment_beyond_available_is_409_and_writes_nothing(stack):
    start_at()
    earn_available(stack, 100)
    stack.advance(40 * DAY)
    before = (loyalty_items(stack), loyalty(stack), ledger(stack))
    with aws_calls() as calls:
        refused = adjust(stack, "adj-1", -101)
    assert refused.status == 409, refused.text
    assert refused.json["error"]["type"] == "insufficient_points"
    assert writes(calls) == [], calls.calls
    assert (loyalty_items(stack), loyalty(stack), ledger(stack)) == before
    # All of it may go; a deduction is no earning: the expiry stays where it was.
    taken = adjust(stack, "adj-1", -100)
    assert (taken.status, taken.json["available"]) == (201, 0), taken.text
    [entry] = [e for e in ledger(stack) if e["kind"] == "adjust"]
    assert (entry["points"], entry["expires_at"]) == (-100, None)
    balance = audit(stack)
    assert (balance["available"], balance["expiring"]) == (0, [])
    assert adjust(stack, "adj-2", -1).json["error"]["type"] == "insufficient_points"


BAD_BODIES = [
    ({"points": 10, "reason": "r", "author": "a"}, "adjustment_id"),
    ({"adjustment_id": "adj-1", "reason": "r", "author": "a"}, "points"),
    ({"adjustment_id": "adj-1", "points": 0, "reason": "r", "author": "a"}, "points"),
    ({"adjustment_id": "adj-1", "points": 1.5, "reason": "r", "author": "a"}, "points"),
    ({"adjustment_id": "adj-1", "points": 10, "author": "a"}, "reason"),
    ({"adjustment_id": "adj-1", "points": 10, "reason": "   ", "author": "a"}, "reason"),
    ({"adjustment_id": "adj-1", "points": 10, "reason": "r"}, "author"),
    ({"adjustment_id": "adj-1", "points": 10, "reason": "r", "author": ""}, "author"),
    ({"adjustment_id": "adj-1", "points": 10, "reason": "r", "author": "a", "extra": 1}, "extra"),
]


def test_bad_bodies_are_422_naming_the_field_and_write_nothing(stack):
    start_at()
    for body, field in BAD_BODIES:
        reply = call(stack, "POST", f"{account_path()}/adjustments", body)
        assert reply.status == 422, (body, reply.text)
        assert field in [f["field"] for f in reply.json["error"]["fields"]], (body, reply.text)
    assert loyalty_items(stack) == 0


def test_the_same_adjustment_three_times_changes_once_and_another_body_is_409(stack):
    start_at()
    earn_available(stack, 100)
    items = loyalty_items(stack)
    for adjustment_id, points, available in (("adj-plus", 10, 110), ("adj-minus", -30, 80)):
        key = {"headers": {"Idempotency-Key": f"k-{adjustment_id}"}}
        answers = [adjust(stack, adjustment_id, points, **key) for _ in range(3)]
        assert [(a.status, a.json) for a in answers] == [
            (201, {"adjustment_id": adjustment_id, "points": points, "available": available})
        ] * 3
        assert [a.headers.get("Idempotent-Replayed") for a in answers] == [None, "true", "true"]
        assert adjust(stack, adjustment_id, points).json == answers[0].json  # without the key too
    # Each adjustment: its entry and its key; nothing more for the repeats.
    assert loyalty_items(stack) == items + 4
    entries = ledger(stack)
    assert sorted(e["points"] for e in entries if e["kind"] == "adjust") == [-30, 10]
    with aws_calls() as calls:
        conflicts = [
            adjust(stack, "adj-plus", 11),  # the id with another body
            adjust(stack, "adj-new", 10, headers={"Idempotency-Key": "k-adj-plus"}),  # the key
        ]
    for conflict in conflicts:
        assert conflict.status == 409, conflict.text
        assert conflict.json["error"]["type"] == "idempotency_conflict"
    assert writes(calls) == []
    assert (loyalty_items(stack), ledger(stack)) == (items + 4, entries)
    assert audit(stack)["available"] == 80
