"""An AWS call failing midway on a review's way (its reward: the event worker, the ledger, the
reward email; its request: the sweep, the marketing worker), before it happens or after it happened
with its answer lost: the retry completes it exactly once (one ledger entry, one email, the
reminder still planned). And reviews applied concurrently by several event-worker instances
against the same tables: one reward per customer within the limit, one per order."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.dal import reviews as review_data
from omotenashi.dal.errors import StorageError
from omotenashi.logic.loyalty import accounts
from omotenashi.review_domain import review_reward_key, survey_reward_key
from tests.integration.loyalty.test_concurrency import at_once
from tests.integration.loyalty.test_duplicates_and_faults import answer_lost
from tests.integration.reviews.helpers import (
    CUSTOMER,
    T0,
    consent,
    iso,
    ledger_kinds,
    order,
    pin,
    sent,
    view_order,
)
from tests.support import aws_fault, call

REQUEST_DUE = T0 + timedelta(days=7)  # delivered at T0 (10:00 JST)
REMINDER_DUE = REQUEST_DUE + timedelta(days=5)


@pytest.fixture
def shop(stack: Any) -> Iterator[Any]:
    pin(T0 + timedelta(hours=1))
    consent(stack)
    yield stack
    clock.set_source(None)


def _delivered(stack: Any, order_id: str = "o-1001", customer: dict[str, Any] | None = None) -> None:
    for type_, days in (("placed", -2), ("fulfilled", -1), ("delivered", 0)):
        order(stack, type_, T0 + timedelta(days=days), order_id, customer=customer)
    stack.drain()


def _review_body(review_id: str = "rv-9", order_id: str = "o-1001", **changes: Any) -> dict[str, Any]:
    body = {
        "review_id": review_id,
        "order_id": order_id,
        "sku": "TEA-01",
        "customer": {"id": CUSTOMER["id"], "email": CUSTOMER["email"]},
        "rating": 2,
        "title": "普通",
        "body": "まあまあです。",
        "submitted_at": iso(clock.now()),
    }
    body.update(changes)
    return body


def _at(stack: Any, moment: datetime) -> None:
    """Jump business time to `moment`, run the sweep and drain every queue."""
    stack.advance((moment - clock.now()).total_seconds())


def _matching(target: str | None, nth: int, index: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """The nth call naming the table or queue `target` (its logical id), on `index` if given."""
    seen = [0]

    def when(params: dict[str, Any]) -> bool:
        named = str(params.get("TableName") or params.get("QueueUrl") or "")
        if target is not None and not named.endswith(f"-{target}"):
            return False
        if index is not None and params.get("IndexName") != index:
            return False
        seen[0] += 1
        return seen[0] == nth

    return when


def _fault(kind: str, service: str, operation: str, when: Callable[[dict[str, Any]], bool]) -> Any:
    if kind == "before":
        return aws_fault(service, operation, when=when, code="InternalServerError")
    return answer_lost(operation, when=when)


def _failing_once(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, kind: str) -> list[int]:
    """`module.name` raises StorageError on its first call, then works: `before` without doing
    anything, `after` once it has done its work (the write happened, its answer was lost)."""
    real = getattr(module, name)
    failures = [0]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures[0]:
            return real(*args, **kwargs)
        failures[0] += 1
        if kind == "after":
            real(*args, **kwargs)
        raise StorageError(f"injected: {name} failed ({kind})")

    monkeypatch.setattr(module, name, flaky)
    return failures


def _assert_one_review_reward(stack: Any) -> None:
    assert ledger_kinds(stack).count(("review_reward", 50)) == 1, ledger_kinds(stack)
    assert len(sent(stack, "review_reward")) == 1
    assert view_order(stack)["review_reward"]["outcome"] == "granted"
    assert stack.queued() == 0


# -- the reward: event worker, ledger, reward email ----------------------------------------------------

# (phase, service, operation, table or queue, nth, kinds): the writes of the review's way to its
# reward, in the order made (a failed read is like a write failing before it happens).
REWARD_CASES = [
    ("api", "dynamodb", "PutItem", "EventsTable", 1, ("before",)),
    ("worker", "dynamodb", "PutItem", "ReviewsTable", 1, ("after",)),  # the review
    ("worker", "dynamodb", "UpdateItem", "ReviewsTable", 1, ("before",)),  # marked reviewed
    ("worker", "dynamodb", "PutItem", "ReviewsTable", 2, ("after",)),  # the customer's rewards
    ("worker", "dynamodb", "PutItem", "ReviewsTable", 3, ("before", "after")),  # the decision
    # (the ledger's TransactWriteItems: test_the_ledger_credit_failing_after_the_decision_...)
    ("worker", "sqs", "SendMessage", "MessageQueue", 1, ("before", "after")),  # the email's job
    ("worker", "ses", "SendRawEmail", None, 1, ("before",)),  # the reward email
    ("worker", "dynamodb", "UpdateItem", "DeliveriesTable", 1, ("after",)),  # the email recorded
]
REWARD_PARAMS = [
    pytest.param(kind, *case[:5], id=f"{kind}-{case[0]}-{case[2]}-{case[3] or case[1]}-{case[4]}")
    for case in REWARD_CASES
    for kind in case[5]
]


@pytest.mark.parametrize(("kind", "phase", "service", "operation", "target", "nth"), REWARD_PARAMS)
def test_one_failed_call_on_the_way_to_the_reward_gives_it_once(
    shop, kind, phase, service, operation, target, nth
):
    _delivered(shop)
    fault = _fault(kind, service, operation, _matching(target, nth))
    with fault if phase == "api" else contextlib.nullcontext([0]) as failures:
        posted = call(shop, "POST", "/v1/events/reviews", _review_body())
    if phase == "api":
        assert posted.status == 503, posted.text  # the storefront retries
        assert failures[0] == 1
        posted = call(shop, "POST", "/v1/events/reviews", _review_body())
    assert posted.status == 202, posted.text
    if phase == "worker":
        with fault as failures:
            shop.drain()
        assert failures[0] == 1
    shop.drain()
    _at(shop, clock.now() + timedelta(minutes=5))

    _assert_one_review_reward(shop)
    shown = view_order(shop)
    assert [r["review_id"] for r in shown["reviews"]] == ["rv-9"]
    assert shown["review_request"]["status"] == "reviewed"
    _at(shop, REMINDER_DUE + timedelta(days=1))
    assert sent(shop, "review_request") == []  # reviewed before it was due, whatever failed


@pytest.mark.parametrize("kind", ["before", "after"])
def test_the_ledger_credit_failing_after_the_decision_was_recorded_credits_once(shop, monkeypatch, kind):
    _delivered(shop)
    failures = _failing_once(monkeypatch, accounts, "credit_bonus", kind)
    assert call(shop, "POST", "/v1/events/reviews", _review_body()).status == 202
    for stream in shop.stream_pollers:
        stream.poll_once()  # the event worker: the decision is recorded, the credit fails
    assert failures == [1]
    assert review_data.get_reward("demo", review_reward_key("o-1001")).outcome == "granted"  # type: ignore[union-attr]
    shop.drain()  # the stream record is retried
    _at(shop, clock.now() + timedelta(minutes=5))
    _assert_one_review_reward(shop)


def test_a_survey_bonus_whose_ledger_write_is_lost_is_credited_once(shop):
    body = {
        "survey_id": "sv-1",
        "response_id": "resp-1",
        "customer": CUSTOMER,
        "submitted_at": iso(clock.now()),
    }
    assert call(shop, "POST", "/v1/events/surveys", body).status == 202
    with _fault("after", "dynamodb", "TransactWriteItems", _matching(None, 1)) as failures:
        shop.drain()
    assert failures[0] == 1
    shop.drain()
    assert ledger_kinds(shop).count(("survey_bonus", 50)) == 1
    assert len(sent(shop, "review_reward")) == 1


# -- the request: the sweep and the marketing worker -------------------------------------------------

REQUEST_CASES = [
    ("sweep", "dynamodb", "Query", "ReviewsTable", "due-reminders", 1, ("before",)),
    ("sweep", "sqs", "SendMessage", "MarketingQueue", None, 1, ("before", "after")),  # enqueue
    # (the sweep's advance and the worker's record: the named tests below)
    ("worker", "dynamodb", "UpdateItem", "MarketingTable", None, 1, ("after",)),  # the cap claimed
    ("worker", "dynamodb", "PutItem", "DeliveriesTable", None, 1, ("before",)),  # the delivery claim
    ("worker", "ses", "SendRawEmail", None, None, 1, ("before",)),
    ("worker", "dynamodb", "PutItem", "MarketingTable", None, 1, ("after",)),  # the decision
]
REQUEST_PARAMS = [
    pytest.param(kind, *case[:6], id=f"{kind}-{case[0]}-{case[2]}-{case[3] or case[1]}-{case[5]}")
    for case in REQUEST_CASES
    for kind in case[6]
]


@pytest.mark.parametrize(("kind", "phase", "service", "operation", "target", "index", "nth"), REQUEST_PARAMS)
def test_one_failed_call_on_the_way_to_the_request_sends_it_once_and_keeps_the_reminder(
    shop, kind, phase, service, operation, target, index, nth
):
    _delivered(shop)
    clock.advance((REQUEST_DUE + timedelta(minutes=1) - clock.now()).total_seconds())
    fault = _fault(kind, service, operation, _matching(target, nth, index))
    if phase == "sweep":
        with fault as failures, contextlib.suppress(Exception):  # the run fails; the next one retries
            shop.run_schedules()
    else:
        shop.run_schedules()
        with fault as failures:
            shop.drain()
    assert failures[0] == 1
    shop.drain()
    for _ in range(2):  # late by a sweep or two, never lost
        shop.advance(60)
    assert len(sent(shop, "review_request")) == 1
    assert view_order(shop)["review_request"]["status"] == "requested"

    _at(shop, REMINDER_DUE + timedelta(minutes=5))
    _at(shop, REMINDER_DUE + timedelta(days=3))
    assert len(sent(shop, "review_request")) == 1
    assert len(sent(shop, "review_reminder")) == 1  # the reminder was still planned, once
    assert view_order(shop)["review_request"]["status"] == "reminded"
    assert shop.queued() == 0


@pytest.mark.parametrize("kind", ["before", "after"])
def test_recording_the_request_failing_after_the_email_went_sends_no_second_email(shop, monkeypatch, kind):
    _delivered(shop)
    failures = _failing_once(monkeypatch, review_data, "record_request_sent", kind)
    _at(shop, REQUEST_DUE + timedelta(minutes=1))  # sent; recording it fails; the job is retried
    assert failures == [1]
    assert len(sent(shop, "review_request")) == 1
    shown = view_order(shop)["review_request"]
    assert shown["status"] == "requested"
    assert shown["due_at"].startswith(REMINDER_DUE.strftime("%Y-%m-%dT%H:"))  # the reminder is planned
    _at(shop, REMINDER_DUE + timedelta(minutes=5))
    _at(shop, REMINDER_DUE + timedelta(days=2))
    assert len(sent(shop, "review_request")) == 1
    assert len(sent(shop, "review_reminder")) == 1


@pytest.mark.parametrize(
    ("worker_first", "kind"),
    [(True, "before"), (False, "before"), (False, "after")],
    ids=["worker-first-before", "sweep-first-before", "sweep-first-after"],
)
def test_the_sweeps_advance_failing_after_the_enqueue_sends_one_email(shop, monkeypatch, worker_first, kind):
    _delivered(shop)
    failures = _failing_once(monkeypatch, review_data, "advance", kind)
    clock.advance((REQUEST_DUE + timedelta(minutes=1) - clock.now()).total_seconds())
    with pytest.raises(Exception):  # noqa: B017 - the sweep's run fails, as on Lambda
        shop.run_schedules()  # the request's job is already enqueued
    assert failures == [1]
    if worker_first:
        shop.drain()
        clock.advance(60)
        shop.run_schedules()
    else:
        clock.advance(60)
        shop.run_schedules()  # the next run enqueues the same step again (two jobs now)
    shop.drain()
    _at(shop, clock.now() + timedelta(minutes=5))
    assert len(sent(shop, "review_request")) == 1
    _at(shop, REMINDER_DUE + timedelta(minutes=5))
    _at(shop, REMINDER_DUE + timedelta(days=2))
    assert len(sent(shop, "review_request")) == 1
    assert len(sent(shop, "review_reminder")) == 1


# -- concurrency: several event-worker instances at once ---------------------------------------------


def _review_event(review_id: str, order_id: str, customer_id: str, at: datetime) -> Any:
    from omotenashi.schemas.commerce import ReviewEventIn

    customer = {"id": customer_id, "email": f"{customer_id}@example.jp"}
    return ReviewEventIn.model_validate(
        {**_review_body(review_id, order_id, customer=customer), "submitted_at": iso(at)}
    )


def _place(stack: Any, order_id: str, customer_id: str) -> None:
    """The order a review earns for: placed by the review's writer."""
    order(stack, "placed", T0, order_id, customer={"id": customer_id, "email": f"{customer_id}@example.jp"})
    stack.drain()


def _review_entries(customer_id: str) -> list[str]:
    return [
        line.entry.entry_id
        for line in loyalty_data.all_lines("demo", customer_id)
        if line.entry.kind == "review_reward"
    ]


def test_reviews_of_different_orders_of_one_customer_applied_at_once_earn_one_reward(shop):
    """As many Lambda instances as threads, truly concurrent (no invocation lock), against the same
    moto tables: only the compare-and-swap on the customer's rewards decides."""
    from omotenashi.logic.core import directory
    from omotenashi.logic.reviews import apply

    store = directory.require("demo")
    for round_, orders in enumerate((2, 2, 5)):  # repeated: a race that passes once by luck fails here
        customer_id = f"c-race-{round_}"
        events = [
            _review_event(
                f"rv-{round_}-{n}", f"o-{round_}-{n}", customer_id, clock.now() + timedelta(hours=n)
            )
            for n in range(orders)
        ]
        for event in events:
            _place(shop, event.order_id, customer_id)
        assert (
            at_once([lambda event=event: apply.review(store, event) for event in events]) == [True] * orders
        )
        outcomes = Counter(
            review_data.get_reward("demo", review_reward_key(e.order_id)).outcome  # type: ignore[union-attr]
            for e in events
        )
        assert outcomes == Counter({"granted": 1, "limited": orders - 1}), outcomes
        granted = review_data.granted_rewards("demo", customer_id).granted
        assert len(granted) == 1
        [entry] = _review_entries(customer_id)
        granted_order = entry.split(":", 1)[1]
        assert review_data.get_reward("demo", review_reward_key(granted_order)).outcome == "granted"  # type: ignore[union-attr]
        account = loyalty_data.get_account("demo", customer_id)
        assert account is not None and account.available == 50
    shop.drain()
    assert len(sent(shop, "review_reward")) == 3  # one email per customer


def test_reviews_of_one_order_applied_at_once_earn_one_reward(shop):
    from omotenashi.logic.core import directory
    from omotenashi.logic.reviews import apply

    store = directory.require("demo")
    _place(shop, "o-same", "c-same")
    events = [_review_event(f"rv-{n}", "o-same", "c-same", clock.now()) for n in range(6)]
    assert at_once([lambda event=event: apply.review(store, event) for event in events]) == [True] * 6
    assert review_data.get_reward("demo", review_reward_key("o-same")).outcome == "granted"  # type: ignore[union-attr]
    assert _review_entries("c-same") == ["review_reward:o-same"]
    shop.drain()
    assert len(sent(shop, "review_reward")) == 1


def test_answers_to_one_survey_applied_at_once_earn_one_bonus(shop):
    from omotenashi.logic.core import directory
    from omotenashi.logic.reviews import apply
    from omotenashi.schemas.commerce import SurveyEventIn

    store = directory.require("demo")
    events = [
        SurveyEventIn.model_validate(
            {
                "survey_id": "sv-1",
                "response_id": f"resp-{n}",
                "customer": CUSTOMER,
                "submitted_at": iso(clock.now()),
            }
        )
        for n in range(6)
    ]
    at_once([lambda event=event: apply.survey(store, event) for event in events])
    assert review_data.get_reward("demo", survey_reward_key("sv-1", "c-123")).outcome == "granted"  # type: ignore[union-attr]
    bonus = [line for line in loyalty_data.all_lines("demo", "c-123") if line.entry.kind == "survey_bonus"]
    assert [line.entry.points for line in bonus] == [50]
    shop.drain()
    assert len(sent(shop, "review_reward")) == 1


def test_only_the_answer_that_earned_the_bonus_reports_it(shop, monkeypatch):
    from omotenashi.logic.core import directory
    from omotenashi.logic.reviews import apply
    from omotenashi.schemas.commerce import SurveyEventIn

    store = directory.require("demo")

    def answer(response_id: str) -> Any:
        body = {
            "survey_id": "sv-1",
            "response_id": response_id,
            "customer": CUSTOMER,
            "submitted_at": iso(clock.now()),
        }
        return SurveyEventIn.model_validate(body)

    real = review_data.get_reward
    rival: list[bool] = []

    def twin_decides_meanwhile(store_id: str, key: str) -> Any:
        found = real(store_id, key)
        if not rival:
            rival.append(False)
            rival[0] = apply.survey(store, answer("resp-1"))  # another instance, between read and write
        return found

    monkeypatch.setattr(review_data, "get_reward", twin_decides_meanwhile)
    mine = apply.survey(store, answer("resp-2"))
    assert rival == [True]
    assert [line.entry.kind for line in loyalty_data.all_lines("demo", "c-123")].count("survey_bonus") == 1
    assert mine is False  # resp-1 earned it
