"""POST /v1/events/reviews and /v1/events/surveys at the HTTP edge: bad input is a 4xx naming the
field and writes nothing (no event, no review, no queued job, no email), never a 500; repeats
answer as the first did; another store sees nothing. GET /v1/orders/{id} shows an order's reviews,
its review request and its reward; the OpenAPI document lists both routes.

Each bad-input test runs its cases against one stack (a stack per case would cost a second each):
every case is checked to have written nothing before the next one runs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from omotenashi import clock
from omotenashi_local.openapi import served_document
from tests.integration.helpers import item_count, queue_depth
from tests.integration.reviews.helpers import (
    CUSTOMER,
    T0,
    consent,
    delivered_order,
    iso,
    pin,
    review,
    sent,
    view_order,
)
from tests.support import call, create_other_store, signed_headers

REVIEWS = "/v1/events/reviews"
SURVEYS = "/v1/events/surveys"


@pytest.fixture
def shop(stack: Any) -> Iterator[Any]:
    pin(T0 + timedelta(hours=1))
    yield stack
    clock.set_source(None)


def review_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "review_id": "rv-9",
        "order_id": "o-1001",
        "sku": "TEA-01",
        "customer": {"id": "c-123", "email": "taro@example.jp"},
        "rating": 5,
        "title": "香りが良い",
        "body": "また買います。",
        "submitted_at": "2026-11-30T03:00:00Z",
    }
    body.update(changes)
    return body


def survey_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "survey_id": "sv-1",
        "response_id": "resp-1",
        "customer": {"id": "c-123", "email": "taro@example.jp"},
        "submitted_at": "2026-11-30T03:00:00Z",
    }
    body.update(changes)
    return body


def without(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.pop(field)


def setting(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.update({field: value})


def customer(value: Any) -> Callable[[dict[str, Any]], None]:
    return setting("customer", value)


def assert_nothing_written(stack: Any, what: Any = "") -> None:
    assert item_count(stack, "EventsTable") == 0, what
    assert item_count(stack, "ReviewsTable") == 0, what
    assert item_count(stack, "LoyaltyTable") == 0, what
    assert queue_depth(stack) == 0, what
    stack.drain()
    assert stack.outbox() == [], what


def _bad_input_cases(
    stack: Any, path: str, make: Callable[..., dict[str, Any]], cases: list[tuple[Any, str]]
) -> None:
    problems = []
    for mutate, field in cases:
        body = make()
        mutate(body)
        reply = call(stack, "POST", path, body)
        fields = [f["field"] for f in reply.json["error"]["fields"]] if reply.status == 422 else []
        if reply.status != 422 or field not in fields:
            problems.append((field, body, reply.status, reply.text[:200]))
        assert_nothing_written(stack, (field, body))
    assert problems == []


# -- bad input -----------------------------------------------------------------------------------


REVIEW_CASES = [
    *(
        (without(field), field)
        for field in ("review_id", "order_id", "sku", "customer", "rating", "submitted_at")
    ),
    (setting("rating", 0), "rating"),
    (setting("rating", 6), "rating"),
    (setting("rating", -1), "rating"),
    (setting("rating", "5"), "rating"),
    (setting("rating", 5.5), "rating"),
    (setting("rating", 5.0), "rating"),
    (setting("rating", True), "rating"),
    (setting("rating", None), "rating"),
    (setting("rating", [5]), "rating"),
    (setting("submitted_at", "yesterday"), "submitted_at"),
    (setting("submitted_at", "2026-11-30T03:00:00"), "submitted_at"),  # no offset
    (setting("submitted_at", "2026-13-01T00:00:00Z"), "submitted_at"),
    (setting("submitted_at", ""), "submitted_at"),
    (setting("submitted_at", [2026, 11, 30]), "submitted_at"),
    (setting("submitted_at", "1900-01-01T00:00:00Z"), "submitted_at"),
    (customer("c-123"), "customer"),
    (customer(["c-123"]), "customer"),
    (customer(None), "customer"),
    (customer({}), "customer"),  # neither id nor email
    (customer({"name": "山田太郎"}), "customer"),
    (customer({"id": ""}), "customer.id"),
    (customer({"email": "not-an-email"}), "customer.email"),
    (customer({"id": "c-123", "locale": "fr"}), "customer.locale"),
    (setting("review_id", ""), "review_id"),
    (setting("order_id", ""), "order_id"),
    (setting("sku", ""), "sku"),
    (setting("review_id", "rv 9"), "review_id"),
    (setting("review_id", "r" * 256), "review_id"),
    (setting("review_id", 9), "review_id"),
    (setting("order_id", None), "order_id"),
    (setting("title", "a\nb"), "title"),
    (setting("title", "t" * 201), "title"),
    (setting("body", "b" * 10_001), "body"),
    (setting("body", 5), "body"),
]

SURVEY_CASES = [
    *((without(field), field) for field in ("survey_id", "response_id", "customer", "submitted_at")),
    (setting("survey_id", ""), "survey_id"),
    (setting("response_id", ""), "response_id"),
    (setting("response_id", "resp 1"), "response_id"),
    (setting("survey_id", 1), "survey_id"),
    (customer("taro@example.jp"), "customer"),
    (customer({}), "customer"),
    (customer({"email": "nope"}), "customer.email"),
    (setting("submitted_at", "2026-11-30"), "submitted_at"),
    (setting("submitted_at", "2026-11-30T25:00:00Z"), "submitted_at"),
    (setting("submitted_at", None), "submitted_at"),
]


def test_bad_reviews_are_422_naming_the_field_and_write_nothing(shop):
    _bad_input_cases(shop, REVIEWS, review_body, REVIEW_CASES)


def test_bad_survey_answers_are_422_naming_the_field_and_write_nothing(shop):
    _bad_input_cases(shop, SURVEYS, survey_body, SURVEY_CASES)


def test_every_bad_field_of_a_review_is_named_at_once(shop):
    body = review_body(rating=0, submitted_at="nope", review_id="")
    body["customer"] = "c-123"
    reply = call(shop, "POST", REVIEWS, body)
    assert reply.status == 422, reply.text
    named = {f["field"] for f in reply.json["error"]["fields"]}
    assert {"rating", "submitted_at", "review_id", "customer"} <= named
    assert_nothing_written(shop)


ODD_VALUES = [None, 0, -1, 1.5, True, "", " ", "x" * 300, "🍵", [], {}, [1, 2], {"a": 1}]


@pytest.mark.parametrize(
    ("path", "make"), [(REVIEWS, review_body), (SURVEYS, survey_body)], ids=["reviews", "surveys"]
)
def test_odd_values_in_any_field_are_never_a_500(shop, path, make):
    """Every field, and every field of `customer`, given each odd value: 202 or 422, and a 422
    writes nothing."""
    fields = [*make(), "customer.id", "customer.email", "customer.name", "customer.locale"]
    for field in fields:
        for value in ODD_VALUES:
            body = make()
            if field.startswith("customer."):
                body["customer"] = {**body["customer"], field.split(".", 1)[1]: value}
            else:
                body[field] = value
            events_before = item_count(shop, "EventsTable")
            reply = call(shop, "POST", path, body)
            assert reply.status in (202, 409, 422), (field, value, reply.status, reply.text)
            if reply.status != 202:
                assert item_count(shop, "EventsTable") == events_before, (field, value)
    shop.drain()  # whatever was accepted, the worker applies without failing
    assert shop.queued() == 0


@pytest.mark.parametrize("path", [REVIEWS, SURVEYS])
@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"review_id": }', b"\xff\xfe"])
def test_malformed_json_is_400(shop, path, raw):
    reply = call(shop, "POST", path, raw=raw)
    assert reply.status == 400, reply.text
    assert reply.json["error"]["type"] == "invalid_json"
    assert_nothing_written(shop)


@pytest.mark.parametrize("path", [REVIEWS, SURVEYS])
def test_json_that_is_not_an_object_is_422(shop, path):
    for raw in (b"[]", b'"rv-9"', b"5", b"null", json.dumps([review_body()]).encode()):
        reply = call(shop, "POST", path, raw=raw)
        assert reply.status == 422, (raw, reply.text)
    assert_nothing_written(shop)


@pytest.mark.parametrize(
    ("path", "make"), [(REVIEWS, review_body), (SURVEYS, survey_body)], ids=["reviews", "surveys"]
)
def test_refused_signatures_are_401_and_write_nothing(shop, path, make):
    unsigned = call(shop, "POST", path, make(), sign=False, headers={"Content-Type": "application/json"})
    assert unsigned.status == 401, unsigned.text
    assert call(shop, "POST", path, make(), secret="not-the-secret").status == 401
    assert call(shop, "POST", path, make(), store="nope").status == 401
    assert call(shop, "POST", path, make(), timestamp=int(time.time()) - 301).status == 401
    raw = json.dumps(make()).encode()
    headers = signed_headers("POST", path, raw)
    tampered = raw.replace(b'"2026-11-30', b'"2026-11-29')
    assert shop.api("POST", path, headers, tampered)["statusCode"] == 401
    assert_nothing_written(shop)


# -- repeats -------------------------------------------------------------------------------------


def test_a_repeated_review_answers_as_the_first_and_a_different_body_is_409(shop):
    delivered_order(shop, at=T0)
    first = call(shop, "POST", REVIEWS, review_body())
    assert first.status == 202
    assert first.json == {"review_id": "rv-9", "order_id": "o-1001", "status": "accepted"}
    again = call(shop, "POST", REVIEWS, review_body())
    assert (again.status, again.text) == (202, first.text)
    assert again.headers.get("Idempotent-Replayed") == "true"
    changed = call(shop, "POST", REVIEWS, review_body(rating=1))  # the same review_id, another body
    assert changed.status == 409, changed.text
    assert changed.json["error"]["type"] == "idempotency_conflict"
    shop.drain()
    assert item_count(shop, "EventsTable") == 4  # placed, fulfilled, delivered, the review
    reviews = call(shop, "GET", "/v1/customers/c-123/loyalty/ledger").json["entries"]
    assert [e["kind"] for e in reviews if e["kind"] != "earn"] == ["review_reward"]


def test_the_same_idempotency_key_with_another_body_is_409_and_writes_nothing_new(shop):
    key = {"Idempotency-Key": "review-form-77"}
    first = call(shop, "POST", REVIEWS, review_body(), headers=key)
    assert first.status == 202
    replay = call(shop, "POST", REVIEWS, review_body(), headers=key)
    assert (replay.status, replay.text) == (202, first.text)
    other = call(shop, "POST", REVIEWS, review_body(review_id="rv-10", sku="CUP-02"), headers=key)
    assert other.status == 409, other.text
    survey = call(shop, "POST", SURVEYS, survey_body(), headers=key)  # the key is the store's, any route
    assert survey.status == 409, survey.text
    shop.drain()
    assert item_count(shop, "EventsTable") == 1
    assert [r["review_id"] for r in _reviews_stored(shop)] == ["rv-9"]


def test_a_repeated_survey_answer_answers_as_the_first(shop):
    first = call(shop, "POST", SURVEYS, survey_body())
    assert first.status == 202
    assert first.json == {"survey_id": "sv-1", "response_id": "resp-1", "status": "accepted"}
    again = call(shop, "POST", SURVEYS, survey_body())
    assert (again.status, again.text) == (202, first.text)
    assert call(shop, "POST", SURVEYS, survey_body(survey_id="sv-2")).status == 409
    shop.drain()
    assert item_count(shop, "EventsTable") == 1
    assert len(sent(shop, "review_reward")) == 1


def _reviews_stored(stack: Any) -> list[dict[str, str]]:
    import boto3

    table = stack.resources.tables["ReviewsTable"]
    items = boto3.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return [{"review_id": i["review_id"]["S"]} for i in items if i["key"]["S"].startswith("review#")]


# -- reading an order's reviews ------------------------------------------------------------------


def test_the_order_shows_its_reviews_request_and_reward(shop):
    consent(shop)
    delivered_order(shop, at=T0)
    before = view_order(shop)
    assert before["reviews"] == [] and before["review_reward"] is None
    assert before["review_request"] == {
        "status": "scheduled",
        "due_at": clock.instant(T0 + timedelta(days=7)),
        "requested_at": None,
        "reminded_at": None,
        "stopped": None,
    }
    review(shop, rating=3)
    shop.drain()
    shown = view_order(shop)
    assert shown["reviews"] == [
        {
            "review_id": "rv-9",
            "sku": "TEA-01",
            "customer_id": "c-123",
            "rating": 3,
            "title": "香りが良い",
            "body": "また買います。",
            "submitted_at": clock.instant(clock.now()),
            "incentivized": True,
        }
    ]
    assert shown["review_request"]["status"] == "reviewed"
    assert shown["review_request"]["due_at"] is None
    reward = shown["review_reward"]
    assert set(reward) == {"outcome", "review_id", "points", "coupon_code", "decided_at"}
    assert (reward["outcome"], reward["review_id"], reward["points"], reward["coupon_code"]) == (
        "granted",
        "rv-9",
        50,
        None,
    )


def test_another_store_sees_none_of_it(shop):
    other = create_other_store()
    delivered_order(shop)
    review(shop)
    shop.drain()
    assert call(shop, "GET", "/v1/orders/o-1001", **other).status == 404
    assert call(shop, "GET", "/v1/customers/c-123/loyalty/ledger", **other).json["entries"] == []
    # The other store's own review with the same ids is its own event, and changes nothing here.
    assert call(shop, "POST", REVIEWS, review_body(submitted_at=iso(clock.now())), **other).status == 202
    shop.drain()
    assert call(shop, "GET", "/v1/orders/o-1001", **other).status == 404  # reviews make no order
    assert [r["review_id"] for r in view_order(shop)["reviews"]] == ["rv-9"]
    assert len(call(shop, "GET", "/v1/customers/c-123/loyalty/ledger").json["entries"]) == 2  # earn, reward
    # The other store has no order o-1001: its review earns nothing (a reward needs the order).
    assert call(shop, "GET", "/v1/customers/c-123/loyalty/ledger", **other).json["entries"] == []


def test_an_order_shows_only_its_own_reviews_whatever_its_id(shop):
    delivered_order(shop, "o-1")
    delivered_order(shop, "o-1#2", customer={"id": "c-456", "email": "hana@example.jp"})
    review(shop, "rv-a", "o-1#2", customer={"id": "c-456", "email": "hana@example.jp"})
    shop.drain()
    assert view_order(shop, "o-1")["reviews"] == []


# -- the OpenAPI document ------------------------------------------------------------------------


def test_the_openapi_document_lists_both_routes(shop):
    document = served_document(shop)
    schemas = document["components"]["schemas"]
    for path, schema in ((REVIEWS, "ReviewEventIn"), (SURVEYS, "SurveyEventIn")):
        operation = document["paths"][path]["post"]
        assert {"202", "401", "409", "422"} <= set(operation["responses"]), operation["responses"].keys()
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith(f"/{schema}")
        assert "idempotency-key" in [p["name"].lower() for p in operation.get("parameters", [])]
    review_schema = schemas["ReviewEventIn"]
    assert set(review_schema["required"]) >= {
        "review_id",
        "order_id",
        "sku",
        "customer",
        "rating",
        "submitted_at",
    }
    assert (
        review_schema["properties"]["rating"]["minimum"],
        review_schema["properties"]["rating"]["maximum"],
    ) == (
        1,
        5,
    )
    assert set(schemas["SurveyEventIn"]["required"]) >= {
        "survey_id",
        "response_id",
        "customer",
        "submitted_at",
    }
    order_properties = schemas["OrderOut"]["properties"]
    assert {"reviews", "review_request", "review_reward"} <= set(order_properties)
    assert "incentivized" in schemas["ReviewOut"]["properties"]


def test_customer_routes_accept_the_reviewing_customer_by_email(shop):
    """A guest's review (email only) of a guest's order earns for the customer whose id is the
    lower-cased email."""
    guest = {"email": "Guest@Example.JP"}
    delivered_order(shop, at=T0, customer=guest)
    assert (
        call(shop, "POST", REVIEWS, review_body(customer=guest, submitted_at=iso(clock.now()))).status == 202
    )
    shop.drain()
    ledger = call(shop, "GET", "/v1/customers/" + quote("guest@example.jp", safe="@") + "/loyalty/ledger")
    assert ledger.status == 200, ledger.text
    assert [(e["kind"], e["points"]) for e in ledger.json["entries"] if e["kind"] != "earn"] == [
        ("review_reward", 50)
    ]
    [email] = sent(shop, "review_reward")
    assert [to.lower() for to in email["to"]] == ["guest@example.jp"]  # the address the order gave
    assert CUSTOMER["email"] not in email["to"]
