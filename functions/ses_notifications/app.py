"""SES notifications function: SES publishes each bounce, complaint and delivery to an SNS topic this
function subscribes to. A permanent bounce or a complaint puts its recipients on the store's
suppression list (logic/marketing/bounces.py); an invalid record is logged and counted, never
retried; one bad record does not stop the others."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.logic.marketing import bounces
from omotenashi.observability import logger, metrics, tracer
from omotenashi.settings import require_settings

require_settings("ses_notifications")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return bounces.handle_sns_event(event)
