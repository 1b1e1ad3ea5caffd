"""The API's Powertools resolver: validation, UTF-8 JSON answers, and every error mapped in one
place. Routes live in routes/ (one Router per area, included by functions/api/app.py); `serve`
runs the request guard, then the resolver."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from functools import partial
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.shared.json_encoder import Encoder

from omotenashi.dal.errors import DataAccessError
from omotenashi.domain import Store
from omotenashi.http import openapi
from omotenashi.http.errors import JSON, error_body, proxy_response, validation_fields
from omotenashi.http.guard import RETRY_AFTER_SECONDS, guard
from omotenashi.http.routes import AREAS
from omotenashi.logic.core.errors import DomainError
from omotenashi.observability import logger

# Unsigned: the documentation, and the unsubscribe link of marketing emails (a person or a mail
# provider follows it; it answers HTML). The guard skips the signature and JSON body checks for
# them and keeps the size limit.
DOCUMENTATION = ("/v1/openapi.json", "/v1/docs")
PUBLIC_PREFIXES = (*DOCUMENTATION, "/v1/unsubscribe")

# Japanese stays Japanese in every answer (as intake's answers always were), never \\u-escaped.
_SERIALIZER = partial(json.dumps, separators=(",", ":"), cls=Encoder, ensure_ascii=False)


def json_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status, content_type=JSON, body=json.dumps(body, ensure_ascii=False), headers=headers
    )


def create_resolver() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True, serializer=_SERIALIZER)

    @app.get("/v1/openapi.json", include_in_schema=False)
    def openapi_document():  # no return annotation: Powertools would try to validate a Response
        return Response(status_code=200, content_type=JSON, body=openapi.document(app))

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        errors = list(error.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return json_response(400, error_body("invalid_json", "request body is not valid JSON"))
        fields = validation_fields(errors)
        names = ", ".join(f["field"] for f in fields)
        return json_response(422, error_body("validation_error", f"invalid fields: {names}", fields))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_type(_: RequestUnsupportedContentType) -> Response:
        return json_response(415, error_body("unsupported_media_type", "send Content-Type: application/json"))

    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        # The table: each error class names its status and type (logic/core/errors.py).
        retry = {"Retry-After": str(error.retry_after_seconds)} if error.retry_after_seconds else None
        fields = getattr(error, "fields", None)  # InvalidFields names them, as the validation does
        return json_response(error.status, error_body(error.type, str(error) or error.type, fields), retry)

    @app.exception_handler(DataAccessError)
    def dependency_failed(error: DataAccessError) -> Response:
        logger.warning("dependency failed", extra={"error": str(error)})  # names the call, never data
        return json_response(
            503,
            error_body("service_unavailable", "temporarily unavailable; retry the same request"),
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.not_found
    def no_route(_: Exception) -> Response:
        # As Stripe does: an unknown method and path pair is a 404 that names what was asked.
        event = app.current_event
        return json_response(404, error_body("not_found", f"no such route: {event.http_method} {event.path}"))

    @app.exception_handler(Exception)
    def internal(error: Exception) -> Response:
        logger.exception("unhandled error")
        return json_response(500, error_body("internal_error", "internal error"))

    return app


def serve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    request, store, early = guard(event, PUBLIC_PREFIXES)
    if early is not None:
        return early
    if request.path.startswith(DOCUMENTATION):  # the documentation describes every area
        include_areas(app, [m for modules in AREAS.values() for m in modules])
        openapi.configure_docs(app)
    else:
        include_areas(app, [m for prefix, ms in AREAS.items() if request.path.startswith(prefix) for m in ms])
    _lower_case_media_type(event)
    if store is not None:
        logger.append_keys(store_id=store.store_id)
    app.append_context(store=store)
    try:
        return app.resolve(event, context)
    except Exception:  # the resolver's own failures must still answer JSON, never a bare 502
        logger.exception("resolver failed")
        return proxy_response(500, error_body("internal_error", "internal error"))


_INCLUDED = "_omotenashi_included_areas"


def include_areas(app: APIGatewayRestResolver, modules: Iterable[str]) -> None:
    """Include each area's Router once per app, when a request first needs it (see routes/)."""
    included = _included(app)
    for name in modules:
        if name not in included:
            app.include_router(importlib.import_module(name).router())
            included.add(name)


def _included(app: APIGatewayRestResolver) -> set[str]:
    found: set[str] | None = getattr(app, _INCLUDED, None)
    if found is None:
        found = set()
        setattr(app, _INCLUDED, found)
    return found


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


def current_store(router: Any) -> Store:
    """The authenticated store of the request a route (of the app or an included Router) serves."""
    store = router.context.get("store")
    if not isinstance(store, Store):  # pragma: no cover - the guard guarantees it on /v1 routes
        raise RuntimeError("route reached without an authenticated store")
    return store
