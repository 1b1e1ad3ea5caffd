"""The API's Powertools resolver: validation, OpenAPI, error mapping, and the request guard.

Route functions live in functions/api/app.py; this module gives them a configured resolver and
`serve`, which runs the guard and then the resolver.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from omotenashi import __version__
from omotenashi.domain import Store
from omotenashi.http.errors import JSON, error_body, proxy_response, validation_fields
from omotenashi.http.gateway import guard
from omotenashi.logic.errors import IdempotencyConflict, NotFound, ServiceUnavailable
from omotenashi.observability import logger

PUBLIC_PREFIXES = ("/v1/openapi.json", "/v1/docs", "/v1/unsubscribe")
API_DESCRIPTION = (
    "Omotenashi storefront API. Every /v1 request (except the documentation and /v1/unsubscribe) "
    "carries X-Omotenashi-Store and X-Omotenashi-Signature: t=<unix seconds>,v1=<hex "
    'HMAC-SHA256(secret, "<t>.<METHOD>.<path>.<raw body>")>. Optional Idempotency-Key header.'
)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers,
    )


def create_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_document():  # no return annotation: Powertools would try to validate a Response
        _configure_docs(app)
        return Response(status_code=200, content_type=JSON, body=app.get_openapi_json_schema())

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return _json(400, error_body("invalid_json", "request body is not valid JSON"))
        fields = validation_fields(errors)
        names = ", ".join(f["field"] for f in fields)
        return _json(422, error_body("validation_error", f"invalid fields: {names}", fields))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_type(_: RequestUnsupportedContentType) -> Response:
        return _json(415, error_body("unsupported_media_type", "send Content-Type: application/json"))

    @app.exception_handler(NotFound)
    def not_found_error(error: NotFound) -> Response:
        return _json(404, error_body("not_found", str(error) or "not found"))

    @app.exception_handler(IdempotencyConflict)
    def conflict(error: IdempotencyConflict) -> Response:
        return _json(409, error_body("idempotency_conflict", str(error)))

    @app.exception_handler(ServiceUnavailable)
    def unavailable(error: ServiceUnavailable) -> Response:
        return _json(503, error_body("service_unavailable", str(error)), {"Retry-After": "2"})

    @app.not_found
    def no_route(_: Exception) -> Response:
        # As Stripe does: an unknown method and path pair is a 404 that names what was asked.
        event = app.current_event
        return _json(404, error_body("not_found", f"no such route: {event.http_method} {event.path}"))

    @app.exception_handler(Exception)
    def internal(error: Exception) -> Response:
        logger.exception("unhandled error")
        return _json(500, error_body("internal_error", "internal error"))

    return app


_DOCS_CONFIGURED = "_omotenashi_docs_configured"


def _configure_docs(app: APIGatewayRestResolver) -> None:
    """OpenAPI metadata and Swagger UI. Deferred to the first docs request: Powertools' OpenAPI
    models cost about 65 ms to import, which every cold start would otherwise pay."""
    if getattr(app, _DOCS_CONFIGURED, False):
        return
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    app.configure_openapi(
        title="Omotenashi API",
        version=__version__,
        description=API_DESCRIPTION,
        security_schemes={
            "store": APIKey.model_validate({"name": "X-Omotenashi-Store", "in": APIKeyIn.header}),
            "signature": APIKey.model_validate({"name": "X-Omotenashi-Signature", "in": APIKeyIn.header}),
        },
        security=[{"store": [], "signature": []}],
    )
    app.enable_swagger(path="/v1/docs", title="Omotenashi API", version=__version__)
    setattr(app, _DOCS_CONFIGURED, True)


def serve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    request, store, early = guard(event, PUBLIC_PREFIXES)
    if early is not None:
        return early
    if request.path.startswith("/v1/docs"):
        _configure_docs(app)
    _lower_case_media_type(event)
    app.append_context(store=store, raw_body=request.body)
    try:
        return app.resolve(event, context)
    except Exception:  # the resolver's own failures must still answer JSON, never a bare 502
        logger.exception("resolver failed")
        return proxy_response(500, error_body("internal_error", "internal error"))


def _lower_case_media_type(event: dict[str, Any]) -> None:
    """Media types are case-insensitive (RFC 9110), Powertools' content-type check is not: the
    guard accepted "Application/JSON", so hand the resolver "application/json"."""

    def lowered(value: str) -> str:
        media_type, separator, parameters = value.partition(";")
        return media_type.strip().lower() + separator + parameters

    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field) or {}
        for name, value in headers.items():
            if name.lower() == "content-type":
                headers[name] = [lowered(v) for v in value] if isinstance(value, list) else lowered(value)


def current_store(app: APIGatewayRestResolver) -> Store:
    store = app.context.get("store")
    if not isinstance(store, Store):  # pragma: no cover - the guard guarantees it on /v1 routes
        raise RuntimeError("route reached without an authenticated store")
    return store
