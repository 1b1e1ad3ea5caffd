"""Rules found in review: who earns a review reward, a promised reward kept, a deferral that races
the sweep, review ids as natural ids, and ids that do not fit a key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from omotenashi import clock
from omotenashi.dal import reviews as review_data
from omotenashi.logic.core import store_admin
from omotenashi.logic.reviews import requests
from omotenashi.review_domain import MAX_KEY_PART, key_part, survey_reward_key
from omotenashi.schemas.jobs import ReviewRequestJob
from tests.integration.reviews.helpers import (
    T0,
    advance_to,
    consent,
    delivered_order,
    ledger_kinds,
    order,
    pin,
    review,
    sent,
    view_order,
)


@pytest.fixture
def shop(stack):
    pin(T0 - timedelta(days=2))
    consent(stack)
    yield stack
    clock.set_source(None)


def test_a_review_by_someone_else_than_the_buyer_earns_nothing(shop):
    delivered_order(shop)
    review(shop, customer={"id": "c-999", "email": "stranger@example.jp"})
    shop.drain()
    assert view_order(shop)["review_reward"] is None
    assert ledger_kinds(shop, "c-999") == []
    review(shop, "rv-10", customer={"id": "c-123", "email": "taro@example.jp"})  # then the buyer's
    shop.drain()
    assert view_order(shop)["review_reward"]["review_id"] == "rv-10"
    assert ledger_kinds(shop).count(("review_reward", 50)) == 1


def test_a_review_of_an_order_never_placed_earns_nothing_until_the_order_comes(shop):
    review(shop, order_id="o-unknown")
    shop.drain()
    assert review_data.get_reward("demo", "reward#review#o-unknown") is None
    assert ("review_reward", 50) not in ledger_kinds(shop)
    order(shop, "placed", clock.now(), "o-unknown")  # the order arrives after its review
    shop.drain()
    assert ledger_kinds(shop).count(("review_reward", 50)) == 1
    assert len(sent(shop, "review_reward")) == 1


def test_a_promised_reward_is_kept_when_the_store_switches_rewards_off(shop):
    delivered_order(shop)
    advance_to(shop, T0 + timedelta(days=7, minutes=5))
    [request] = sent(shop, "review_request")
    assert "50" in request["text"]  # the request promised 50 points
    store_admin.set_reviews("demo", {"reward": None})
    advance_to(shop, T0 + timedelta(days=12, minutes=5))
    [reminder] = sent(shop, "review_reminder")
    assert "50" in reminder["text"]  # the reminder repeats the promise
    review(shop)
    shop.drain()
    shown = view_order(shop)
    assert shown["reviews"][0]["incentivized"] is True  # it was solicited with a reward
    assert shown["review_reward"]["outcome"] == "granted"
    assert ledger_kinds(shop).count(("review_reward", 50)) == 1


def test_a_deferral_made_before_the_sweep_moves_the_step_on_stays_pending(shop):
    """The sweep enqueues, then moves the step on; a worker quick enough to defer the step (quiet
    hours) in between must not have its deferral removed."""
    late = T0 + timedelta(hours=12)  # delivered 22:00 JST: day 7's hour is quiet
    delivered_order(shop, at=late)
    due_at = late + timedelta(days=7, minutes=1)
    clock.advance((due_at - clock.now()).total_seconds())
    stats = review_data.SweepStats()
    [due] = list(review_data.due(clock.now(), stats))
    job = ReviewRequestJob(
        store_id="demo",
        order_id=due.subject_id,
        step=due.step,
        basis=due.version,
        plan=list(due.plan),
        due_at=due.due_at,
    )
    assert requests.deliver(job) == "deferred"  # the worker ran first
    assert review_data.advance(due) is False  # the sweep's move finds the deferral and leaves it
    sequence = review_data.get_sequence("demo", "o-1001")
    assert sequence is not None and sequence.step == 1 and sequence.due_at > due.due_at
    advance_to(shop, late + timedelta(days=8, hours=11))  # 09:00 JST the next morning
    assert len(sent(shop, "review_request")) == 1


def test_the_same_review_id_for_another_order_is_not_a_second_review(shop):
    delivered_order(shop, "o-1")
    delivered_order(shop, "o-2")
    review(shop, "rv-1", "o-1")
    shop.drain()
    from tests.support import call

    # Under another Idempotency-Key the API stores it as another event; the worker does not.
    body = {
        "review_id": "rv-1",
        "order_id": "o-2",
        "sku": "TEA-01",
        "customer": {"id": "c-123"},
        "rating": 4,
        "submitted_at": clock.isoformat(clock.now()),
    }
    assert call(shop, "POST", "/v1/events/reviews", body, headers={"Idempotency-Key": "k-2"}).status == 202
    shop.drain()
    assert view_order(shop, "o-2")["reviews"] == []
    assert view_order(shop, "o-2")["review_reward"] is None


def test_ids_too_long_for_a_key_are_digested_and_stay_distinct(shop):
    long_hashes = "#" * 255
    assert len(key_part(long_hashes)) <= MAX_KEY_PART
    assert key_part(long_hashes) != key_part("#" * 254)
    assert key_part("~" + "0" * 64) != key_part(long_hashes)  # an id cannot pose as a digest
    assert len(survey_reward_key(long_hashes, long_hashes).encode()) < 1024
    delivered_order(shop, long_hashes)
    review(shop, long_hashes, long_hashes)
    shop.drain()
    from omotenashi.logic.commerce import orders

    shown = orders.view("demo", long_hashes)  # (a path cannot carry the id's "#" unencoded)
    assert [r.review_id for r in shown.reviews] == [long_hashes]
    assert shown.review_reward is not None and shown.review_reward.outcome == "granted"


def test_a_reward_is_given_once_whatever_events_of_the_order_come_later(shop):
    """The email's delivery record expires (90 days); the reward's own record says it was given,
    so a refund months later does not send "you earned 50 points" again."""
    import boto3

    from tests.integration.helpers import item_count

    delivered_order(shop)
    review(shop)
    shop.drain()
    assert len(sent(shop, "review_reward")) == 1
    deliveries = shop.resources.tables["DeliveriesTable"]
    client = boto3.client("dynamodb")
    for item in client.scan(TableName=deliveries)["Items"]:  # as the TTL will, after 90 days
        client.delete_item(TableName=deliveries, Key={"delivery_id": item["delivery_id"]})
    assert item_count(shop, "DeliveriesTable") == 0
    order(shop, "refunded", clock.now(), refund_id="rf-1", refund_amount="100")
    order(shop, "cancelled", clock.now())
    shop.drain()
    assert len(sent(shop, "review_reward")) == 1
    assert ledger_kinds(shop).count(("review_reward", 50)) == 1


def test_a_review_stored_unlabelled_is_never_rewarded_later(shop):
    """Rewards off when the review came (stored `incentivized: false`), on when its order arrives:
    no reward goes with a review shown as unpaid (景品表示法)."""
    store_admin.set_reviews("demo", {"reward": None})
    review(shop)  # before its order
    shop.drain()
    store_admin.set_reviews("demo", {})
    order(shop, "placed", clock.now())
    shop.drain()
    shown = view_order(shop)
    assert shown["reviews"][0]["incentivized"] is False
    assert shown["review_reward"]["outcome"] == "off"
    assert ("review_reward", 50) not in ledger_kinds(shop)
