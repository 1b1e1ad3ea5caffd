"""The request guard: signatures over query strings as clients send them, duplicated headers, and
answers in UTF-8."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time

import pytest

from omotenashi.logic.core.signing import sign_header
from omotenashi_local.runtime import api_gateway_event
from tests.support import call, inquiry_body, signed_headers

PATH = "/v1/inquiries"
# What urlencode/requests, PHP, browsers and hand-written URLs send.
QUERY_FORMS = ["?q=a+b", "?a=1&b=2&a=3", "?flag", "?q=a%2fb", "?q=%7E", "?", "?q=a%20b&flag&x=%E5%B1%B1"]


@pytest.fixture
def inquiry_path(stack):
    return f"{PATH}/{call(stack, 'POST', PATH, inquiry_body()).json['inquiry_id']}"


@pytest.mark.parametrize("query", QUERY_FORMS)
def test_signed_exactly_as_sent_is_accepted(stack, inquiry_path, query):
    """The local stack hands the guard the raw query (rawQueryString), so every form verifies."""
    assert call(stack, "GET", inquiry_path + query).status == 200


@pytest.mark.parametrize("query", ["?q=a+b", "?a=1&b=2", "?q=%7E"])
def test_signature_over_another_query_is_refused(stack, inquiry_path, query):
    headers = signed_headers("GET", inquiry_path + "?q=other", b"")
    assert stack.api("GET", inquiry_path + query, headers, b"")["statusCode"] == 401


def _rest_event(path_with_query: str, headers: dict[str, str]) -> dict:
    """What API Gateway's REST proxy gives: the query only parsed (no raw form)."""
    event = api_gateway_event("GET", path_with_query, headers, b"", "/v1/{proxy+}")
    del event["rawQueryString"]
    return event


@pytest.mark.parametrize(
    "query", ["?q=a+b", "?q=a%20b", "?q=%7E", "?q=~", "?flag", "?flag=", "?a=1&a=3&b=2", "?"]
)
def test_rest_events_rebuild_the_common_encodings(stack, inquiry_path, query):
    from omotenashi.http.guard import RawRequest, authenticate

    headers = {k.lower(): v for k, v in signed_headers("GET", inquiry_path + query, b"").items()}
    request = RawRequest.from_event(_rest_event(inquiry_path + query, headers))
    assert authenticate(request).store_id == "demo"


def test_every_path_form_is_tried_with_every_secret(stack, inquiry_path):
    """Rotation (two secrets) and a rebuilt query: the second form with the second secret must
    match (the secrets were once a generator, spent after the first form)."""
    from omotenashi.logic.core import signing

    now = int(time.time())
    header = sign_header("second", now, "GET", "/p?q=a+b", b"")
    parsed = signing.parse_header(header)
    assert signing.matches(parsed, iter(["first", "second"]), "GET", ["/p?q=a%20b", "/p?q=a+b"], b"")


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("X-Omotenashi-Store", "X-Omotenashi-Store"),
        ("X-Omotenashi-Signature", "X-Omotenashi-Signature"),
        ("Idempotency-Key", "Idempotency-Key"),
    ],
)
def test_a_duplicated_header_is_400_naming_it(stack, header, name):
    body = json.dumps(inquiry_body()).encode()
    headers = signed_headers("POST", PATH, body, extra={"Idempotency-Key": "k-1"})
    event = api_gateway_event("POST", PATH, headers, body, "/v1/{proxy+}")
    event["multiValueHeaders"][header] = [headers[header], "other"]
    result = stack.routes[0].pool.invoke(event)
    assert result["statusCode"] == 400
    error = json.loads(result["body"])["error"]
    assert error["type"] == "invalid_header" and error["fields"][0]["field"] == name


def test_answers_are_utf8_not_escaped(stack, inquiry_path):
    for method, path in (("GET", inquiry_path), ("POST", f"{inquiry_path}/close")):
        reply = call(stack, method, path)
        assert reply.status == 200
        assert "配送について" in reply.text and "\\u" not in reply.text


@contextlib.contextmanager
def _structured_logs():
    """The JSON lines Lambda would ship to CloudWatch, at INFO."""
    from omotenashi.observability import logger

    structured = io.StringIO()
    handler = logging.StreamHandler(structured)
    handler.setFormatter(logger.registered_formatter)
    omotenashi_logger = logging.getLogger("omotenashi")
    level = omotenashi_logger.level
    omotenashi_logger.addHandler(handler)
    omotenashi_logger.setLevel(logging.INFO)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        omotenashi_logger.removeHandler(handler)
        omotenashi_logger.setLevel(level)
        lines.extend(json.loads(line) for line in structured.getvalue().splitlines())


def _signed_event(method: str, path: str, body: dict | None, request_id: str) -> dict:
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    event = api_gateway_event(method, path, signed_headers(method, path, data), data, "/v1/{proxy+}")
    event["requestContext"]["requestId"] = request_id
    return event


def _logged(lines: list[dict], message: str) -> list[dict]:
    return [line for line in lines if line.get("message") == message]


def test_correlation_id_follows_the_request_to_the_email_log_line(stack):
    """API Gateway's request id is on the job, and on the worker's log line about the email."""
    with _structured_logs() as lines:
        result = stack.routes[0].pool.invoke(_signed_event("POST", PATH, inquiry_body(), "req-corr-42"))
        assert result["statusCode"] == 202
        stack.drain()
    accepted, sent = _logged(lines, "inquiry accepted"), _logged(lines, "auto-reply sent")
    assert accepted and accepted[-1]["correlation_id"] == "req-corr-42"
    assert sent and sent[-1]["correlation_id"] == "req-corr-42"
    assert sent[-1]["store_id"] == "demo" and sent[-1]["inquiry_id"].startswith("inq_")


def test_correlation_id_of_a_staff_reply_and_of_the_sweep_reach_their_emails(stack):
    inquiry_id = call(stack, "POST", PATH, inquiry_body()).json["inquiry_id"]
    stack.drain()
    with _structured_logs() as lines:
        stack.advance(21 * 3600)  # the sweep enqueues the reminder; the message worker sends it
        reply = {"author": "sato@shop.example", "message": "ご回答します"}
        event = _signed_event("POST", f"{PATH}/{inquiry_id}/replies", reply, "req-reply-7")
        assert stack.routes[0].pool.invoke(event)["statusCode"] == 201
        stack.drain()
    sweep = [line for line in _logged(lines, "sla sweep") if line.get("enqueued")]
    alert = _logged(lines, "sla alert delivered")
    emailed = _logged(lines, "staff reply email")
    assert sweep and sweep[-1]["correlation_id"]
    assert alert and alert[-1]["correlation_id"] == sweep[-1]["correlation_id"]
    assert emailed and emailed[-1]["correlation_id"] == "req-reply-7"
    assert emailed[-1]["inquiry_id"] == inquiry_id
