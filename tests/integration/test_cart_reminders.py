"""Abandoned-cart reminders end to end on the local clock: timing, stop conditions, the gate, and
what every marketing email carries (特定電子メール法, RFC 8058)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omotenashi import clock
from tests.support import call

HOUR = 3600
T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # 10:00 JST
CUSTOMER = {"id": "c-123", "email": "taro@example.jp", "name": "山田太郎", "locale": "ja"}


@pytest.fixture
def clocked(stack):
    clock.set_source(lambda: T0)
    yield stack
    clock.set_source(None)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def consent(stack, customer_id="c-123", email="taro@example.jp", given=True):
    body = {
        "email": email,
        "marketing_email": given,
        "source": "checkout_checkbox",
        "wording": "お知らせを受け取る",
    }
    assert call(stack, "PUT", f"/v1/customers/{customer_id}/consent", body).status == 200


def cart(stack, cart_id="cart-77", items=1, customer=None, at=None):
    body = {
        "cart_id": cart_id,
        "customer": customer or CUSTOMER,
        "items": [
            {
                "sku": "TEA-01",
                "name": "玉露 100g",
                "quantity": 2,
                "unit_price": "1620",
                "image_url": "https://shop.example/i/tea.jpg",
            }
        ][:items],
        "currency": "JPY",
        "subtotal": "3240" if items else "0",
        "cart_url": f"https://shop.example/cart/{cart_id}",
        "updated_at": _iso(at or clock.now()),
    }
    assert call(stack, "POST", "/v1/events/carts", body).status == 202
    stack.drain()


def order(stack, order_id="o-1", cart_id=None, customer=None):
    body = {
        "order_id": order_id,
        "type": "placed",
        "customer": customer or CUSTOMER,
        "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}],
        "currency": "JPY",
        "total": "3240",
        "occurred_at": _iso(clock.now()),
    }
    if cart_id:
        body["cart_id"] = cart_id
    assert call(stack, "POST", "/v1/events/orders", body).status == 202
    stack.drain()


def reminders(stack):
    return [m for m in stack.outbox() if m["kind"] == "cart_reminder"]


def advance_to(stack, moment: datetime) -> None:
    """In steps of at most 5 hours: every sweep run finds a due step less than 6 hours late (later
    ones are skipped as after an outage), as the every-minute sweep would."""
    while clock.now() < moment:
        stack.advance(min(5 * 3600.0, (moment - clock.now()).total_seconds()))


def test_after_an_outage_overdue_steps_are_skipped_not_sent_in_a_burst(clocked):
    stack = clocked
    consent(stack)
    cart(stack)
    stack.advance(31 * HOUR)  # the sweep did not run for 31 hours: both steps are over 6 h late
    for _ in range(3):
        stack.advance(60)  # the next runs find the second step: also skipped
    assert reminders(stack) == []
    assert call(stack, "GET", "/v1/carts/cart-77").json["reminders_sent"] == 0


def test_two_reminders_at_11_and_next_day_10_each_lawful(clocked):
    stack = clocked
    consent(stack)
    cart(stack)  # 10:00 JST
    advance_to(stack, T0 + timedelta(minutes=59))
    assert reminders(stack) == []
    advance_to(stack, T0 + timedelta(hours=1, minutes=1))
    first = reminders(stack)
    assert len(first) == 1
    advance_to(stack, T0 + timedelta(hours=24, minutes=1))
    sent = reminders(stack)
    assert len(sent) == 2
    for mail in sent:
        assert mail["to"] == ["taro@example.jp"] and mail["from"].endswith("<shop@demo.example>")
        assert mail["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = mail["headers"]["List-Unsubscribe"].strip("<>")
        assert "/v1/unsubscribe?token=" in link
        for part in (mail["text"], mail["html"]):
            assert "玉露 100g" in part and "東京都千代田区千代田1-1" in part
            assert "support@demo.example" in part and "Omotenashi Demo Shop" in part
        assert link in mail["text"]
    got = call(stack, "GET", "/v1/carts/cart-77").json
    assert got["reminders_sent"] == 2 and got["status"] == "active"


def test_an_order_at_12_prevents_the_second_and_recovers_the_cart(clocked):
    stack = clocked
    consent(stack)
    cart(stack)
    advance_to(stack, T0 + timedelta(hours=2))  # 12:00 JST, the first went at 11:00
    order(stack, cart_id="cart-77")
    advance_to(stack, T0 + timedelta(hours=30))
    assert len(reminders(stack)) == 1
    got = call(stack, "GET", "/v1/carts/cart-77").json
    assert got["status"] == "recovered" and got["recovered_order_id"] == "o-1"


@pytest.mark.parametrize(
    "case", ["no_consent", "withdrawn", "open_inquiry", "order_first", "emptied", "suppressed"]
)
def test_no_reminder(clocked, case):
    stack = clocked
    if case != "no_consent":
        consent(stack)
    if case == "withdrawn":
        consent(stack, given=False)
    if case == "open_inquiry":
        inquiry = {
            "customer": {"email": "Taro@example.jp"},
            "channel": "web_form",
            "subject": "破損",
            "message": "商品が割れていました",
        }
        assert call(stack, "POST", "/v1/inquiries", inquiry).status == 202
    if case == "order_first":
        order(stack, cart_id="cart-77")
    if case == "suppressed":  # a hard bounce or a complaint on the address (any case)
        from omotenashi.dal import marketing as marketing_data

        marketing_data.suppress("demo", "Taro@Example.jp", reason="bounce", at=clock.now())
    cart(stack)
    if case == "emptied":
        advance_to(stack, T0 + timedelta(minutes=30))
        cart(stack, items=0)
    advance_to(stack, T0 + timedelta(hours=30))
    assert reminders(stack) == [], case


def test_unsubscribed_by_link_gets_nothing_more(clocked):
    stack = clocked
    consent(stack)
    cart(stack)
    advance_to(stack, T0 + timedelta(hours=1, minutes=1))
    [first] = reminders(stack)
    link = first["headers"]["List-Unsubscribe"].strip("<>")
    path = link[link.index("/v1/unsubscribe") :]
    assert call(stack, "GET", path, sign=False).status == 200
    assert call(stack, "POST", path, sign=False).status == 200
    advance_to(stack, T0 + timedelta(hours=30))
    assert len(reminders(stack)) == 1
    assert call(stack, "GET", "/v1/customers/c-123/consent").json["marketing_email"] is False


def test_a_cart_updated_at_20_30_is_reminded_at_8_next_morning(stack):
    evening = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)  # 20:30 JST
    clock.set_source(lambda: evening)
    try:
        consent(stack)
        cart(stack)
        advance_to(stack, datetime(2026, 11, 22, 22, 59, tzinfo=UTC))  # 07:59 JST
        assert reminders(stack) == []
        advance_to(stack, datetime(2026, 11, 22, 23, 1, tzinfo=UTC))  # 08:01 JST
        [mail] = reminders(stack)
        assert mail["sent_at"] >= "2026-11-22T23:00"
    finally:
        clock.set_source(None)


def test_two_carts_abandoned_within_16_hours_get_one_email(clocked):
    stack = clocked
    consent(stack)
    cart(stack, cart_id="cart-a")
    advance_to(stack, T0 + timedelta(hours=2))
    cart(stack, cart_id="cart-b")
    advance_to(stack, T0 + timedelta(hours=4))
    assert len(reminders(stack)) == 1


def test_repeated_requests_and_redelivered_jobs_send_one_reminder_per_step(clocked):
    stack = clocked
    consent(stack)
    for _ in range(3):
        cart(stack)
    advance_to(stack, T0 + timedelta(hours=1, minutes=1))
    from omotenashi.logic.marketing import cart_reminders
    from omotenashi.schemas.jobs import CartReminderJob

    again = CartReminderJob(
        store_id="demo",
        cart_id="cart-77",
        step=1,
        updated_at=clock.instant(T0),
        plan=[(1, clock.instant(T0 + timedelta(hours=1)))],
        due_at=clock.instant(T0 + timedelta(hours=1)),
    )
    cart_reminders.deliver(again)  # the same job delivered twice
    assert len(reminders(stack)) == 1


def test_codes_from_a_pool_are_taken_once_per_email_and_never_for_a_skipped_one(clocked):
    from omotenashi.logic.core.store_admin import add_discount_codes, set_marketing
    from omotenashi_local.provision import DEMO_MARKETING

    stack = clocked
    steps = [{"delay_hours": 1, "discount_pool": "WELCOME"}]
    set_marketing("demo", {**DEMO_MARKETING, "cart_reminders": {"steps": steps}})
    assert add_discount_codes("demo", "WELCOME", ["CODE-A", "CODE-B"]) == 2
    for n in range(3):  # three customers with consent, one without
        customer = {"id": f"c-{n}", "email": f"c{n}@example.jp", "locale": "ja"}
        consent(stack, customer_id=f"c-{n}", email=f"c{n}@example.jp")
        cart(stack, cart_id=f"cart-{n}", customer=customer)
    cart(stack, cart_id="cart-x", customer={"id": "c-x", "email": "x@example.jp", "locale": "ja"})
    advance_to(stack, T0 + timedelta(hours=2))
    sent = reminders(stack)
    assert len(sent) == 3  # the customer without consent is skipped and spends no code
    codes = [code for code in ("CODE-A", "CODE-B") for mail in sent if code in mail["text"]]
    assert sorted(codes) == ["CODE-A", "CODE-B"]  # each taken once; the third email goes without


def test_a_store_can_see_why_a_customer_got_nothing(stack):
    evening = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)  # 20:30 JST
    clock.set_source(lambda: evening)
    try:
        cart(stack, cart_id="cart-n", customer={"id": "c-n", "email": "n@example.jp", "locale": "ja"})
        consent(stack)
        cart(stack)
        advance_to(stack, datetime(2026, 11, 22, 23, 1, tzinfo=UTC))  # 08:01 JST
        nobody = call(stack, "GET", "/v1/customers/c-n/marketing/decisions").json["decisions"]
        assert [(d["outcome"], d["reason"]) for d in nobody] == [("skip", "consent_missing")]
        taro = call(stack, "GET", "/v1/customers/c-123/marketing/decisions").json["decisions"]
        assert [(d["outcome"], d["reason"]) for d in taro] == [("defer", "quiet_hours"), ("send", "ok")]
        assert taro[0]["defer_until"].startswith("2026-11-22T23:00:00")
        other = call(stack, "GET", "/v1/customers/c-123/marketing/decisions", store="nope")
        assert other.status == 401
    finally:
        clock.set_source(None)


def test_a_deferral_made_before_the_sweep_moves_the_step_on_stays_pending(stack):
    """The sweep enqueues, then moves the step on (dal/due_reminders); a worker quick enough to
    defer the step (quiet hours) in between must keep its deferral (the due time is compared)."""
    from omotenashi.dal import carts as cart_data
    from omotenashi.logic.marketing import cart_reminders
    from omotenashi.schemas.jobs import CartReminderJob

    evening = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)  # 20:30 JST: the first step is due at 21:30
    clock.set_source(lambda: evening)
    try:
        consent(stack)
        cart(stack)
        clock.advance(3600 + 60)
        [due] = list(cart_data.due(clock.now(), cart_data.SweepStats()))
        job = CartReminderJob(
            store_id=due.store_id,
            cart_id=due.subject_id,
            step=due.step,
            updated_at=due.version,
            plan=list(due.plan),
            due_at=due.due_at,
        )
        assert cart_reminders.deliver(job) == "deferred"  # the worker ran first
        assert cart_data.advance_reminder(due) is False  # the sweep's move leaves the deferral
        [still] = list(cart_data.due(evening + timedelta(hours=12), cart_data.SweepStats()))
        assert (still.step, still.due_at > due.due_at) == (1, True)
    finally:
        clock.set_source(None)


def test_a_copy_of_a_sent_step_in_quiet_hours_does_not_put_it_back(clocked):
    """A redelivered job of a step that went is not decided again: deferred in quiet hours it would
    put the step back over the next one (which would then never go)."""
    from omotenashi.dal import carts as cart_data
    from omotenashi.logic.marketing import cart_reminders
    from omotenashi.schemas.jobs import CartReminderJob

    consent(clocked)
    cart(clocked)
    advance_to(clocked, T0 + timedelta(hours=1, minutes=2))
    assert len(reminders(clocked)) == 1
    stored = cart_data.get("demo", "cart-77", consistent=True)
    assert stored is not None
    updated_at = cart_data.stored_updated_at(stored)
    advance_to(clocked, T0 + timedelta(hours=12))  # 22:00 JST: quiet hours
    [pending] = list(cart_data.due(T0 + timedelta(days=2), cart_data.SweepStats()))
    assert pending.step == 2
    copy = CartReminderJob(
        store_id="demo", cart_id="cart-77", step=1, updated_at=updated_at, plan=list(pending.plan), due_at=""
    )
    assert cart_reminders.deliver(copy) == "already_sent"
    [still] = list(cart_data.due(T0 + timedelta(days=2), cart_data.SweepStats()))
    assert (still.step, still.due_at) == (2, pending.due_at)
    advance_to(clocked, T0 + timedelta(hours=24, minutes=2))
    assert len(reminders(clocked)) == 2
