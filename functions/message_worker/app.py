"""Message worker: transactional email (staff SLA alerts, staff replies), each exactly once (SQS
partial batch failures)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser import parse

from omotenashi.logic import transactional
from omotenashi.schemas.jobs import MessageQueueJob
from omotenashi.settings import require_settings
from omotenashi.sqs_worker import sqs_handler

require_settings("message_worker")
handler = sqs_handler(lambda body: transactional.run(parse(event=body, model=MessageQueueJob)))
