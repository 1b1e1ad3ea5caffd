"""Marketing worker: marketing email only (abandoned-cart reminders, birthday bonuses), each
decided by the marketing gate just before it goes and sent once (SQS partial batch failures)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser import parse

from omotenashi.logic.marketing import jobs
from omotenashi.schemas.jobs import MarketingQueueJob
from omotenashi.settings import require_settings
from omotenashi.sqs_worker import sqs_handler

require_settings("marketing_worker")
handler = sqs_handler(lambda body: jobs.run(parse(event=body, model=MarketingQueueJob)))
