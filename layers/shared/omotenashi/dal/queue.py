"""Work queues (SQS): the inquiry queue (auto-replies), the message queue (staff alerts, staff
replies, loyalty emails), the marketing queue (cart reminders, birthday emails) and the loyalty
queue (loyalty timers). Bodies are serialized jobs (schemas/jobs.py);
this module only moves bytes."""

from __future__ import annotations

from typing import Literal

from botocore.exceptions import BotoCoreError, ClientError

from omotenashi.dal.aws import client
from omotenashi.dal.errors import QueueError
from omotenashi.settings import get_settings

QueueName = Literal["inquiry", "message", "marketing", "loyalty"]


def send(queue: QueueName, body: str) -> None:
    settings = get_settings()
    urls = {
        "inquiry": lambda: settings.inquiry_queue_url,
        "message": lambda: settings.message_queue_url,
        "marketing": lambda: settings.marketing_queue_url,
        "loyalty": lambda: settings.loyalty_queue_url,
    }
    url = urls[queue]()
    try:
        client("sqs").send_message(QueueUrl=url, MessageBody=body)
    except (ClientError, BotoCoreError) as error:
        raise QueueError(f"enqueueing on the {queue} queue failed") from error
