"""docs/openapi.json is what integrators read: it must be the document the API serves."""

from __future__ import annotations

import json

from omotenashi_local.openapi import COMMITTED, render, served_document


def test_committed_openapi_matches_the_served_document(stack):
    served = served_document(stack)
    committed = COMMITTED.read_text(encoding="utf-8")
    assert render(served) == committed, "docs/openapi.json is stale: run `make openapi`"


def test_openapi_documents_the_contract_limits(stack):
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    assert schemas["CustomerIn"]["properties"]["email"]["format"] == "email"
    parameters = document["paths"]["/v1/inquiries"]["post"]["parameters"]
    key = next(p for p in parameters if p["name"].lower() == "idempotency-key")
    assert key["schema"]["anyOf"][0]["maxLength"] == 255
    # The public unsubscribe link: documented, unsigned (no security), answering HTML.
    unsubscribe = document["paths"]["/v1/unsubscribe"]
    assert set(unsubscribe) == {"get", "post"}
    for operation in unsubscribe.values():
        assert operation["security"] == []
        assert [p["name"] for p in operation["parameters"]] == ["token"]
        assert set(operation["responses"]["200"]["content"]) == {"text/html"}
        assert set(operation["responses"]["400"]["content"]) == {"text/html"}
    assert "application/x-www-form-urlencoded" in unsubscribe["post"]["requestBody"]["content"]
    assert "/v1/unsubscribe" in document["info"]["description"]  # named as the unsigned exception
    # In a code span, so Swagger shows it instead of eating "<unix seconds>" as an HTML tag.
    assert "`X-Omotenashi-Signature: t=<unix seconds>,v1=<hex digest>`" in document["info"]["description"]


def test_swagger_ui_tries_requests_against_the_stack_itself(stack):
    """The local stack has no stage prefix: "Try it out" must call /v1/..., not /local/v1/..."""
    page = stack.api("GET", "/v1/docs", {}, b"")
    assert page["statusCode"] == 200
    assert '"url": "/"' in page["body"] and "/local" not in page["body"]
