"""POST/GET /v1/inquiries against the API function's handler on in-process moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omotenashi import clock
from tests.integration.helpers import item_count, queue_depth
from tests.support import call, inquiry_body


def test_accepts_inquiry_with_contract_shape(stack):
    fixed = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
    clock.set_source(lambda: fixed)
    reply = call(stack, "POST", "/v1/inquiries", inquiry_body(external_id="form-9f2c"))
    assert reply.status == 202, reply.text
    body = reply.json
    assert set(body) == {"inquiry_id", "status", "received_at", "reply_due_at"}
    assert body["inquiry_id"].startswith("inq_")
    assert body["status"] == "open"
    assert body["received_at"] == "2026-11-22T01:02:03Z"
    assert body["reply_due_at"] == "2026-11-23T01:02:03Z"
    assert item_count(stack, "InquiriesTable") == 1
    assert queue_depth(stack) == 1


def test_get_returns_stored_inquiry(stack):
    created = call(stack, "POST", "/v1/inquiries", inquiry_body(channel="chat")).json
    reply = call(stack, "GET", f"/v1/inquiries/{created['inquiry_id']}")
    assert reply.status == 200, reply.text
    view = reply.json
    assert view["inquiry_id"] == created["inquiry_id"]
    assert view["status"] == "open"
    assert view["channel"] == "chat"
    assert view["subject"] == "配送について"
    assert view["received_at"] == created["received_at"]
    assert view["reply_due_at"] == created["reply_due_at"]
    assert view["first_response_at"] is None
    assert view["priority"] == "normal"
    assert view["customer"]["email"] == "taro@example.jp"
    assert view["auto_reply"] == "pending"


def test_reply_due_uses_store_sla_hours(stack):
    from omotenashi.dal.tables import StoreItem

    item = StoreItem.get("demo")
    item.sla_hours = 8
    item.save()
    stack_directory_clear()
    body = call(stack, "POST", "/v1/inquiries", inquiry_body()).json
    received = clock.parse_iso(body["received_at"])
    assert clock.parse_iso(body["reply_due_at"]) - received == timedelta(hours=8)


def stack_directory_clear() -> None:
    from omotenashi.logic.core.directory import directory

    directory.clear()


def test_unknown_inquiry_is_404(stack):
    assert call(stack, "GET", "/v1/inquiries/inq_doesnotexist").status == 404
    assert call(stack, "GET", "/v1/inquiries/not-an-id").status == 404


def test_other_store_cannot_read_inquiry(stack):
    from omotenashi.logic.core.store_admin import create_store

    create_store(
        store_id="other",
        name="Other",
        sender="shop@other.example",
        staff_addresses=("s@other.example",),
        default_locale="en",
        time_zone="UTC",
        sla_hours=24,
        now=clock.now(),
        secret_value="other-secret",
    )
    created = call(stack, "POST", "/v1/inquiries", inquiry_body()).json
    foreign = call(
        stack, "GET", f"/v1/inquiries/{created['inquiry_id']}", store="other", secret="other-secret"
    )
    assert foreign.status == 404
    own = call(stack, "GET", f"/v1/inquiries/{created['inquiry_id']}")
    assert own.status == 200


def test_default_locale_is_stores(stack):
    body = inquiry_body()
    del body["customer"]["locale"]
    created = call(stack, "POST", "/v1/inquiries", body).json
    assert call(stack, "GET", f"/v1/inquiries/{created['inquiry_id']}").json["locale"] == "ja"


@pytest.mark.parametrize("priority", ["urgent", "high", "normal", "low"])
def test_priority_is_stored(stack, priority):
    created = call(stack, "POST", "/v1/inquiries", inquiry_body(priority=priority)).json
    assert call(stack, "GET", f"/v1/inquiries/{created['inquiry_id']}").json["priority"] == priority


def test_openapi_document_and_docs_are_served(stack):
    spec = call(stack, "GET", "/v1/openapi.json", sign=False)
    assert spec.status == 200
    document = spec.json
    assert "/v1/inquiries" in document["paths"]
    assert "post" in document["paths"]["/v1/inquiries"]
    assert "/v1/inquiries/{inquiry_id}" in document["paths"]
    docs = call(stack, "GET", "/v1/docs", sign=False)
    assert docs.status == 200
    assert "swagger" in docs.text.lower()


def test_openapi_documents_each_success_and_error_shape(stack):
    document = call(stack, "GET", "/v1/openapi.json", sign=False).json
    error_ref = "#/components/schemas/ErrorOut"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            successes = [code for code in responses if code.startswith("2")]
            assert len(successes) == 1, where
            if operation.get("security") == []:  # the public unsubscribe link: HTML pages, unsigned
                assert path == "/v1/unsubscribe", where
                assert set(responses[successes[0]]["content"]) == {"text/html"}, where
                assert set(responses["400"]["content"]) == {"text/html"}, where
                assert "401" not in responses and "422" not in responses, where
                continue
            success_schema = responses[successes[0]]["content"]["application/json"]["schema"]
            assert success_schema["$ref"] != error_ref, where
            for code in ("400", "401", "413", "415", "422", "503"):
                assert code in responses, (where, code)
            for code, response in responses.items():
                if code[0] in "45":
                    assert response["content"]["application/json"]["schema"]["$ref"] == error_ref, (
                        where,
                        code,
                    )
