"""Loyalty worker: a customer's due loyalty timer (an order's confirmation, expiry warning and
expiry, the daily tier run, the birthday bonus), each applied once (SQS partial batch failures)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser import parse

from omotenashi.logic.loyalty import schedule
from omotenashi.schemas.jobs import LoyaltyQueueJob
from omotenashi.settings import require_settings
from omotenashi.sqs_worker import sqs_handler

require_settings("loyalty_worker")
handler = sqs_handler(lambda body: schedule.run(parse(event=body, model=LoyaltyQueueJob)))
