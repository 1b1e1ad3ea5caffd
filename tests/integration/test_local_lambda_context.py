"""What the local stack hands its handlers is what Lambda would: each function's own name, ARN,
memory and cold start in its log lines; no metric blobs while metrics are disabled."""

from __future__ import annotations

import io
import json
import logging

from tests.support import call, inquiry_body


def test_log_lines_carry_each_functions_own_context(stack):
    from omotenashi.observability import logger

    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("omotenashi").addHandler(handler)
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        for i in range(5):  # the local API has 4 warm instances: the 5th request finds one warm
            body = inquiry_body(customer={"email": f"ctx{i}@example.jp"}, external_id=f"ctx-{i}")
            assert call(stack, "POST", "/v1/inquiries", body).status == 202
        stack.drain()
        stack.advance(60)
    finally:
        logging.getLogger("omotenashi").removeHandler(handler)
        logger.setLevel(level)
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    by_message: dict[str, list[dict]] = {}
    for record in records:
        by_message.setdefault(record["message"], []).append(record)
    expected = {
        "inquiry accepted": "ApiFunction",
        "auto-reply sent": "InquiryWorkerFunction",
        "sla sweep": "SlaSweepFunction",
    }
    for message, logical_id in expected.items():
        assert by_message.get(message), f"no {message!r} log line"
        for record in by_message[message]:
            name = f"omotenashi-local-{logical_id}"
            assert record["function_name"] == name
            assert record["function_arn"] == f"arn:aws:lambda:ap-northeast-1:123456789012:function:{name}"
            assert record["function_memory_size"] == 512
    # Every instance's first invocation is a cold start, as on Lambda (not just the first
    # invocation in the process).
    assert [r["cold_start"] for r in by_message["inquiry accepted"]] == [True] * 4 + [False]
    assert by_message["auto-reply sent"][0]["cold_start"] is True
    assert by_message["sla sweep"][0]["cold_start"] is True


def test_no_metric_blobs_while_metrics_are_disabled(stack, capfd):
    """Powertools skips the flush when POWERTOOLS_METRICS_DISABLED is set but keeps the values; at
    100 values of one metric add_metric printed the EMF blob anyway."""
    capfd.readouterr()
    for i in range(105):
        body = inquiry_body(customer={"email": f"emf{i}@example.jp"}, external_id=f"emf-{i}")
        assert call(stack, "POST", "/v1/inquiries", body).status == 202
    stack.drain()
    out = capfd.readouterr().out
    assert '"_aws"' not in out and "CloudWatchMetrics" not in out
