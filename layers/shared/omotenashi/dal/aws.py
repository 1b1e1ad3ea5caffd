"""Lazily created boto3 clients (cold start: nothing is built until first use).

Endpoints come from the standard AWS environment (AWS_ENDPOINT_URL points them at moto locally).
"""

from __future__ import annotations

import functools
from typing import Any

_RETRIES: Any = {"mode": "standard", "max_attempts": 3}


@functools.cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    session: Any = boto3.session.Session()
    return session.client(service, config=Config(retries=_RETRIES))


def reset() -> None:
    """Drop cached clients and PynamoDB connections (tests and the local stack change endpoints)."""
    client.cache_clear()
    from omotenashi.dal import tables

    tables.unbind()
