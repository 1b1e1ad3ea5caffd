"""Work queues (SQS)."""

from __future__ import annotations

import json

from botocore.exceptions import BotoCoreError, ClientError

from omotenashi.dal.aws import client
from omotenashi.dal.errors import QueueError
from omotenashi.settings import get_settings


def enqueue_message(job: dict[str, object]) -> None:
    """Outbound email jobs (staff alerts, staff replies) for the message worker."""
    body = json.dumps(job, separators=(",", ":"), ensure_ascii=False)
    try:
        client("sqs").send_message(QueueUrl=get_settings().message_queue_url, MessageBody=body)
    except (ClientError, BotoCoreError) as error:
        raise QueueError("enqueueing a message job failed") from error


def enqueue_inquiry(store_id: str, inquiry_id: str) -> None:
    body = json.dumps({"store_id": store_id, "inquiry_id": inquiry_id}, separators=(",", ":"))
    try:
        client("sqs").send_message(QueueUrl=get_settings().inquiry_queue_url, MessageBody=body)
    except (ClientError, BotoCoreError) as error:
        raise QueueError("enqueueing an inquiry failed") from error
