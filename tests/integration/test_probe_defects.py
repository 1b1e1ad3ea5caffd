"""Defects found by a black-box probe.

What the API accepts it must be able to read back and use: every accepted edge input goes the whole
way (POST, GET, auto-reply, SLA sweep, staff reply, close, follow-up); every refused one answers 422
naming the field and writes nothing. Random store ids cost bounded memory; the OpenAPI document
states the limits the API enforces.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from tests.integration.helpers import assert_nothing_written, auto_replies
from tests.support import aws_calls, call, inquiry_body

PATH = "/v1/inquiries"


def _round_trip(stack: Any, body: dict[str, Any]) -> dict[str, Any]:
    created = call(stack, "POST", PATH, raw=json.dumps(body).encode())
    assert created.status == 202, created.text
    inquiry_id = created.json["inquiry_id"]
    view = call(stack, "GET", f"{PATH}/{inquiry_id}")
    assert view.status == 200, view.text
    stack.drain()
    assert len(auto_replies(stack, inquiry_id)) == 1  # the auto-reply went
    stack.advance(3 * 24 * 3600)  # the SLA sweep reads it (breach and escalation alerts)
    reply = call(
        stack, "POST", f"{PATH}/{inquiry_id}/replies", {"author": "sato@shop.example", "message": "OK"}
    )
    assert reply.status == 201, reply.text
    closed = call(stack, "POST", f"{PATH}/{inquiry_id}/close")
    assert closed.status == 200, closed.text
    follow_up = call(stack, "POST", f"{PATH}/{inquiry_id}/messages", {"message": "もう一つ"})
    assert follow_up.status == 201, follow_up.text
    assert stack.advance(3 * 24 * 3600)
    final = call(stack, "GET", f"{PATH}/{inquiry_id}")
    assert final.status == 200, final.text
    return dict(final.json)


def _refused(stack: Any, body: dict[str, Any], field: str) -> None:
    reply = call(stack, "POST", PATH, raw=json.dumps(body).encode())
    assert reply.status == 422, reply.text
    names = [f["field"] for f in reply.json["error"]["fields"]]
    assert any(name == field or name.startswith(field + ".") for name in names), names
    assert_nothing_written(stack)


# --- 1. source headers: never store what cannot be read back ----------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"": "x"},
        {"Bad Name": "x"},
        {"Subject:": "x"},
        {"X-Caf\u00e9": "x"},
        {"X-A\n": "x"},
        {"x" * 201: "x"},
        {"X-A": "line\r\nInjected: yes"},
        {"X-A": "nul\x00"},
        {"X-A": "vt\x0b"},
        {"X-A": "nel\x85"},
        {"X-A": "ls\u2028"},
    ],
)
def test_unusable_source_headers_are_refused(stack, headers):
    _refused(stack, inquiry_body(channel="email", headers=headers), "headers")


def test_empty_header_name_no_longer_poisons_the_inquiry(stack):
    # The probe's case: it answered 202, then 500 on every read and crashed the SLA sweep.
    reply = call(stack, "POST", PATH, inquiry_body(headers={"": "x"}))
    assert reply.status == 422, reply.text
    assert reply.json["error"]["fields"][0]["field"] == "headers"
    stack.advance(3 * 24 * 3600)  # nothing stored, so the sweep has nothing to trip on


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Token!#$%&'*+.^_`|~": "all token characters"},
        {"attribute_values": "a", "as_dict": "b", "null": "c"},  # PynamoDB's own names
        {"X-Empty": ""},
        {"X-Tab": "a\tb", "X-Unicode": "配送 😀"},
        {f"X-H{i}": "v" * 2000 for i in range(100)},
        {"x" * 200: "longest name"},
        {},
    ],
)
def test_edge_source_headers_round_trip(stack, headers):
    _round_trip(stack, inquiry_body(channel="email", headers=headers))


def test_loop_protection_still_reads_stored_headers(stack):
    created = call(
        stack, "POST", PATH, inquiry_body(channel="email", headers={"Auto-Submitted": "auto-replied"})
    )
    assert created.status == 202
    stack.drain()
    view = call(stack, "GET", f"{PATH}/{created.json['inquiry_id']}").json
    assert view["auto_reply"] == "suppressed"


# --- 3. control characters: refused in single-line fields and bodies (where VT, FF, NEL and the
# Unicode separators are line breaks, kept as \n), never in a display name --


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer": {"email": "taro@example.jp", "name": "山田\x0b太郎"}}, "customer.name"),
        (
            {"customer": {"email": "taro@example.jp", "name": "山田\u2028Bcc: x@evil.example"}},
            "customer.name",
        ),
        ({"customer": {"email": "taro@example.jp", "name": "\u202eodaraT"}}, "customer.name"),
        ({"subject": "配送\x0cについて"}, "subject"),
        ({"subject": "配送\x85について"}, "subject"),
        ({"subject": "配送\u2029について"}, "subject"),
        ({"message": "いつ\x1b[31m届きますか"}, "message"),
        ({"message": "いつ\x07届きますか"}, "message"),
    ],
)
def test_control_characters_are_refused(stack, overrides, field):
    _refused(stack, inquiry_body(**overrides), field)


def test_control_characters_refused_in_replies_and_follow_ups(stack):
    inquiry_id = call(stack, "POST", PATH, inquiry_body()).json["inquiry_id"]
    for route, body in [
        ("replies", {"author": "sato@shop.example", "message": "お待たせ\x1bしました"}),
        ("messages", {"message": "まだ\x00ですか"}),
    ]:
        reply = call(stack, "POST", f"{PATH}/{inquiry_id}/{route}", body)
        assert reply.status == 422, reply.text
        assert [f["field"] for f in reply.json["error"]["fields"]] == ["message"]
    assert call(stack, "GET", f"{PATH}/{inquiry_id}").json["status"] == "open"


def test_real_text_round_trips(stack):
    view = _round_trip(
        stack,
        inquiry_body(
            customer={"email": "taro@example.jp", "name": "Ali\u200f \U0001f469\u200d\U0001f4bb O'Brien"},
            subject="Re: 注文 #1001 について 😀",
            message="一行目\r\n二行目\n\t字下げ",
        ),
    )
    assert view["message"] == "一行目\r\n二行目\n\t字下げ"


def test_a_stored_name_with_controls_still_gets_a_clean_auto_reply(stack):
    """Defence in depth: a name stored before the API refused controls must not dead-letter the
    auto-reply nor reach the To header."""
    from omotenashi.dal.tables import InquiryItem

    inquiry_id = call(stack, "POST", PATH, inquiry_body()).json["inquiry_id"]
    item = InquiryItem.get("demo", inquiry_id)
    item.customer_name = "山田\x0b太郎\u2028Bcc: x@evil.example"
    item.save()
    stack.drain()
    (sent,) = auto_replies(stack, inquiry_id)
    assert sent["to"] == ["taro@example.jp"]
    assert "\x0b" not in sent["headers"]["To"] and "\u2028" not in sent["headers"]["To"]
    assert "Bcc" not in sent["headers"]


# --- 2. email addresses: dot-atom local parts ---------------------------------------------------


@pytest.mark.parametrize("address", [".a@x.jp", "a.@x.jp", "a.b.@x.jp", "a..b@x.jp"])
def test_misplaced_dots_in_email_are_refused(stack, address):
    _refused(stack, inquiry_body(customer={"email": address, "name": "山田"}), "customer.email")


def test_plus_addressing_and_subdomains_still_accepted(stack):
    reply = call(stack, "POST", PATH, inquiry_body(customer={"email": "taro.y+shop@mail.example.co.jp"}))
    assert reply.status == 202, reply.text


# --- 4. random store ids: bounded cache, unknown ids cached briefly ----------------------------


def test_random_store_ids_cost_bounded_memory_and_repeats_cost_no_read(stack, monkeypatch):
    import secrets

    from omotenashi.logic.core.directory import directory

    monkeypatch.setattr(directory, "max_misses", 16)
    assert call(stack, "POST", PATH, inquiry_body()).status == 202  # demo is cached
    for _ in range(40):
        assert call(stack, "POST", PATH, inquiry_body(), store="x" + secrets.token_hex(6)).status == 401
    assert len(directory) <= 16 + 1
    with aws_calls() as calls:
        assert call(stack, "GET", "/v1/inquiries/inq_nothere", store="flood").status == 401
        assert calls.count("dynamodb", "GetItem") == 1  # a new unknown id: one read, not two
    with aws_calls() as calls:
        for _ in range(5):
            assert call(stack, "GET", "/v1/inquiries/inq_nothere", store="flood").status == 401
        assert call(stack, "GET", "/v1/inquiries/inq_nothere").status == 404  # demo: still cached
        assert calls.count("dynamodb", "GetItem") == 1  # the inquiry read only


def test_store_created_after_a_miss_works_at_once_in_the_same_process(stack):
    from datetime import UTC, datetime

    from omotenashi.logic.core.store_admin import create_store

    assert call(stack, "POST", PATH, inquiry_body(), store="kyoto", secret="kyoto-secret").status == 401
    create_store(
        store_id="kyoto",
        name="京都店",
        sender="shop@demo.example",
        staff_addresses=("staff@demo.example",),
        default_locale="ja",
        time_zone="Asia/Tokyo",
        sla_hours=24,
        now=datetime.now(UTC),
        secret_value="kyoto-secret",
    )
    assert call(stack, "POST", PATH, inquiry_body(), store="kyoto", secret="kyoto-secret").status == 202


def test_secret_rotated_elsewhere_works_after_a_mismatch(stack, monkeypatch):
    """Another process (the ops CLI) rotates the secret: this instance's cache still holds the old
    one, and a request signed with the new secret refreshes it early."""
    from datetime import UTC, datetime

    from omotenashi.dal import stores as store_data
    from omotenashi.logic.core import directory as stores_module
    from omotenashi.logic.core.directory import REFRESH_AFTER_MISMATCH_SECONDS
    from omotenashi.logic.core.store_admin import new_secret

    assert call(stack, "POST", PATH, inquiry_body()).status == 202  # demo is cached
    old = store_data.get_store("demo")
    assert old is not None
    rotated = new_secret(datetime.now(UTC))
    store_data.replace_secrets("demo", (*old.secrets, rotated), datetime.now(UTC))  # no cache clear
    real = stores_module.time.monotonic
    later = real() + REFRESH_AFTER_MISMATCH_SECONDS
    monkeypatch.setattr(stores_module, "time", SimpleNamespace(monotonic=lambda: later))
    body = inquiry_body(external_id="after-rotation")
    assert call(stack, "POST", PATH, body, secret=rotated.value).status == 202
    assert call(stack, "POST", PATH, inquiry_body(external_id="old-secret")).status == 202  # both valid


# --- 5. the OpenAPI document states the limits the API enforces ---------------------------------


def test_openapi_documents_email_format_and_idempotency_key_limits(stack):
    import re

    reply = call(stack, "GET", "/v1/openapi.json", sign=False)
    assert reply.status == 200, reply.text
    document = reply.json
    schemas = document["components"]["schemas"]
    assert schemas["CustomerIn"]["properties"]["email"]["format"] == "email"
    assert schemas["ReplyIn"]["properties"]["author"]["format"] == "email"

    headers = next(s for s in schemas["InquiryIn"]["properties"]["headers"]["anyOf"] if s["type"] == "object")
    names = headers["propertyNames"]
    assert re.fullmatch(names["pattern"], "Auto-Submitted") and not re.fullmatch(names["pattern"], "Bad Name")
    assert names["minLength"] == 1 and headers["maxProperties"] == 100

    keys = [
        parameter
        for path in document["paths"].values()
        for operation in path.values()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key"
    ]
    # inquiries: create, reply, follow-up; events: carts, orders, reviews, surveys; loyalty:
    # redemptions, adjustments
    assert len(keys) == 9
    for parameter in keys:
        (schema,) = [s for s in parameter["schema"]["anyOf"] if s["type"] == "string"]
        assert (schema["minLength"], schema["maxLength"]) == (1, 255)
        assert re.fullmatch(schema["pattern"], "order-1001 ~!")
        assert not re.fullmatch(schema["pattern"], "キー") and not re.fullmatch(schema["pattern"], "a\tb")


def test_idempotency_keys_at_the_limits_still_work(stack):
    for key in ("k", "~" * 255, "with space"):
        first = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": key})
        again = call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": key})
        assert first.status == again.status == 202, first.text
        assert first.json == again.json
    assert call(stack, "POST", PATH, inquiry_body(), headers={"Idempotency-Key": "x" * 256}).status == 400
