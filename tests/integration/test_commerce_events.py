"""Cart and order events: stored first (one conditional write whose stream hands them to the
event worker), applied in any order with the same result, read back through the API."""

from __future__ import annotations

from decimal import Decimal

from tests.support import aws_calls, call

CARTS, ORDERS = "/v1/events/carts", "/v1/events/orders"


def cart(cart_id="cart-77", updated_at="2026-11-22T01:02:03Z", items=None, customer=None, **extra):
    body = {
        "cart_id": cart_id,
        "customer": customer
        or {"id": "c-123", "email": "taro@example.jp", "name": "山田太郎", "locale": "ja"},
        "items": items
        if items is not None
        else [
            {
                "sku": "TEA-01",
                "name": "玉露 100g",
                "quantity": 2,
                "unit_price": "1620",
                "product_url": "https://shop.example/p/tea-01",
                "image_url": "https://shop.example/i/tea-01.jpg",
            }
        ],
        "currency": "JPY",
        "subtotal": "3240"
        if items is None
        else str(sum(Decimal(i["unit_price"]) * i["quantity"] for i in items)),
        "cart_url": f"https://shop.example/cart/{cart_id}",
        "updated_at": updated_at,
    }
    body.update(extra)
    return body


def order(order_id="o-1001", type_="placed", occurred_at="2026-11-22T02:00:00Z", **extra):
    body = {
        "order_id": order_id,
        "type": type_,
        "customer": {"id": "c-123", "email": "taro@example.jp"},
        "occurred_at": occurred_at,
    }
    if type_ == "placed":
        body.update(
            {
                "cart_id": "cart-77",
                "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}],
                "currency": "JPY",
                "total": "3240",
                "shipping": "0",
            }
        )
    body.update(extra)
    return body


def test_cart_event_is_stored_with_one_write_and_applied_by_the_worker(stack):
    assert call(stack, "POST", CARTS, cart(cart_id="warm-up")).status == 202  # the store is cached now
    with aws_calls() as calls:
        reply = call(stack, "POST", CARTS, cart())
    assert reply.status == 202, reply.text
    assert reply.json == {"cart_id": "cart-77", "updated_at": "2026-11-22T01:02:03Z", "status": "accepted"}
    api_calls = [c for c in calls.calls if c[0] in ("dynamodb", "sqs")]
    assert api_calls == [("dynamodb", "PutItem")], api_calls  # the write is the hand-off
    stack.drain()
    view = call(stack, "GET", "/v1/carts/cart-77")
    assert view.status == 200, view.text
    got = view.json
    assert got["status"] == "active" and got["customer_id"] == "c-123" and got["subtotal"] == "3240"
    assert got["items"][0]["unit_price"] == "1620" and got["reminders_sent"] == 0
    assert got["recovered_order_id"] is None


def test_repeats_answer_as_the_first_and_a_changed_body_is_409(stack):
    first = call(stack, "POST", CARTS, cart())
    again = call(stack, "POST", CARTS, cart())
    assert again.status == 202 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    changed = call(stack, "POST", CARTS, cart(subtotal="9999"))
    assert changed.status == 409, changed.text
    stack.drain()
    assert call(stack, "GET", "/v1/carts/cart-77").json["subtotal"] == "3240"


def test_an_older_update_changes_nothing(stack):
    call(stack, "POST", CARTS, cart(updated_at="2026-11-22T05:00:00Z"))
    call(stack, "POST", CARTS, cart(updated_at="2026-11-22T04:00:00Z", items=[]))
    stack.drain()
    got = call(stack, "GET", "/v1/carts/cart-77").json
    assert got["status"] == "active" and got["updated_at"] == "2026-11-22T05:00:00Z"


def test_an_emptied_cart(stack):
    call(stack, "POST", CARTS, cart())
    call(stack, "POST", CARTS, cart(updated_at="2026-11-22T01:30:00Z", items=[]))
    stack.drain()
    assert call(stack, "GET", "/v1/carts/cart-77").json["status"] == "emptied"


def test_an_order_naming_the_cart_ends_it_also_when_it_arrives_first(stack):
    call(stack, "POST", ORDERS, order())
    stack.drain()
    call(stack, "POST", CARTS, cart())
    stack.drain()
    got = call(stack, "GET", "/v1/carts/cart-77").json
    assert got["status"] == "ordered" and got["ordered_by"] == "o-1001"


def test_an_order_of_the_customer_after_the_update_ends_the_cart(stack):
    call(stack, "POST", CARTS, cart(cart_id="cart-9"))
    call(stack, "POST", ORDERS, order(order_id="o-2", cart_id=None))
    stack.drain()
    assert call(stack, "GET", "/v1/carts/cart-9").json["status"] == "ordered"
    # A later update of the cart (the customer shops again) makes it active again.
    call(stack, "POST", CARTS, cart(cart_id="cart-9", updated_at="2026-11-23T00:00:00Z"))
    stack.drain()
    assert call(stack, "GET", "/v1/carts/cart-9").json["status"] == "active"


def test_order_state_is_derived_from_every_event_in_any_order(stack):
    call(stack, "POST", ORDERS, order(type_="delivered", occurred_at="2026-11-24T09:00:00Z"))
    stack.drain()
    early = call(stack, "GET", "/v1/orders/o-1001").json
    assert early["status"] == "delivered" and early["total"] is None
    call(stack, "POST", ORDERS, order())
    call(stack, "POST", ORDERS, order(type_="fulfilled", occurred_at="2026-11-23T09:00:00Z"))
    refund = order(
        type_="refunded",
        occurred_at="2026-11-25T00:00:00Z",
        refund_id="r-1",
        refund_amount="1620",
        currency="JPY",
    )
    call(stack, "POST", ORDERS, refund)
    call(stack, "POST", ORDERS, refund)  # twice: stored once
    stack.drain()
    got = call(stack, "GET", "/v1/orders/o-1001").json
    assert got["status"] == "refunded" and got["total"] == "3240" and got["currency"] == "JPY"
    assert got["refunded_total"] == "1620" and got["customer_id"] == "c-123"
    assert [h["type"] for h in got["history"]] == ["placed", "fulfilled", "delivered", "refunded"]


def test_money_is_exact_and_bad_events_name_their_field(stack):
    usd = cart(
        cart_id="cart-usd",
        currency="USD",
        subtotal=16.2,
        items=[{"sku": "A", "name": "Tea", "quantity": 1, "unit_price": "16.20"}],
    )
    assert call(stack, "POST", CARTS, usd).status == 202
    stack.drain()
    got = call(stack, "GET", "/v1/carts/cart-usd").json
    assert got["subtotal"] == "16.20" and got["items"][0]["unit_price"] == "16.20"  # USD: two decimals
    for body, field in [
        (cart(subtotal="-1"), "subtotal"),
        (cart(subtotal="12.5"), "body"),  # JPY has no minor unit
        (cart(updated_at="2026-11-22T01:02:03"), "updated_at"),  # no offset
        (cart(customer={"name": "x"}), "customer"),
        (order(type_="refunded"), "body"),
        (order(total=None), "body"),
    ]:
        reply = call(stack, "POST", ORDERS if "order_id" in body else CARTS, body)
        assert reply.status == 422, (body, reply.text)
        fields = [f["field"] for f in reply.json["error"]["fields"]]
        assert any(f == field or f.startswith(field + ".") for f in fields), (field, fields)


def test_unknown_cart_and_order_are_404_and_another_store_sees_nothing(stack):
    call(stack, "POST", CARTS, cart())
    stack.drain()
    assert call(stack, "GET", "/v1/carts/nope").status == 404
    assert call(stack, "GET", "/v1/orders/nope").status == 404


def test_a_failing_record_is_retried_and_nothing_is_lost(stack):
    from tests.support import aws_fault

    call(stack, "POST", CARTS, cart())
    with aws_fault("dynamodb", "UpdateItem") as failures:
        stack.stream_pollers[0].poll_once()  # the worker's cart write fails once
    assert failures == [1]
    assert call(stack, "GET", "/v1/carts/cart-77").status == 404  # not applied yet
    stack.drain()  # the stream hands the record again
    assert call(stack, "GET", "/v1/carts/cart-77").json["status"] == "active"
