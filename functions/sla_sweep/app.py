"""SLA sweep: runs on a schedule, enqueues every staff alert that is due (Query on a sparse index)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omotenashi.logic.sla_alerts import run_sweep
from omotenashi.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run_sweep()
    return {"enqueued": result.enqueued, "skipped": result.skipped, "items_read": result.items_read}
