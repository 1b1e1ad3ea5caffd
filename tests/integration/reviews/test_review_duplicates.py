"""Issue 10's quality bar under repeats: events out of order (the review before `delivered`,
`delivered` before `placed`), every request three times, every stream record and every queued
message (marketing, message, loyalty) twice, and the sweep run twice at each moment: one request,
at most one reminder, one reward (one ledger entry, one email). Survey answers likewise: one bonus
per survey and customer, however often and under however many response ids it comes."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from omotenashi import clock
from omotenashi.dal import queue
from omotenashi.dal import reviews as review_data
from omotenashi.review_domain import review_reward_key
from tests.integration.reviews.helpers import (
    CUSTOMER,
    ITEMS,
    T0,
    consent,
    iso,
    pin,
    sent,
    view_order,
)
from tests.integration.test_commerce_duplicates import _replay_stream
from tests.support import call

ORDER_TIMES = {
    "placed": T0 - timedelta(days=2),
    "fulfilled": T0 - timedelta(days=1),
    "delivered": T0,  # 10:00 JST: the request is due on day 7 at 10:00, outside quiet hours
}
REQUEST_DUE = T0 + timedelta(days=7)


@pytest.fixture
def twice(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every job enqueued on any queue is sent twice (SQS delivers at least once): both copies
    reach the workers. Counts the jobs per queue (before doubling)."""
    real = queue.send
    jobs: Counter[str] = Counter()

    def double(name: Any, body: str) -> None:
        jobs[name] += 1
        real(name, body)
        real(name, body)

    monkeypatch.setattr(queue, "send", double)
    return jobs


@pytest.fixture
def shop(stack: Any, twice: Counter[str]) -> Iterator[Any]:
    pin(T0 + timedelta(hours=1))  # every order event has happened; they arrive in any order
    yield stack
    clock.set_source(None)


# -- helpers -----------------------------------------------------------------------------------------


def thrice(stack: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST three times: every repeat answers exactly as the first did."""
    replies = [call(stack, "POST", path, body) for _ in range(3)]
    assert [r.status for r in replies] == [202] * 3, [r.text for r in replies]
    assert len({r.text for r in replies}) == 1, [r.text for r in replies]
    assert [r.headers.get("Idempotent-Replayed") for r in replies[1:]] == ["true", "true"]
    return replies[0].json  # type: ignore[no-any-return]


def shopper(n: int) -> dict[str, Any]:
    """The n-th customer (with consent), each with one order o-<n>: several orders share one
    timeline (and one stack) without sharing a customer's reward limit or marketing cap."""
    return {"id": f"c-{n}", "email": f"shopper{n}@example.jp", "name": f"客{n}", "locale": "ja"}


def with_consent(stack: Any, count: int) -> list[int]:
    for n in range(count):
        consent(stack, f"c-{n}", f"shopper{n}@example.jp")
    return list(range(count))


def order_body(type_: str, n: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": f"o-{n}",
        "type": type_,
        "customer": shopper(n),
        "occurred_at": iso(ORDER_TIMES[type_]),
    }
    if type_ == "placed":
        body.update({"items": ITEMS, "currency": "JPY", "total": "5240", "shipping": "0"})
    return body


def review_body(
    at: datetime, n: int = 0, review_id: str | None = None, sku: str = "TEA-01"
) -> dict[str, Any]:
    return {
        "review_id": review_id or f"rv-{n}",
        "order_id": f"o-{n}",
        "sku": sku,
        "customer": {"id": f"c-{n}", "email": f"shopper{n}@example.jp"},
        "rating": 1 + n % 5,
        "title": "香りが良い",
        "body": "また買います。",
        "submitted_at": iso(at),
    }


def survey_body(response_id: str, survey_id: str = "sv-1") -> dict[str, Any]:
    return {
        "survey_id": survey_id,
        "response_id": response_id,
        "customer": CUSTOMER,
        "submitted_at": iso(clock.now()),
    }


def post_events(stack: Any, arrivals: dict[int, tuple[str, ...]]) -> None:
    """Each order's events in its own arrival order (the n-th event of every order, then the next):
    each one three times, applied, then the whole stream delivered once more."""
    for step in range(max(len(a) for a in arrivals.values())):
        for n, arrival in arrivals.items():
            if step < len(arrival):
                if arrival[step] == "review":
                    thrice(stack, "/v1/events/reviews", review_body(clock.now(), n))
                else:
                    thrice(stack, "/v1/events/orders", order_body(arrival[step], n))
        stack.drain()
        assert _replay_stream(stack) >= 1
        stack.drain()


def at(stack: Any, moment: datetime) -> None:
    """Move business time to `moment`, then two overlapping sweeps and every queue drained."""
    clock.advance((moment - clock.now()).total_seconds())
    stack.drain()
    stack.run_schedules()
    stack.run_schedules()
    stack.drain()


def ledger(stack: Any, customer_id: str = "c-123") -> list[dict[str, Any]]:
    reply = call(stack, "GET", f"/v1/customers/{customer_id}/loyalty/ledger?limit=100")
    assert reply.status == 200, reply.text
    return reply.json["entries"]  # type: ignore[no-any-return]


def table_items(stack: Any, logical: str) -> list[dict[str, Any]]:
    name = stack.resources.tables[logical]
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def emails(stack: Any, kind: str) -> Counter[str]:
    """How many emails of `kind` each address got."""
    return Counter(address for m in sent(stack, kind) for address in m["to"])


def assert_one_reward(stack: Any, customer_id: str, kind: str = "review_reward") -> None:
    entries = ledger(stack, customer_id)
    assert [(e["points"], e["bucket"]) for e in entries if e["kind"] == kind] == [(50, "available")], entries
    balance = call(stack, "GET", f"/v1/customers/{customer_id}/loyalty").json
    assert balance["available"] == sum(e["points"] for e in entries if e["bucket"] == "available")


# -- orders and reviews ------------------------------------------------------------------------------

PERMUTATIONS = list(itertools.permutations(("placed", "fulfilled", "delivered")))


def test_order_events_in_every_order_three_times_then_a_review_on_day_9(shop, twice):
    """Six orders (six customers), each with its events arriving in another of the six orders."""
    shoppers = with_consent(shop, len(PERMUTATIONS))
    post_events(shop, dict(enumerate(PERMUTATIONS)))
    for n in shoppers:
        shown = view_order(shop, f"o-{n}")
        assert shown["review_request"]["status"] == "scheduled", PERMUTATIONS[n]
        assert shown["review_request"]["due_at"] == clock.instant(REQUEST_DUE), PERMUTATIONS[n]

    at(shop, REQUEST_DUE - timedelta(minutes=1))
    assert sent(shop, "review_request") == []
    at(shop, REQUEST_DUE + timedelta(minutes=1))
    assert emails(shop, "review_request") == {f"shopper{n}@example.jp": 1 for n in shoppers}
    assert twice["marketing"] >= len(shoppers)  # each request's job really came twice

    at(shop, T0 + timedelta(days=9))
    post_events(shop, {n: ("review",) for n in shoppers})
    at(shop, T0 + timedelta(days=12, minutes=5))  # when the reminders would have been due
    at(shop, T0 + timedelta(days=20))

    assert emails(shop, "review_request") == {f"shopper{n}@example.jp": 1 for n in shoppers}
    assert sent(shop, "review_reminder") == []
    assert emails(shop, "review_reward") == {f"shopper{n}@example.jp": 1 for n in shoppers}
    for n in shoppers:
        assert_one_reward(shop, f"c-{n}")
        assert Counter(e["kind"] for e in ledger(shop, f"c-{n}"))["earn"] == 1  # the order's points once
        shown = view_order(shop, f"o-{n}")
        assert shown["review_request"]["status"] == "reviewed", PERMUTATIONS[n]
        assert shown["review_request"]["requested_at"] is not None
        assert [r["review_id"] for r in shown["reviews"]] == [f"rv-{n}"]
        assert shown["review_reward"]["outcome"] == "granted"
        assert [h["type"] for h in shown["history"]] == ["placed", "fulfilled", "delivered"]
    assert len(table_items(shop, "EventsTable")) == 4 * len(shoppers)  # one per event, however often


def test_a_review_after_the_reminder_leaves_one_request_and_one_reminder(shop):
    arrivals = {0: ("delivered", "placed", "fulfilled"), 1: ("fulfilled", "delivered", "placed")}
    with_consent(shop, len(arrivals))
    post_events(shop, arrivals)
    at(shop, REQUEST_DUE + timedelta(minutes=1))
    reminder_due = T0 + timedelta(days=12, minutes=1)
    at(shop, reminder_due - timedelta(minutes=2))
    assert sent(shop, "review_reminder") == []
    at(shop, reminder_due + timedelta(minutes=1))
    at(shop, reminder_due + timedelta(minutes=30))
    everyone = {f"shopper{n}@example.jp": 1 for n in arrivals}
    assert emails(shop, "review_reminder") == everyone
    at(shop, T0 + timedelta(days=13))
    post_events(shop, {n: ("review",) for n in arrivals})
    at(shop, T0 + timedelta(days=25))

    assert emails(shop, "review_request") == everyone
    assert emails(shop, "review_reminder") == everyone
    assert emails(shop, "review_reward") == everyone
    for n in arrivals:
        assert_one_reward(shop, f"c-{n}")
        assert view_order(shop, f"o-{n}")["review_request"]["status"] == "reviewed"


def test_a_review_that_arrives_before_delivered_means_no_request_and_one_reward(shop):
    arrivals = {
        0: ("placed", "fulfilled", "review", "delivered"),
        1: ("review", "delivered", "fulfilled", "placed"),  # before the order is even known
        2: ("fulfilled", "review", "placed", "delivered"),
    }
    with_consent(shop, len(arrivals))
    post_events(shop, arrivals)
    for n in arrivals:
        shown = view_order(shop, f"o-{n}")
        assert shown["review_request"]["status"] == "reviewed", arrivals[n]
        assert shown["review_request"]["due_at"] is None, arrivals[n]
    at(shop, REQUEST_DUE + timedelta(minutes=1))
    at(shop, T0 + timedelta(days=20))

    assert sent(shop, "review_request") == []
    assert sent(shop, "review_reminder") == []
    assert emails(shop, "review_reward") == {f"shopper{n}@example.jp": 1 for n in arrivals}
    for n in arrivals:
        assert_one_reward(shop, f"c-{n}")
        shown = view_order(shop, f"o-{n}")
        assert shown["review_request"]["requested_at"] is None
        assert shown["review_reward"]["outcome"] == "granted"
        assert [r["review_id"] for r in shown["reviews"]] == [f"rv-{n}"]


def test_a_review_applied_while_the_request_waits_in_the_queue_stops_it(shop):
    with_consent(shop, 1)
    post_events(shop, {0: ("placed", "fulfilled", "delivered")})
    clock.advance((REQUEST_DUE + timedelta(minutes=1) - clock.now()).total_seconds())
    shop.run_schedules()
    shop.run_schedules()  # the request's job is on the marketing queue, twice
    # The review is applied first (the event worker ran before the marketing worker).
    thrice(shop, "/v1/events/reviews", review_body(clock.now()))
    for stream in shop.stream_pollers:
        stream.drain()
    shop.drain()
    at(shop, T0 + timedelta(days=20))
    assert sent(shop, "review_request") == []
    assert sent(shop, "review_reminder") == []
    assert len(sent(shop, "review_reward")) == 1
    assert_one_reward(shop, "c-0")


def test_several_reviews_of_one_order_each_three_times_earn_one_reward(shop):
    with_consent(shop, 1)
    post_events(shop, {0: ("placed", "fulfilled", "delivered")})
    at(shop, T0 + timedelta(days=2))
    for review_id, sku in (("rv-1", "TEA-01"), ("rv-2", "CUP-02"), ("rv-3", "TEA-01")):
        thrice(shop, "/v1/events/reviews", review_body(clock.now(), 0, review_id, sku))
    shop.drain()
    _replay_stream(shop)
    at(shop, T0 + timedelta(days=20))
    assert sent(shop, "review_request") == []
    assert len(sent(shop, "review_reward")) == 1
    assert_one_reward(shop, "c-0")
    shown = view_order(shop, "o-0")
    assert [r["review_id"] for r in shown["reviews"]] == ["rv-1", "rv-2", "rv-3"]
    assert shown["review_reward"]["review_id"] == "rv-1"
    reviews = [i for i in table_items(shop, "ReviewsTable") if i["key"]["S"].startswith("review#")]
    assert len(reviews) == 3


def test_the_request_job_delivered_twice_by_hand_sends_once(shop):
    """The marketing worker's job itself, twice in a row and again after the stack ran on."""
    from omotenashi.logic.reviews import requests
    from omotenashi.schemas.jobs import ReviewRequestJob

    with_consent(shop, 1)
    post_events(shop, {0: ("placed", "fulfilled", "delivered")})
    clock.advance((REQUEST_DUE + timedelta(minutes=1) - clock.now()).total_seconds())
    shop.run_schedules()
    sqs = boto3.client("sqs")
    url = shop.resources.queues["MarketingQueue"].url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2  # the `twice` fixture's copies
    job = ReviewRequestJob.model_validate_json(messages[0]["Body"])
    assert requests.deliver(job) == "sent"
    assert requests.deliver(job) == "already_sent"
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    at(shop, REQUEST_DUE + timedelta(hours=1))
    assert requests.deliver(job) == "already_sent"
    at(shop, T0 + timedelta(days=12, minutes=5))
    assert len(sent(shop, "review_request")) == 1
    assert len(sent(shop, "review_reminder")) == 1  # the duplicates did not disturb the reminder
    assert view_order(shop, "o-0")["review_request"]["status"] == "reminded"


def test_a_copy_of_the_request_job_that_comes_in_quiet_hours_does_not_drop_the_reminder(stack):
    from omotenashi.logic.reviews import requests
    from omotenashi.schemas.jobs import ReviewRequestJob

    evening = T0 + timedelta(hours=10, minutes=58)  # delivered at 20:58 JST
    pin(evening + timedelta(hours=1))
    try:
        with_consent(stack, 1)
        for type_, moment in (
            ("placed", evening - timedelta(days=2)),
            ("fulfilled", evening - timedelta(days=1)),
            ("delivered", evening),
        ):
            body = {**order_body(type_), "occurred_at": iso(moment)}
            assert call(stack, "POST", "/v1/events/orders", body).status == 202
        stack.drain()
        clock.advance((evening + timedelta(days=7, seconds=30) - clock.now()).total_seconds())
        stack.run_schedules()  # 20:58:30 JST on day 7: the request is due, and goes
        sqs = boto3.client("sqs")
        url = stack.resources.queues["MarketingQueue"].url
        [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        job = ReviewRequestJob.model_validate_json(message["Body"])
        assert requests.deliver(job) == "sent"
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        reminder_due = view_order(stack, "o-0")["review_request"]["due_at"]
        clock.advance(180)  # 21:01:30 JST: SQS delivers the same message once more
        requests.deliver(job)  # deferred to 08:00 by the gate
        assert view_order(stack, "o-0")["review_request"]["due_at"] == reminder_due  # still pending
        at(stack, evening + timedelta(days=8, hours=12))  # the morning after: nothing more is sent
        assert len(sent(stack, "review_request")) == 1
        at(stack, evening + timedelta(days=13))
        assert len(sent(stack, "review_request")) == 1
        assert len(sent(stack, "review_reminder")) == 1
    finally:
        clock.set_source(None)


def test_two_reviews_within_the_limit_earn_one_reward_whatever_their_arrival(shop):
    """Customer 0's reviews arrive in time order, customer 1's reversed; each reviews two orders
    ten days apart: each customer earns one reward, held by the review that arrived first (a
    reward given is never taken back to move it to an earlier review that arrives later; the
    ledger's sums end the same either way, docs/reviews.md)."""
    first, second = T0 + timedelta(days=2), T0 + timedelta(days=12)

    def review_of(n: int, order: str, moment: datetime) -> dict[str, Any]:
        return {**review_body(moment, n, f"rv-{order}"), "order_id": f"o-{order}"}

    for n, orders in ((0, ("0a", "0b")), (1, ("1a", "1b"))):
        for order in orders:  # the orders first: a review earns only for an order of its writer
            thrice(shop, "/v1/events/orders", {**order_body("placed", n), "order_id": f"o-{order}"})
    shop.drain()
    at(shop, second + timedelta(hours=1))
    for n, sequence in ((0, (("0a", first), ("0b", second))), (1, (("1b", second), ("1a", first)))):
        for order, moment in sequence:
            thrice(shop, "/v1/events/reviews", review_of(n, order, moment))
            shop.drain()
    decided = {
        order: review_data.get_reward("demo", review_reward_key(f"o-{order}")).outcome  # type: ignore[union-attr]
        for order in ("0a", "0b", "1a", "1b")
    }
    assert (decided["0a"], decided["0b"]) == ("granted", "limited")
    assert (decided["1a"], decided["1b"]) == ("limited", "granted")  # the first to arrive holds it
    for customer in ("c-0", "c-1"):
        rewards = [(e["kind"], e["points"]) for e in ledger(shop, customer) if e["kind"] != "earn"]
        assert rewards == [("review_reward", 50)]


# -- surveys -----------------------------------------------------------------------------------------


def test_one_survey_answer_sent_three_times_earns_one_bonus_and_one_email(shop, twice):
    answer = thrice(shop, "/v1/events/surveys", survey_body("resp-1"))
    assert answer == {"survey_id": "sv-1", "response_id": "resp-1", "status": "accepted"}
    shop.drain()
    assert _replay_stream(shop) >= 1
    shop.drain()
    at(shop, clock.now() + timedelta(minutes=5))
    assert twice["message"] >= 1  # the bonus email's job came twice at least
    assert_one_reward(shop, "c-123", "survey_bonus")
    [email] = sent(shop, "review_reward")
    assert email["to"] == ["taro@example.jp"]


def test_two_answers_to_one_survey_by_one_customer_earn_one_bonus(shop):
    thrice(shop, "/v1/events/surveys", survey_body("resp-1"))
    shop.drain()
    at(shop, clock.now() + timedelta(hours=2))
    thrice(shop, "/v1/events/surveys", survey_body("resp-2"))  # the same survey answered again
    shop.drain()
    _replay_stream(shop)
    at(shop, clock.now() + timedelta(days=1))
    assert_one_reward(shop, "c-123", "survey_bonus")
    assert len(sent(shop, "review_reward")) == 1
    rewards = [i for i in table_items(shop, "ReviewsTable") if i["key"]["S"].startswith("reward#survey#")]
    assert len(rewards) == 1 and rewards[0]["earned_by"]["S"] == "resp-1"
