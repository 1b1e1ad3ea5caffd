"""Each function reads only the variables it declares (settings.FUNCTION_SETTINGS), which are the
only ones the template gives it. The local stack shares one process environment between functions,
so here every invocation runs with exactly its own function's environment, as on Lambda; a read of
an undeclared table or queue then fails, and the flow below would not complete."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from omotenashi import clock
from omotenashi.settings import FUNCTION_SETTINGS, reset_settings
from omotenashi_local.runtime import FunctionPool
from tests import ses_samples
from tests.integration.email import mail
from tests.support import call, inquiry_body

DECLARED = {name for names in FUNCTION_SETTINGS.values() for name in names}


@pytest.fixture
def isolated_environments(stack, monkeypatch):
    from omotenashi.dal import tables
    from omotenashi.logic.core.directory import directory

    real_invoke = FunctionPool.invoke
    seen: dict[str, set[str]] = {}

    def forget_cached_state() -> None:
        reset_settings()
        tables.unbind()
        directory.clear()  # the API's cached stores must not hide a worker's own store reads

    def invoke_with_own_environment(self, event):
        saved = dict(os.environ)
        for name in DECLARED:
            os.environ.pop(name, None)
        own = {k: v for k, v in self.spec.environment.items() if k in DECLARED}
        os.environ.update(own)
        seen[self.spec.code_dir.name] = set(own)
        forget_cached_state()
        try:
            return real_invoke(self, event)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            forget_cached_state()

    monkeypatch.setattr(FunctionPool, "invoke", invoke_with_own_environment)
    yield seen


def test_every_function_works_with_only_its_declared_environment(stack, isolated_environments):
    clock.set_source(lambda: datetime(2026, 11, 22, 1, 0, tzinfo=UTC))  # 10:00 JST: no quiet hours
    created = call(stack, "POST", "/v1/inquiries", inquiry_body())
    assert created.status == 202, created.text
    path = f"/v1/inquiries/{created.json['inquiry_id']}"
    stack.drain()
    stack.advance(21 * 3600)  # the sweep enqueues the reminder; the message worker sends it
    reply = call(stack, "POST", f"{path}/replies", {"author": "sato@shop.example", "message": "回答です"})
    assert reply.status == 201, reply.text
    assert call(stack, "POST", f"{path}/messages", {"message": "追加の質問"}).status == 201
    stack.drain()
    assert call(stack, "GET", path).json["status"] == "open"
    assert call(stack, "POST", f"{path}/close").status == 200
    consent = {"email": "c1@example.jp", "marketing_email": True, "source": "checkout", "wording": "はい"}
    assert call(stack, "PUT", "/v1/customers/c-1/consent", consent).status == 200
    assert call(stack, "GET", "/v1/customers/c-1/consent").json["marketing_email"] is True
    cart = {
        "cart_id": "cart-1",
        "customer": {"id": "c-1", "email": "c1@example.jp"},
        "items": [{"sku": "A", "name": "玉露", "quantity": 1, "unit_price": "1620"}],
        "currency": "JPY",
        "subtotal": "1620",
        "cart_url": "https://shop.example/cart/cart-1",
        "updated_at": clock.isoformat(clock.now()),
    }
    assert call(stack, "POST", "/v1/events/carts", cart).status == 202
    stack.drain()  # the event worker applies it and plans the reminders, with only its own variables
    assert call(stack, "GET", "/v1/carts/cart-1").json["status"] == "active"
    stack.advance(2 * 3600)  # the sweep finds the 1-hour reminder; the marketing worker sends it
    kinds = sorted(m["kind"] for m in stack.outbox())
    expected = ["cart_reminder", "inquiry_auto_reply", "inquiry_reply", "sla_reminder", "staff_new_inquiry"]
    assert kinds == expected, kinds
    # Loyalty: an order earns points (event worker), delivered, confirmed 14 days later (the sweep
    # finds it; the loyalty worker confirms it; the message worker sends points_earned).
    customer = {"id": "c-1", "email": "c1@example.jp"}
    placed = {
        "order_id": "o-1",
        "type": "placed",
        "customer": customer,
        "items": [{"sku": "A", "name": "玉露", "quantity": 1, "unit_price": "1620"}],
        "currency": "JPY",
        "total": "1620",
        "occurred_at": clock.isoformat(clock.now()),
    }
    delivered = {
        "order_id": "o-1",
        "type": "delivered",
        "customer": customer,
        "occurred_at": placed["occurred_at"],
    }
    for event in (placed, delivered):
        assert call(stack, "POST", "/v1/events/orders", event).status == 202
    stack.drain()
    stack.advance(15 * 86400)
    balance = call(stack, "GET", "/v1/customers/c-1/loyalty").json
    assert (balance["available"], balance["pending"]) == (16, 0), balance
    assert "points_earned" in {m["kind"] for m in stack.outbox()}
    # Email: SES receiving hands an email to the inbound function; SES's bounce to its function.
    [received] = stack.inbound(mail.iso_2022_jp())["results"]
    assert received["outcome"] == "inquiry_opened", received
    assert stack.ses_notification(ses_samples.bounce())["notifications"]
    assert isolated_environments == {name: set(names) for name, names in FUNCTION_SETTINGS.items()}
    clock.set_source(None)
