"""Property-based: whatever a storefront sends to the commerce routes, the API never answers 500:
202/200, or a 4xx JSON error (a 422 naming the offending fields); every accepted event is applied
by the event worker without a failure. The public unsubscribe link answers only 200 or 400 pages,
whatever token it carries."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import call

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values a storefront might send by mistake, beyond what random JSON finds: edge times (the
# first and last representable instants, with offsets), money written oddly, long and odd strings.
EDGES = st.sampled_from(
    [
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        "2026-11-22T01:02:03",
        "2026-02-30T00:00:00Z",
        "2026-11-22T01:02:03.123456789+09:00",
        "1e-30",
        "1E+5",
        "-0",
        "NaN",
        "Infinity",
        " 12 ",
        "0x10",
        "１２３",
        "999999999999.99",
        "1e12",
        1e308,
        -1,
        0.1,
        10**30,
        "",
        " ",
        "\u0000",
        "a\nb",
        "x" * 300,
        "XXX",
        "jpy",
        "ja",
        "de",
        "not-an-email",
        "taro@example.jp",
        "https://shop.example/" + "p" * 2100,
        "javascript:alert(1)",
    ]
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
JSON_VALUES = st.recursive(
    JSON_SCALARS | EDGES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

CUSTOMER = {"id": "c-1", "email": "taro@example.jp", "name": "山田太郎", "locale": "ja"}
LINE = {
    "sku": "TEA-01",
    "name": "玉露 100g",
    "quantity": 2,
    "unit_price": "1620",
    "image_url": "https://shop.example/i.jpg",
}
VALID = {
    "/v1/events/carts": {
        "cart_id": "cart-1",
        "customer": CUSTOMER,
        "items": [LINE],
        "currency": "JPY",
        "subtotal": "3240",
        "cart_url": "https://shop.example/cart/cart-1",
        "updated_at": "2026-11-22T01:02:03Z",
    },
    "/v1/events/orders": {
        "order_id": "o-1",
        "type": "placed",
        "customer": CUSTOMER,
        "cart_id": "cart-1",
        "items": [LINE],
        "currency": "JPY",
        "total": "3240",
        "shipping": "0",
        "refund_id": "r-1",
        "refund_amount": "100",
        "occurred_at": "2026-11-22T02:00:00Z",
    },
    "/v1/customers/c-1/consent": {
        "email": "taro@example.jp",
        "marketing_email": True,
        "source": "checkout_checkbox",
        "wording": "お知らせを受け取る",
        "consented_at": "2026-11-22T01:00:00Z",
        "name": "山田太郎",
        "locale": "ja",
    },
}
METHOD = {path: "PUT" if "consent" in path else "POST" for path in VALID}
_SERIAL = itertools.count()  # distinct natural ids in every example, shrinking included
ORDER_TYPES = st.sampled_from(["placed", "fulfilled", "delivered", "cancelled", "refunded"])


def _paths(body: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a body a value can be replaced (dict keys and list positions, nested)."""
    found = []
    if isinstance(body, dict):
        items: Any = body.items()
    elif isinstance(body, list):
        items = enumerate(body)
    else:
        return []
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


@st.composite
def near_valid(draw, path: str) -> dict[str, Any]:
    body = copy.deepcopy(VALID[path])
    if path == "/v1/events/orders":
        body["type"] = draw(ORDER_TYPES)
        if body["type"] != "refunded":
            body.pop("refund_id")
            body.pop("refund_amount")
    body = _with_unique_ids(body, next(_SERIAL))
    where = draw(st.sampled_from(_paths(body)))
    parent = body
    for key in where[:-1]:
        parent = parent[key]
    if draw(st.integers(0, 4)) == 0:
        del parent[where[-1]]
    else:
        parent[where[-1]] = draw(JSON_VALUES)
    return body


def _with_unique_ids(body: dict[str, Any], salt: int) -> dict[str, Any]:
    """Distinct natural ids per example: a changed body under a used natural id is a (correct) 409."""
    for key in ("cart_id", "order_id"):
        if key in body:
            body[key] = f"{body[key]}-{salt}"
    return body


def _assert_answer(reply, ok: int) -> None:
    assert reply.status == ok or 400 <= reply.status < 500, (reply.status, reply.text)
    assert reply.headers.get("Content-Type", "").startswith("application/json"), reply.headers
    answer = reply.json
    if reply.status != ok:
        assert isinstance(answer.get("error"), dict), reply.text
        if reply.status == 422:
            assert answer["error"].get("fields"), reply.text


def _ok(path: str) -> int:
    return 200 if METHOD[path] == "PUT" else 202


def _no_failed_events(stack) -> None:
    stack.drain()
    sqs = boto3.client("sqs")
    url = stack.resources.queues["EventDeadLetterQueue"].url
    dead = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "0", "an accepted event failed in the worker"


@pytest.mark.parametrize("path", list(VALID))
@SETTINGS
@given(data=st.data())
def test_near_valid_bodies_never_500(stack, path, data):
    body = data.draw(near_valid(path))
    reply = call(stack, METHOD[path], path, body)
    _assert_answer(reply, _ok(path))
    if reply.status == 202:
        _no_failed_events(stack)


@pytest.mark.parametrize("path", list(VALID))
@SETTINGS
@given(body=JSON_VALUES)
def test_random_json_bodies_never_500(stack, path, body):
    reply = call(stack, METHOD[path], path, body)
    _assert_answer(reply, _ok(path))


@SETTINGS
@given(
    token=st.text(max_size=300)
    | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~", max_size=300),
    method=st.sampled_from(["GET", "POST"]),
)
def test_unsubscribe_with_any_token_answers_a_200_or_400_page(stack, token, method):
    from urllib.parse import quote

    reply = call(stack, method, f"/v1/unsubscribe?token={quote(token, safe='')}", sign=False)
    assert reply.status in (200, 400), (reply.status, reply.text)
    assert reply.headers.get("Content-Type", "").startswith("text/html"), reply.headers
    assert "<html" in reply.text.lower()


TIME_FIELDS = {
    "/v1/events/carts": "updated_at",
    "/v1/events/orders": "occurred_at",
    "/v1/customers/c-1/consent": "consented_at",
}
OFFSETS = st.sampled_from(["Z", "+00:00", "+09:00", "-01:00", "+14:00", "-12:00", "+23:59", "-23:59"])
ANY_TIMES = st.builds(
    lambda moment, offset: moment.isoformat() + offset,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    OFFSETS,
) | st.sampled_from([e for e in EDGES.elements if isinstance(e, str) and e[:1].isdigit()])


@pytest.mark.parametrize("path", list(TIME_FIELDS))
@SETTINGS
@given(moment=ANY_TIMES)
def test_any_event_time_is_accepted_and_applied_or_refused_by_name(stack, path, moment):
    """The first and last representable instants, in any offset: stored and applied by the worker
    without a failure, or a 422 naming the time field; never a 500."""
    body = _with_unique_ids(copy.deepcopy(VALID[path]), next(_SERIAL))
    if path == "/v1/events/orders":
        body.pop("refund_id")
        body.pop("refund_amount")
    body[TIME_FIELDS[path]] = moment
    reply = call(stack, METHOD[path], path, body)
    _assert_answer(reply, _ok(path))
    if reply.status == 422:
        assert [f["field"] for f in reply.json["error"]["fields"]] == [TIME_FIELDS[path]], reply.text
    else:
        assert reply.status == _ok(path), reply.text
    if reply.status == 202:
        _no_failed_events(stack)
        kind, ident = ("carts", body["cart_id"]) if "cart" in path else ("orders", body["order_id"])
        assert call(stack, "GET", f"/v1/{kind}/{ident}").status == 200
