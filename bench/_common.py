"""Shared bits for the benchmarks: paths, a Lambda-like environment, percentiles."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "layers" / "shared", ROOT / "layers" / "local", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


def fake_aws_environment() -> None:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="ap-northeast-1",
        AWS_REGION="ap-northeast-1",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
        OMOTENASHI_LOG_LEVEL="ERROR",
    )


def index_entries(client: Any, table: str, index: str, shard_attribute: str, shards: int) -> int:
    """How many items a sharded sparse index holds (COUNT queries, one shard at a time)."""
    total = 0
    for shard in (f"s{n}" for n in range(shards)):
        pages = client.get_paginator("query").paginate(
            TableName=table,
            IndexName=index,
            KeyConditionExpression=f"{shard_attribute} = :s",
            ExpressionAttributeValues={":s": {"S": shard}},
            Select="COUNT",
        )
        total += sum(page["Count"] for page in pages)
    return total


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def inquiry_request(base: str, secret: str, email: str, subject: str, external_id: str, locale: str = "ja"):
    """A signed POST /v1/inquiries to the local stack at `base` (urllib.request.Request)."""
    from omotenashi.logic.core.signing import sign_header

    body = json.dumps(
        {
            "customer": {"email": email, "locale": locale},
            "channel": "web_form",
            "subject": subject,
            "message": "配送状況を教えてください。",
            "external_id": external_id,
        },
        ensure_ascii=False,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Omotenashi-Store": "demo",
        "X-Omotenashi-Signature": sign_header(secret, int(time.time()), "POST", "/v1/inquiries", body),
    }
    return urllib.request.Request(f"{base}/v1/inquiries", data=body, headers=headers, method="POST")
