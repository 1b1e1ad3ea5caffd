"""Every request three times and every queued message (and stream record) twice: one stored event
per event, one consent entry, one reminder per step, one order history. Checked in the tables
themselves (boto3), not only through the API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from omotenashi import clock
from tests.integration.test_cart_reminders import CUSTOMER, T0, _iso, advance_to, reminders
from tests.support import call

MINUTE = 60


@pytest.fixture
def clocked(stack):
    clock.set_source(lambda: T0)
    yield stack
    clock.set_source(None)


def _items(stack, logical_table: str) -> list[dict[str, Any]]:
    table = stack.resources.tables[logical_table]
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def _three_times(stack, method: str, path: str, body: Any = None, **options: Any) -> int:
    statuses = {call(stack, method, path, body, **options).status for _ in range(3)}
    assert len(statuses) == 1, statuses  # every repeat answers as the first did
    return statuses.pop()


def _replay_stream(stack) -> int:
    """Deliver every record of the events table's stream again (DynamoDB streams are at least once)."""
    streams = boto3.client("dynamodbstreams")
    replayed = 0
    for poller in stack.stream_pollers:
        description = streams.describe_stream(StreamArn=poller.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=poller.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            records = [poller._record(raw) for raw in streams.get_records(ShardIterator=iterator)["Records"]]
            records = [r for r in records if r["eventName"] == "INSERT"]
            if records:
                result = poller.pool.invoke({"Records": records})
                assert result == {"batchItemFailures": []}, result
                replayed += len(records)
    return replayed


def _doubled_sweep_and_queue(stack) -> int:
    """Two overlapping sweeps, then every marketing message copied once before the worker runs."""
    stack.run_schedules()
    stack.run_schedules()
    sqs = boto3.client("sqs")
    url = stack.resources.queues["MarketingQueue"].url
    seen = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    for message in seen:
        sqs.send_message(QueueUrl=url, MessageBody=message["Body"])
    stack.drain()
    return len(seen)


def _cart_body() -> dict[str, Any]:
    return {
        "cart_id": "cart-77",
        "customer": CUSTOMER,
        "items": [{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}],
        "currency": "JPY",
        "subtotal": "3240",
        "cart_url": "https://shop.example/cart/cart-77",
        "updated_at": _iso(T0),
    }


def _order_body(kind: str, at) -> dict[str, Any]:
    body: dict[str, Any] = {"order_id": "o-1", "type": kind, "customer": CUSTOMER, "occurred_at": _iso(at)}
    if kind == "placed":
        body.update(
            cart_id="cart-77",
            items=[{"sku": "TEA-01", "name": "玉露 100g", "quantity": 2, "unit_price": "1620"}],
            currency="JPY",
            total="3240",
        )
    return body


def test_everything_repeated_gives_one_reminder_per_step_and_one_stored_event(clocked):
    stack = clocked
    consent = {
        "email": "taro@example.jp",
        "marketing_email": True,
        "source": "checkout_checkbox",
        "wording": "お知らせを受け取る",
        "consented_at": _iso(T0 - timedelta(minutes=5)),
    }
    assert _three_times(stack, "PUT", "/v1/customers/c-123/consent", consent) == 200
    assert _three_times(stack, "POST", "/v1/events/carts", _cart_body()) == 202
    stack.drain()
    assert _replay_stream(stack) == 1

    advance_to(stack, T0 + timedelta(minutes=59))
    clock.advance(2 * MINUTE)  # the first step is due
    assert _doubled_sweep_and_queue(stack) == 1
    assert len(reminders(stack)) == 1
    stack.advance(MINUTE)

    advance_to(stack, T0 + timedelta(hours=23, minutes=59))
    clock.advance(2 * MINUTE)  # the second step is due
    assert _doubled_sweep_and_queue(stack) == 1
    assert len(reminders(stack)) == 2
    stack.advance(MINUTE)

    advance_to(stack, T0 + timedelta(hours=26))
    for kind in ("placed", "fulfilled"):
        assert _three_times(stack, "POST", "/v1/events/orders", _order_body(kind, clock.now())) == 202
    stack.drain()
    assert _replay_stream(stack) == 3  # the cart event and both order events, again
    stack.drain()
    advance_to(stack, T0 + timedelta(days=4))

    assert len(reminders(stack)) == 2
    assert len({m["subject"] + m["sent_at"] for m in reminders(stack)}) == 2
    assert len(_items(stack, "EventsTable")) == 3  # one per event, however often it came
    orders = _items(stack, "OrdersTable")
    events = sorted(i["event_key"]["S"] for i in orders if i["order_key"]["S"] == "demo#o-1")
    assert events == ["fulfilled#", "placed#"], orders  # one item per event of the order
    placed_index = [i for i in orders if i["order_key"]["S"] == "demo!c-123"]
    assert len(placed_index) == 1, orders  # and one in the customer's placed orders
    assert len(_items(stack, "ConsentTable")) == 1
    assert len([i for i in _items(stack, "DeliveriesTable") if "cart_reminder" in json.dumps(i)]) == 2
    got = call(stack, "GET", "/v1/carts/cart-77").json
    assert got["reminders_sent"] == 2
    assert got["status"] == "recovered" and got["recovered_order_id"] == "o-1"
    order = call(stack, "GET", "/v1/orders/o-1").json
    assert [h["type"] for h in order["history"]] == ["placed", "fulfilled"]
    assert stack.queued() == 0


def test_the_same_job_delivered_twice_by_hand_sends_once(clocked):
    """The marketing worker's job itself, twice in a row and once more after the stack ran on."""
    from omotenashi.logic.marketing import cart_reminders
    from omotenashi.schemas.jobs import CartReminderJob

    stack = clocked
    body = {"email": "taro@example.jp", "marketing_email": True, "source": "form", "wording": "受け取る"}
    assert call(stack, "PUT", "/v1/customers/c-123/consent", body).status == 200
    assert call(stack, "POST", "/v1/events/carts", _cart_body()).status == 202
    stack.drain()
    clock.advance(61 * MINUTE)
    stack.run_schedules()
    sqs = boto3.client("sqs")
    url = stack.resources.queues["MarketingQueue"].url
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    job = CartReminderJob.model_validate_json(message["Body"])
    assert cart_reminders.deliver(job) == "sent"
    assert cart_reminders.deliver(job) == "already_sent"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    stack.advance(MINUTE)
    assert cart_reminders.deliver(job) == "already_sent"
    assert len(reminders(stack)) == 1
    assert call(stack, "GET", "/v1/carts/cart-77").json["reminders_sent"] == 1
