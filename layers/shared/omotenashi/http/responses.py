"""Answers routes build from what the logic returns."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from omotenashi.http.errors import JSON
from omotenashi.logic.core.idempotency import Answer


def idempotent_response(result: Answer) -> Response:
    """The answer of a request that may be a retry; a replayed one says so (as Stripe does)."""
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return Response(status_code=result.status_code, content_type=JSON, body=result.body, headers=headers)
