"""Whether a customer has an open inquiry (the marketing gate's hold), through the API's own writes:
intake opens, a staff reply answers, a follow-up reopens, close ends. The sparse open-by-customer
index must hold exactly the open inquiries after every step."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.client
import pytest

from omotenashi.logic.inquiries.views import customer_has_open_inquiry
from tests.support import aws_calls, call, create_other_store, inquiry_body

TARO = "taro@example.jp"
STAFF = {"author": "sato@shop.example", "message": "確認いたします。"}


def _create(stack, email: str = TARO, key: str = "k-1", **options: Any) -> str:
    body = inquiry_body(customer={"email": email, "name": "山田太郎", "id": "c-123", "locale": "ja"})
    created = call(stack, "POST", "/v1/inquiries", body, headers={"Idempotency-Key": key}, **options)
    assert created.status == 202, created.text
    stack.drain()
    return created.json["inquiry_id"]


def _post(stack, inquiry_id: str, action: str, body: Any = None) -> None:
    reply = call(stack, "POST", f"/v1/inquiries/{inquiry_id}/{action}", body)
    assert reply.status in (200, 201), reply.text
    stack.drain()


def _index(stack) -> set[tuple[str, str]]:
    """Every entry of the open-by-customer index, read with boto3 (the index as DynamoDB has it)."""
    pages = (
        boto3.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=stack.resources.tables["InquiriesTable"], IndexName="open-by-customer")
    )
    return {(item["open_customer"]["S"], item["inquiry_id"]["S"]) for page in pages for item in page["Items"]}


def _open_in_table(stack) -> set[tuple[str, str]]:
    pages = (
        boto3.client("dynamodb")
        .get_paginator("scan")
        .paginate(TableName=stack.resources.tables["InquiriesTable"], ConsistentRead=True)
    )
    return {
        (f"{item['store_id']['S']}#{item['customer_email']['S'].lower()}", item["inquiry_id"]["S"])
        for page in pages
        for item in page["Items"]
        if item.get("status", {}).get("S") == "open"
    }


def _assert_index_is_the_open_inquiries(stack) -> set[tuple[str, str]]:
    entries = _index(stack)
    assert entries == _open_in_table(stack)
    return entries


def _status(stack, inquiry_id: str, **options: Any) -> str:
    return call(stack, "GET", f"/v1/inquiries/{inquiry_id}", **options).json["status"]


@pytest.fixture
def other_store(stack) -> dict[str, str]:
    return create_other_store()


def test_a_new_inquiry_is_open_for_its_customer_whatever_the_case_of_the_address(stack):
    inquiry_id = _create(stack, email="Taro.Yamada@Example.JP")
    for asked in ("taro.yamada@example.jp", "TARO.YAMADA@EXAMPLE.JP", "Taro.Yamada@Example.JP"):
        assert customer_has_open_inquiry("demo", asked), asked
    assert _assert_index_is_the_open_inquiries(stack) == {("demo#taro.yamada@example.jp", inquiry_id)}


def test_the_question_is_one_query_of_one_item_on_the_index(stack, monkeypatch):
    _create(stack)
    _create(stack, key="k-2")  # two open: still one item read
    seen: list[tuple[str, dict[str, Any]]] = []
    inner = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        seen.append((operation, params))
        return inner(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    with aws_calls() as log:
        assert customer_has_open_inquiry("demo", TARO)
    assert log.calls == [("dynamodb", "Query")]
    [(_, params)] = seen
    assert params["IndexName"] == "open-by-customer" and params["Limit"] == 1
    assert params.get("ConsistentRead") in (None, False)  # a GSI cannot be read consistently


def test_reply_answers_follow_up_reopens_close_ends(stack):
    inquiry_id = _create(stack)
    assert customer_has_open_inquiry("demo", TARO)

    _post(stack, inquiry_id, "replies", STAFF)
    assert _status(stack, inquiry_id) == "answered"
    assert not customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == set()

    _post(stack, inquiry_id, "messages", {"message": "まだ届いていません。"})
    assert _status(stack, inquiry_id) == "open"
    assert customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == {(f"demo#{TARO}", inquiry_id)}

    _post(stack, inquiry_id, "messages", {"message": "追記です。"})  # joins the open round
    assert customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == {(f"demo#{TARO}", inquiry_id)}

    _post(stack, inquiry_id, "close")
    assert _status(stack, inquiry_id) == "closed"
    assert not customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == set()

    _post(stack, inquiry_id, "messages", {"message": "もう一つ質問です。"})  # a closed one reopens too
    assert customer_has_open_inquiry("demo", TARO)
    _post(stack, inquiry_id, "close")
    assert not customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == set()


def test_sla_alerts_and_the_auto_reply_leave_it_open(stack):
    inquiry_id = _create(stack)
    stack.advance(48 * 3600)  # past the deadline: the sweep sends every staff alert
    stack.run_schedules()
    stack.drain()
    kinds = {m["kind"] for m in stack.outbox()}
    assert {"inquiry_auto_reply", "sla_breach"} <= kinds
    assert _status(stack, inquiry_id) == "open"
    assert customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == {(f"demo#{TARO}", inquiry_id)}


def test_another_customer_and_another_store_see_nothing(stack, other_store):
    demo_id = _create(stack)
    assert not customer_has_open_inquiry("demo", "hanako@example.jp")
    assert not customer_has_open_inquiry("other", TARO)
    assert not customer_has_open_inquiry("dem", f"o#{TARO}")  # the key's parts cannot be shifted

    other_id = _create(stack, key="k-other", **other_store)
    assert customer_has_open_inquiry("other", TARO)
    _post(stack, demo_id, "close")
    assert not customer_has_open_inquiry("demo", TARO)
    assert customer_has_open_inquiry("other", TARO)
    assert _status(stack, other_id, **other_store) == "open"
    assert _assert_index_is_the_open_inquiries(stack) == {(f"other#{TARO}", other_id)}


def test_two_inquiries_of_one_customer_one_closed_is_still_open(stack):
    first = _create(stack, key="k-1")
    second = _create(stack, key="k-2")
    assert first != second
    _post(stack, first, "close")
    assert customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == {(f"demo#{TARO}", second)}
    _post(stack, second, "replies", STAFF)
    assert not customer_has_open_inquiry("demo", TARO)
    assert _assert_index_is_the_open_inquiries(stack) == set()
