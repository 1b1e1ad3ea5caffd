"""The every-minute sweep: enqueues every due timer (staff SLA alerts, abandoned-cart reminders),
each found by a Query on its sparse index."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.logic.timers import run_due
from omotenashi.observability import logger, metrics, tracer
from omotenashi.settings import require_settings

require_settings("sla_sweep")


# The schedule event's id is the correlation id of every alert job this run enqueues.
@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if logger.get_correlation_id() is None:  # a schedule without Input sends no event id
        logger.set_correlation_id(context.aws_request_id)
    return run_due()
