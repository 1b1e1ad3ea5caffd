from __future__ import annotations

import boto3


def queue_depth(stack) -> int:
    sqs = boto3.client("sqs")
    total = 0
    for queue in stack.resources.queues.values():
        attrs = sqs.get_queue_attributes(
            QueueUrl=queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        total += int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )
    return total


def item_count(stack, logical_table: str) -> int:
    table = stack.resources.tables[logical_table]
    return boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]


def assert_nothing_written(stack) -> None:
    assert item_count(stack, "InquiriesTable") == 0
    assert item_count(stack, "RateLimitsTable") == 0
    assert queue_depth(stack) == 0
    stack.drain()
    assert stack.outbox() == []


def auto_replies(stack, inquiry_id: str | None = None) -> list[dict]:
    return [
        m
        for m in stack.outbox()
        if m["kind"] == "inquiry_auto_reply" and (inquiry_id is None or inquiry_id in m["subject"])
    ]
