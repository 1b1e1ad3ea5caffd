"""The ledger API: newest first, page by page (limit, next_cursor), every entry exactly once; a
cursor the API did not give out and a limit outside 1-100 are 422, never 500."""

from __future__ import annotations

import base64
import json

from omotenashi import clock
from tests.integration.loyalty.helpers import (
    account_path,
    adjust,
    audit,
    cancel_redemption,
    earn_available,
    ledger,
    redeem,
    start_at,
)
from tests.support import call


def pages(stack, limit: int, customer_id: str = "c-123") -> list[list[dict]]:
    """Every page of the ledger, following next_cursor (bounded: a cursor loop fails the test)."""
    found: list[list[dict]] = []
    cursor = None
    for _ in range(50):
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        reply = call(stack, "GET", f"{account_path(customer_id)}/ledger?{query}")
        assert reply.status == 200, reply.text
        found.append(reply.json["entries"])
        cursor = reply.json["next_cursor"]
        assert len(found[-1]) <= limit
        if cursor is None:
            return found
        assert len(found[-1]) == limit  # a short page is the last one
    raise AssertionError("next_cursor never ended")


def ids(entries) -> list[str]:
    return [e["entry_id"] for e in entries]


def test_pages_of_two_hold_every_entry_once_newest_first(stack):
    start_at()
    earn_available(stack, 100)  # earn, then confirm out of pending and into available
    for change in (
        lambda: adjust(stack, "adj-1", 10),
        lambda: redeem(stack, "rd-1", 20),
        lambda: cancel_redemption(stack, "rd-1"),
        lambda: adjust(stack, "adj-2", -5),
    ):
        clock.advance(60)
        assert change().status in (200, 201)
    everything = ledger(stack)
    assert len(everything) == 7
    assert [(e["kind"], e["points"]) for e in everything[:4]] == [
        ("adjust", -5),
        ("redemption_cancel", 20),
        ("redeem", -20),
        ("adjust", 10),
    ]
    assert everything[-1]["kind"] == "earn", [(e["kind"], e["at"], e["entry_id"]) for e in everything]
    times = [e["at"] for e in everything]
    assert times == sorted(times, reverse=True)
    paged = pages(stack, 2)
    assert [len(p) for p in paged[:3]] == [2, 2, 2]
    assert ids(e for p in paged for e in p) == ids(everything)
    assert audit(stack)["available"] == 105


def test_entries_of_one_instant_are_paged_without_gaps_or_repeats(stack):
    start_at()
    earn_available(stack, 100)
    for n in range(5):  # the clock stands still: five entries at the same instant
        assert adjust(stack, f"adj-{n}", n + 1).status == 201
    everything = ledger(stack)
    assert len(everything) == 8
    for limit in (1, 2, 3):
        flat = ids(e for p in pages(stack, limit) for e in p)
        assert flat == ids(everything), limit
        assert len(set(flat)) == len(flat)
    assert audit(stack)["available"] == 115


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def test_a_bad_cursor_or_limit_is_422_and_a_customer_without_points_reads_zeros(stack):
    start_at()
    path = f"{account_path()}/ledger"
    garbage = [
        "abc",
        "!!!",
        "not-a-cursor",
        _b64(b"not json"),
        _b64(b'{"ledger_at": "x", "key": "y"}'),
        _b64(b'["only one"]'),
        _b64(b"[1, 2]"),
        _b64(b"\xff\xfe\xfd"),
        "x" * 2001,
    ]
    for cursor in garbage:
        reply = call(stack, "GET", f"{path}?limit=2&cursor={cursor}")
        assert reply.status == 422, (cursor, reply.text)
        assert "cursor" in reply.json["error"]["fields"][0]["field"], reply.text
    # A well-formed position the API never gave out is no error either.
    forged = call(stack, "GET", f"{path}?cursor={_b64(json.dumps(['9999', 'entry#x']).encode())}")
    assert forged.status == 200 and forged.json["entries"] == [], forged.text
    for limit in ("0", "101", "-1", "two", ""):
        reply = call(stack, "GET", f"{path}?limit={limit}")
        assert reply.status == 422, (limit, reply.text)
        assert "limit" in reply.json["error"]["fields"][0]["field"], reply.text
    for limit in ("1", "100"):
        assert call(stack, "GET", f"{path}?limit={limit}").json == {"entries": [], "next_cursor": None}
    balance = audit(stack)
    assert (balance["available"], balance["pending"], balance["redeemable"], balance["tier"]) == (
        0,
        0,
        0,
        None,
    )
    assert balance["expiring"] == []
