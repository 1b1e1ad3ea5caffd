"""No email address, name or message body ever reaches a log line."""

from __future__ import annotations

import io
import logging

from tests.support import aws_fault, call, inquiry_body

SECRET_BITS = [
    "taro.private@example.jp",
    "山田太郎",
    "注文した商品はいつ届きますか",
    "配送について",
    "明日の午前に発送いたします",  # a staff reply
    "追加の質問があります",  # a customer follow-up
]


def test_logs_carry_no_personal_data(stack, caplog):
    from omotenashi.observability import logger

    structured = io.StringIO()  # exactly what Lambda would ship to CloudWatch: the JSON lines
    handler = logging.StreamHandler(structured)
    handler.setFormatter(logger.registered_formatter)
    logging.getLogger("omotenashi").addHandler(handler)
    # Our own logger at its most verbose; libraries at the deployed level (their DEBUG output, which
    # only POWERTOOLS_DEBUG turns on, dumps whole events by design).
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="omotenashi")
    body = inquiry_body()
    body["customer"]["email"] = "taro.private@example.jp"
    created = call(stack, "POST", "/v1/inquiries", body).json
    call(stack, "POST", "/v1/inquiries", body, secret="wrong")  # refused request is logged too
    call(stack, "POST", "/v1/inquiries", {**body, "channel": "fax"})
    with aws_fault("ses", "SendRawEmail"):
        stack.drain()  # failure path logs an exception with a traceback
    stack.drain()
    call(stack, "GET", f"/v1/inquiries/{created['inquiry_id']}")
    inquiry_path = f"/v1/inquiries/{created['inquiry_id']}"
    reply = {"author": "sato@shop.example", "message": "明日の午前に発送いたします"}
    call(stack, "POST", f"{inquiry_path}/replies", reply)
    call(stack, "POST", f"{inquiry_path}/messages", {"message": "追加の質問があります"})
    stack.advance(25 * 3600)  # reminder and breach emails to staff quote the follow-up
    assert any(m["kind"] == "sla_breach" for m in stack.outbox())
    logging.getLogger("omotenashi").removeHandler(handler)
    logged = structured.getvalue() + caplog.text
    assert created["inquiry_id"] in logged  # the logs are there, and carry ids
    for bit in SECRET_BITS:
        assert bit not in logged, f"{bit!r} leaked into logs"
    assert "demo-secret" not in logged
