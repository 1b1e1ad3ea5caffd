"""OpenAPI metadata: the API's description, the error answers every route documents, and the
Swagger UI. docs/openapi.json is the committed copy integrators read (a test keeps it current)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from omotenashi import __version__
from omotenashi.schemas.common import ErrorOut

TITLE = "Omotenashi API"
# Markdown (Swagger renders it): placeholders in code spans, or <unix seconds> reads as an HTML tag.
DESCRIPTION = """Omotenashi storefront API. Every `/v1` request except the documentation and the public
unsubscribe link (`/v1/unsubscribe`, which marketing emails carry) carries two headers:

- `X-Omotenashi-Store: <store id>`
- `X-Omotenashi-Signature: t=<unix seconds>,v1=<hex digest>`

where the digest is `HMAC-SHA256(secret, "<t>.<METHOD>.<path with query string as sent>.<raw body>")`
in lower-case hex. `t` must be within 300 seconds of the server's time. Optional header:
`Idempotency-Key` (1-255 printable ASCII characters; the same key and body within 24 hours answers
as the first call did). Errors are `{"error": {"type", "message", "fields": [{"field", "message"}]}}`.
docs/signing.md in the repository has signing test vectors and client snippets (Python, PHP, Node)."""


def answer(description: str, model: type = ErrorOut) -> Any:
    """One documented response. Content is explicit everywhere: Powertools documents a response
    without content as the route's return model, which would describe error bodies as inquiries."""
    return {"description": description, "content": {"application/json": {"model": model}}}


# Every /v1 route may answer these (the guard and the validation run before the route).
COMMON_ERRORS: dict[int, Any] = {
    400: answer("Malformed JSON or header (a duplicated or invalid header)"),
    401: answer("Missing or invalid signature, or unknown store"),
    413: answer("Body over 256 KiB"),
    415: answer("Content-Type is not application/json"),
    422: answer("Invalid fields, each named"),
    503: answer("A dependency failed; retry the same request (see Retry-After)"),
}
KEY_CONFLICT: dict[int, Any] = {409: answer("Idempotency-Key reused with another body")}


def not_found(what: str) -> dict[int, Any]:
    return {404: answer(f"Unknown {what} (or another store's)")}


_CONFIGURED = "_omotenashi_docs_configured"


def configure_docs(app: APIGatewayRestResolver) -> None:
    """OpenAPI metadata and Swagger UI. Deferred to the first docs request: Powertools' OpenAPI
    models cost about 65 ms to import, which every cold start would otherwise pay."""
    if getattr(app, _CONFIGURED, False):
        return
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    app.configure_openapi(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        security_schemes={
            "store": APIKey.model_validate({"name": "X-Omotenashi-Store", "in": APIKeyIn.header}),
            "signature": APIKey.model_validate({"name": "X-Omotenashi-Signature", "in": APIKeyIn.header}),
        },
        security=[{"store": [], "signature": []}],
    )
    app.enable_swagger(path="/v1/docs", title=TITLE, version=__version__, description=DESCRIPTION)
    setattr(app, _CONFIGURED, True)


def document(app: APIGatewayRestResolver) -> str:
    """The OpenAPI document as served at /v1/openapi.json.

    Powertools gives every route a 422 "Validation Error" unless the route names its own 422. The
    signed routes do (COMMON_ERRORS: our error body); a route that names none has nothing to
    validate (the public unsubscribe link reads its token itself and answers 400), so its
    generated 422, which it never answers, is dropped."""
    configure_docs(app)
    served = json.loads(app.get_openapi_json_schema())
    for operations in served.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                del responses["422"]
    return json.dumps(served, indent=2, ensure_ascii=False)
