"""Inbound mail function: SES receiving stored a raw email in S3 and invokes this (asynchronously,
retried twice, then the dead-letter queue). Each recipient is routed once per SES message id: a
new inquiry, a customer's follow-up, or a staff reply (logic/inquiries/inbound_mail.py)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.logic.inquiries import inbound_mail
from omotenashi.observability import logger, metrics, tracer
from omotenashi.settings import require_settings

require_settings("inbound_mail")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return inbound_mail.handle_ses_event(event)
