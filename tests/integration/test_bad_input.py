"""The contract's 400/401/409/413/422 cases: each answered as written, none writes anything."""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.helpers import assert_nothing_written, item_count
from tests.support import call, inquiry_body, signed_headers

PATH = "/v1/inquiries"


def _raw(stack, body: bytes, headers: dict[str, str]):
    result = stack.api("POST", PATH, headers, body)
    return result["statusCode"], json.loads(result["body"])


# --- 401 ----------------------------------------------------------------------------------------


def test_missing_store_header(stack):
    body = json.dumps(inquiry_body()).encode()
    headers = signed_headers("POST", PATH, body)
    del headers["X-Omotenashi-Store"]
    status, payload = _raw(stack, body, headers)
    assert status == 401
    assert "X-Omotenashi-Store" in payload["error"]["message"]
    assert_nothing_written(stack)


def test_missing_signature_header(stack):
    body = json.dumps(inquiry_body()).encode()
    headers = signed_headers("POST", PATH, body)
    del headers["X-Omotenashi-Signature"]
    status, payload = _raw(stack, body, headers)
    assert status == 401
    assert "X-Omotenashi-Signature" in payload["error"]["message"]
    assert_nothing_written(stack)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=abc,v1=00",
        "v1=" + "a" * 64,
        "t=123",
        "t=1,v1=zz",
        f"t={int(time.time())},v1=" + "a" * 63,
        "",
    ],
)
def test_malformed_signature(stack, header):
    body = json.dumps(inquiry_body()).encode()
    headers = signed_headers("POST", PATH, body)
    headers["X-Omotenashi-Signature"] = header
    status, _ = _raw(stack, body, headers)
    assert status == 401
    assert_nothing_written(stack)


def test_unknown_store(stack):
    reply = call(stack, "POST", PATH, inquiry_body(), store="nope")
    assert reply.status == 401
    assert_nothing_written(stack)


def test_wrong_secret(stack):
    reply = call(stack, "POST", PATH, inquiry_body(), secret="not-the-secret")
    assert reply.status == 401
    assert "not-the-secret" not in reply.text and "demo-secret" not in reply.text
    assert_nothing_written(stack)


@pytest.mark.parametrize("skew", [-301, 301, -3600, 86400])
def test_stale_or_future_timestamp(stack, skew):
    reply = call(stack, "POST", PATH, inquiry_body(), timestamp=int(time.time()) + skew)
    assert reply.status == 401
    assert "300" in reply.json["error"]["message"]
    assert_nothing_written(stack)


def test_timestamp_inside_tolerance_is_accepted(stack):
    assert call(stack, "POST", PATH, inquiry_body(), timestamp=int(time.time()) - 290).status == 202


def test_clock_advance_does_not_affect_freshness(stack):
    from omotenashi import clock

    clock.advance(3 * 86400)  # business time moves; signature freshness stays real time
    assert call(stack, "POST", PATH, inquiry_body()).status == 202


def test_tampered_body(stack):
    body = json.dumps(inquiry_body(), ensure_ascii=False).encode()
    headers = signed_headers("POST", PATH, body)
    tampered = body.replace("配送".encode(), "返品".encode())
    status, _ = _raw(stack, tampered, headers)
    assert status == 401
    assert_nothing_written(stack)


def test_signature_for_other_path_or_method(stack):
    body = json.dumps(inquiry_body()).encode()
    headers = signed_headers("PUT", PATH, body)
    assert _raw(stack, body, headers)[0] == 401
    headers = signed_headers("POST", "/v1/inquiries/x", body)
    assert _raw(stack, body, headers)[0] == 401
    assert_nothing_written(stack)


def test_any_of_several_v1_digests_suffices(stack):
    body = json.dumps(inquiry_body()).encode()
    good = signed_headers("POST", PATH, body)["X-Omotenashi-Signature"]
    t, v1 = good.split(",")
    headers = signed_headers("POST", PATH, body)
    headers["X-Omotenashi-Signature"] = f"{t},v1={'0' * 64},{v1}"
    assert _raw(stack, body, headers)[0] == 202


def test_refused_get_reveals_nothing(stack):
    created = call(stack, "POST", PATH, inquiry_body()).json
    reply = call(stack, "GET", f"{PATH}/{created['inquiry_id']}", secret="wrong")
    assert reply.status == 401
    assert created["inquiry_id"] not in reply.text


# --- 400 / 413 / 415 ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"customer": }', b"\xff\xfe", b""])
def test_malformed_json_is_400(stack, raw):
    reply = call(stack, "POST", PATH, raw=raw)
    assert reply.status in (400, 422), reply.text
    if raw:
        assert reply.status == 400
        assert reply.json["error"]["type"] == "invalid_json"
    assert_nothing_written(stack)


def test_body_over_256_kib_is_413(stack):
    body = inquiry_body(message="x" * 9000)
    body["padding"] = "y" * (256 * 1024)
    reply = call(stack, "POST", PATH, body)
    assert reply.status == 413
    assert_nothing_written(stack)


def test_body_just_under_limit_is_not_413(stack):
    body = inquiry_body()
    body["padding"] = "y" * (250 * 1024)
    assert call(stack, "POST", PATH, body).status == 202


def test_invalid_idempotency_key_is_400(stack):
    reply = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": "k" * 256})
    assert reply.status == 400
    assert reply.json["error"]["fields"][0]["field"] == "Idempotency-Key"
    assert_nothing_written(stack)


# --- 422 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("customer"), "customer"),
        (lambda b: b["customer"].pop("email"), "customer.email"),
        (lambda b: b["customer"].update(email="not-an-email"), "customer.email"),
        (lambda b: b["customer"].update(email="a@b.c\r\nBcc: x@y.z"), "customer.email"),
        (lambda b: b["customer"].update(locale="fr"), "customer.locale"),
        (lambda b: b.pop("channel"), "channel"),
        (lambda b: b.update(channel="fax"), "channel"),
        (lambda b: b.pop("subject"), "subject"),
        (lambda b: b.update(subject=""), "subject"),
        (lambda b: b.update(subject="   "), "subject"),
        (lambda b: b.update(subject="x" * 201), "subject"),
        (lambda b: b.update(subject="line\nbreak"), "subject"),
        (lambda b: b.pop("message"), "message"),
        (lambda b: b.update(message=""), "message"),
        (lambda b: b.update(message="x" * 10001), "message"),
        (lambda b: b.update(message=123), "message"),
        (lambda b: b.update(priority="asap"), "priority"),
        (lambda b: b.update(external_id=""), "external_id"),
    ],
)
def test_schema_violation_names_field(stack, mutate, field):
    body = inquiry_body()
    mutate(body)
    reply = call(stack, "POST", PATH, body)
    assert reply.status == 422, reply.text
    fields = [f["field"] for f in reply.json["error"]["fields"]]
    assert field in fields, fields
    assert_nothing_written(stack)


def test_several_bad_fields_are_all_named(stack):
    body = inquiry_body(channel="fax", subject="")
    body["customer"]["email"] = "nope"
    reply = call(stack, "POST", PATH, body)
    assert reply.status == 422
    fields = {f["field"] for f in reply.json["error"]["fields"]}
    assert {"channel", "subject", "customer.email"} <= fields


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_non_object_json_is_422(stack, raw):
    reply = call(stack, "POST", PATH, raw=raw)
    assert reply.status == 422, reply.text
    assert_nothing_written(stack)


def test_array_of_inquiries_is_422_not_its_first_element(stack):
    raw = json.dumps([inquiry_body(subject="FIRST"), inquiry_body(subject="SECOND")]).encode()
    reply = call(stack, "POST", PATH, raw=raw)
    assert reply.status == 422, reply.text
    assert reply.json["error"]["fields"] == [{"field": "body", "message": "must be a JSON object"}]
    assert_nothing_written(stack)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # deeper than the JSON parser's recursion limit
        b'{"a":' * 2000 + b"1" + b"}" * 2000,
        json.dumps(
            inquiry_body(extra=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]])
        ).encode(),
    ],
    ids=["array-100k", "object-2k", "inquiry-with-deep-extra"],
)
@pytest.mark.parametrize("path", [PATH, f"{PATH}/inq_abc/replies", f"{PATH}/inq_abc/messages"])
def test_deeply_nested_json_is_422_never_500(stack, raw, path):
    reply = call(stack, "POST", path, raw=raw)
    assert reply.status == 422, reply.text[:300]
    assert reply.json["error"]["fields"][0]["field"] == "body"
    assert "nest" in reply.json["error"]["fields"][0]["message"]
    assert_nothing_written(stack)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "application/xml", "multipart/form-data"],
)
def test_other_media_types_are_415(stack, content_type):
    reply = call(stack, "POST", PATH, inquiry_body(), headers={"Content-Type": content_type})
    assert reply.status == 415, reply.text
    assert reply.json["error"]["type"] == "unsupported_media_type"
    assert_nothing_written(stack)


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=UTF-8"])
def test_media_type_is_case_insensitive(stack, content_type):
    reply = call(stack, "POST", PATH, inquiry_body(), headers={"Content-Type": content_type})
    assert reply.status == 202, reply.text


def test_limits_are_inclusive(stack):
    body = inquiry_body(subject="s" * 200, message="m" * 10000)
    assert call(stack, "POST", PATH, body).status == 202


# --- 409 ----------------------------------------------------------------------------------------


def test_same_key_different_body_is_409_and_writes_nothing_new(stack):
    key = {"Idempotency-Key": "order-1001-question"}
    first = call(stack, "POST", PATH, inquiry_body(), headers=key)
    assert first.status == 202
    stack.drain()
    second = call(stack, "POST", PATH, inquiry_body(subject="別の件名"), headers=key)
    assert second.status == 409
    assert second.json["error"]["type"] == "idempotency_conflict"
    assert item_count(stack, "InquiriesTable") == 1
    stack.drain()
    assert sorted(m["kind"] for m in stack.outbox()) == ["inquiry_auto_reply", "staff_new_inquiry"]


@pytest.mark.parametrize("inquiry_id", ["inq_" + "a" * 5000, "nope", "inq_UPPER", "inq_a%2F..%2Fb"])
def test_malformed_or_overlong_inquiry_id_is_404(stack, inquiry_id):
    reply = call(stack, "GET", f"{PATH}/{inquiry_id}")
    assert reply.status == 404, reply.text
    assert reply.json["error"]["type"] == "not_found"


def test_unknown_route_is_404_json(stack):
    reply = call(stack, "GET", "/v1/nothing-here")
    assert reply.status == 404
    assert reply.json["error"]["type"] == "not_found"
    assert reply.json["error"]["message"] == "no such route: GET /v1/nothing-here"


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
def test_unknown_method_on_a_known_path_is_404_naming_it(stack, method):
    inquiry_id = call(stack, "POST", PATH, inquiry_body()).json["inquiry_id"]
    reply = call(stack, method, f"{PATH}/{inquiry_id}", {})
    assert reply.status == 404
    assert reply.json["error"]["message"] == f"no such route: {method} {PATH}/{inquiry_id}"
    assert call(stack, "GET", f"{PATH}/{inquiry_id}").json["status"] == "open"


@pytest.mark.parametrize("query", ["?expand=customer", "?a=1&b=two%20words", "?name=%E5%B1%B1%E7%94%B0"])
def test_query_string_is_part_of_the_signed_path(stack, query):
    created = call(stack, "POST", PATH, inquiry_body()).json
    path = f"{PATH}/{created['inquiry_id']}{query}"
    assert call(stack, "GET", path).status == 200  # signed over the path as sent, query included
    headers = signed_headers("GET", f"{PATH}/{created['inquiry_id']}", b"")  # signed without the query
    result = stack.api("GET", path, headers, b"")
    assert result["statusCode"] == 401


def test_charset_in_content_type_is_fine(stack):
    reply = call(
        stack, "POST", PATH, inquiry_body(), headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert reply.status == 202
