"""Inquiry worker: consumes the inquiry queue and sends the auto-reply (SQS partial batch failures)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser import parse

from omotenashi.logic.inquiries import auto_reply
from omotenashi.schemas.jobs import InquiryQueueJob
from omotenashi.settings import require_settings
from omotenashi.sqs_worker import sqs_handler

require_settings("inquiry_worker")
handler = sqs_handler(lambda body: auto_reply.run(parse(event=body, model=InquiryQueueJob)))
