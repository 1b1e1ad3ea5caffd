"""Every permutation, with repeats, of one customer's cart and order events ends in the same
carts and order as the events sent in time order (the contract: their own time decides)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import call

_run = itertools.count()
BASE = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


def _at(minutes: int) -> str:
    return (BASE + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _events(tag: str, plan: dict) -> list[tuple[int, str, dict]]:
    """(time, path, body) for one customer: two updates of cart A, one of cart B, an order that
    may name cart A, and its later events."""
    customer = {"id": f"c-{tag}", "email": f"{tag}@example.jp"}
    item = {"sku": "TEA-01", "name": "玉露", "quantity": 1, "unit_price": "1620"}

    def cart(cart_id: str, minute: int, empty: bool) -> tuple[int, str, dict]:
        body = {
            "cart_id": f"{cart_id}-{tag}",
            "customer": customer,
            "items": [] if empty else [item],
            "currency": "JPY",
            "subtotal": "0" if empty else "1620",
            "updated_at": _at(minute),
        }
        return minute, "/v1/events/carts", body

    def order(type_: str, minute: int, **extra: object) -> tuple[int, str, dict]:
        body = {"order_id": f"o-{tag}", "type": type_, "customer": customer, "occurred_at": _at(minute)}
        body.update(extra)
        return minute, "/v1/events/orders", body

    placed = plan["placed"]
    events = [
        cart("A", plan["a1"], False),
        cart("A", plan["a2"], plan["a2_empty"]),
        cart("B", plan["b"], False),
        order(
            "placed",
            placed,
            items=[item],
            total="1620",
            currency="JPY",
            **({"cart_id": f"A-{tag}"} if plan["names_cart"] else {}),
        ),
        order("delivered", placed + plan["delivered_after"]),
        order("refunded", placed + 500, refund_id="r1", refund_amount="1000", currency="JPY"),
    ]
    return events


def _state(stack, tag: str) -> dict:
    def strip(value: dict) -> dict:
        return {k: str(v).replace(tag, "") for k, v in value.items()}

    return {
        "A": strip(call(stack, "GET", f"/v1/carts/A-{tag}").json),
        "B": strip(call(stack, "GET", f"/v1/carts/B-{tag}").json),
        "order": strip(call(stack, "GET", f"/v1/orders/o-{tag}").json),
    }


plans = st.fixed_dictionaries(
    {
        "a1": st.integers(0, 100),
        "a2": st.integers(101, 300),
        "a2_empty": st.booleans(),
        "b": st.integers(0, 300),
        "placed": st.integers(0, 400),
        "names_cart": st.booleans(),
        "delivered_after": st.integers(1, 50),
    }
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=plans, data=st.data())
def test_any_arrival_order_and_repeats_end_in_the_same_state(stack, plan, data):
    run = next(_run)
    in_order, shuffled = f"s{run}", f"p{run}"
    for _, path, body in sorted(_events(in_order, plan), key=lambda e: e[0]):
        assert call(stack, "POST", path, body).status == 202
        stack.drain()  # each applied before the next arrives
    events = _events(shuffled, plan)
    arrivals = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events), max_size=3))))
    drains = data.draw(st.lists(st.booleans(), min_size=len(arrivals), max_size=len(arrivals)))
    for (_, path, body), drain_now in zip(arrivals, drains, strict=True):
        assert call(stack, "POST", path, body).status == 202
        if drain_now:
            stack.drain()
    stack.drain()
    assert _state(stack, shuffled) == _state(stack, in_order)
