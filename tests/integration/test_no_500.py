"""Property-based: whatever a storefront sends, the API never answers 500 and never writes on 4xx."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import call, inquiry_body

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["customer", "channel", "subject", "message", "order_id", "external_id", "priority", "headers"]
CUSTOMER_FIELDS = ["email", "name", "id", "locale"]


@st.composite
def mutated_bodies(draw):
    body = inquiry_body()
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            field = draw(st.sampled_from(FIELDS))
            if draw(st.booleans()):
                body.pop(field, None)
            else:
                body[field] = draw(json_values)
        elif isinstance(body.get("customer"), dict):
            field = draw(st.sampled_from(CUSTOMER_FIELDS))
            body["customer"][field] = draw(json_values)
    return body


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(body=mutated_bodies())
def test_mutated_bodies_never_500(stack, body):
    reply = call(stack, "POST", "/v1/inquiries", body)
    assert reply.status in (202, 422), (reply.status, reply.text)
    if reply.status == 422:
        assert reply.json["error"]["fields"], reply.text


@SETTINGS
@given(
    raw=st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | json_values.map(lambda v: json.dumps(v).encode())
)
def test_arbitrary_bytes_never_500(stack, raw):
    reply = call(stack, "POST", "/v1/inquiries", raw=raw)
    assert reply.status in (202, 400, 422), (reply.status, reply.text)


@SETTINGS
@given(
    path=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#"), max_size=40
    ),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
)
def test_arbitrary_paths_never_500(stack, path, method):
    reply = call(stack, method, f"/v1/{path}", raw=b"{}")
    assert reply.status < 500, (reply.status, reply.text)
