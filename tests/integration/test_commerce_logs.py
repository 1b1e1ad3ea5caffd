"""The commerce and marketing paths log ids, never personal data: carts, orders, consent, a cart
reminder (also one whose send fails first), an unsubscribe; for a customer with an id and for a
guest, whose customer id is their email address."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from omotenashi import clock
from tests.integration.test_cart_reminders import T0, _iso, advance_to, reminders
from tests.support import aws_fault, call

EMAIL = "hanako.private@example.jp"
GUEST = "Kenji.Guest@Example.jp"  # a guest's customer id is the lower-cased address
NAME = "佐藤花子"
GUEST_NAME = "鈴木健二"
ITEM = "秘蔵の抹茶セット"
CART_URL = "https://shop.example/cart/k7QpZ2-secret"
GUEST_CART_URL = "https://shop.example/cart/g9XyW4-secret"
WORDING = "季節のお便りメールを受け取ります"
SECRET_BITS = [EMAIL, GUEST, GUEST.lower(), NAME, GUEST_NAME, ITEM, CART_URL, GUEST_CART_URL, WORDING]


@pytest.fixture
def structured_logs(stack, caplog):
    from omotenashi.observability import logger

    buffer = io.StringIO()  # what Lambda would ship to CloudWatch: the JSON lines
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("omotenashi").addHandler(handler)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="omotenashi")
    clock.set_source(lambda: T0)
    yield lambda: buffer.getvalue() + caplog.text
    clock.set_source(None)
    logging.getLogger("omotenashi").removeHandler(handler)


def _cart(customer: dict[str, Any], cart_id: str, url: str, at, items: int = 1) -> dict[str, Any]:
    return {
        "cart_id": cart_id,
        "customer": customer,
        "items": [
            {
                "sku": "MATCHA-9",
                "name": ITEM,
                "quantity": 1,
                "unit_price": "5400",
                "product_url": "https://shop.example/p/matcha-9",
            }
        ][:items],
        "currency": "JPY",
        "subtotal": "5400" if items else "0",
        "cart_url": url,
        "updated_at": _iso(at),
    }


def test_commerce_and_marketing_logs_carry_no_personal_data(stack, structured_logs):
    customer = {"id": "c-555", "email": EMAIL, "name": NAME, "locale": "ja"}
    guest = {"email": GUEST, "name": GUEST_NAME, "locale": "en"}
    guest_path = f"/v1/customers/{quote(GUEST.lower(), safe='@')}/consent"
    for path, email in (("/v1/customers/c-555/consent", EMAIL), (guest_path, GUEST.lower())):
        body = {"email": email, "marketing_email": True, "source": "checkout_checkbox", "wording": WORDING}
        assert call(stack, "PUT", path, body).status == 200
        assert call(stack, "GET", path).status == 200
    # Refused and invalid requests are logged too.
    bad = {"email": EMAIL, "marketing_email": "yes", "source": "x", "wording": WORDING}
    assert call(stack, "PUT", "/v1/customers/c-555/consent", bad).status == 422
    assert (
        call(
            stack, "POST", "/v1/events/carts", {**_cart(customer, "c1", CART_URL, T0), "currency": "yen"}
        ).status
        == 422
    )
    assert (
        call(stack, "POST", "/v1/events/carts", _cart(customer, "c1", CART_URL, T0), secret="wrong").status
        == 401
    )

    assert call(stack, "POST", "/v1/events/carts", _cart(customer, "cart-a", CART_URL, T0)).status == 202
    assert call(stack, "POST", "/v1/events/carts", _cart(guest, "cart-g", GUEST_CART_URL, T0)).status == 202
    stack.drain()
    assert call(stack, "GET", "/v1/carts/cart-a").status == 200
    advance_to(stack, T0 + timedelta(minutes=59))
    clock.advance(120)
    stack.run_schedules()
    with aws_fault("ses", "SendRawEmail") as failures:  # a failed send logs a traceback
        stack.drain()
    assert failures[0] == 1
    stack.advance(60)
    sent = reminders(stack)
    assert len(sent) == 2, sent

    for mail in sent:  # both customers unsubscribe by link: the page, then one click
        link = mail["headers"]["List-Unsubscribe"].strip("<>")
        path = link[link.index("/v1/unsubscribe") :]
        assert call(stack, "GET", path, sign=False).status == 200
        assert call(stack, "POST", path, sign=False).status == 200
    assert call(stack, "POST", "/v1/unsubscribe?token=forged", sign=False).status == 400

    order = {
        "order_id": "o-9",
        "type": "placed",
        "customer": customer,
        "cart_id": "cart-a",
        "items": [{"sku": "MATCHA-9", "name": ITEM, "quantity": 1, "unit_price": "5400"}],
        "currency": "JPY",
        "total": "5400",
        "occurred_at": _iso(clock.now()),
    }
    assert call(stack, "POST", "/v1/events/orders", order).status == 202
    guest_order = {**order, "order_id": "o-10", "customer": guest, "cart_id": "cart-g"}
    assert call(stack, "POST", "/v1/events/orders", guest_order).status == 202
    stack.drain()
    assert call(stack, "GET", "/v1/orders/o-9").status == 200
    assert (
        call(stack, "POST", "/v1/events/carts", _cart(guest, "cart-g", GUEST_CART_URL, clock.now(), 0)).status
        == 202
    )
    stack.advance(25 * 3600)

    logged = structured_logs()
    for line in ("event applied", "marketing decision", "unsubscribed through a link", "cart-a"):
        assert line in logged  # the logs are there, and carry ids
    for bit in SECRET_BITS:
        assert bit not in logged, f"{bit!r} leaked into logs"
    for mail in sent:
        token = mail["headers"]["List-Unsubscribe"].strip("<>").partition("token=")[2]
        assert token not in logged
    assert "demo-secret" not in logged
