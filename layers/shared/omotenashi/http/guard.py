"""The request guard: what every API request goes through before routing (size limit, duplicated
headers, authentication, body shape, Idempotency-Key).

This runs ahead of the Powertools resolver because its request validation would otherwise answer
422 to an unauthenticated caller; the contract wants 401 first, and a refused request must not
reach any route.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from omotenashi import clock
from omotenashi.dal.errors import DataAccessError
from omotenashi.domain import Store
from omotenashi.http.errors import error_body, proxy_response
from omotenashi.logic.core import signing
from omotenashi.logic.core.directory import STORE_ID_PATTERN, directory
from omotenashi.logic.core.errors import AuthenticationFailed
from omotenashi.observability import logger

MAX_BODY_BYTES = 256 * 1024
RETRY_AFTER_SECONDS = 2  # the same for every 503 (http/resolver.py uses this one)
MAX_JSON_DEPTH = 32
JSON_MEDIA_TYPE = "application/json"
STORE_HEADER = "x-omotenashi-store"
SIGNATURE_HEADER = "x-omotenashi-signature"
IDEMPOTENCY_HEADER = "idempotency-key"
_IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
# Headers that must come once: with two, which one was meant (and signed) is anybody's guess.
SINGLE_VALUE_HEADERS = {
    STORE_HEADER: "X-Omotenashi-Store",
    SIGNATURE_HEADER: "X-Omotenashi-Signature",
    IDEMPOTENCY_HEADER: "Idempotency-Key",
    "content-type": "Content-Type",
}


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    body: bytes
    raw_query: str | None = None  # the query string exactly as sent, when the event carries it
    repeated_headers: tuple[str, ...] = ()

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> RawRequest:
        raw_body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw_body, validate=True)
            except (binascii.Error, ValueError):
                body = b"\x00invalid-base64"
        else:
            body = raw_body.encode("utf-8", "surrogateescape")
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        repeated = tuple(
            sorted(
                str(k).lower()
                for k, values in (event.get("multiValueHeaders") or {}).items()
                if isinstance(values, list) and len(values) > 1
            )
        )
        query = {
            str(k): [str(x) for x in v]
            for k, v in (event.get("multiValueQueryStringParameters") or {}).items()
        }
        if not query:
            query = {str(k): [str(v)] for k, v in (event.get("queryStringParameters") or {}).items()}
        raw_query = event.get("rawQueryString")
        return cls(
            method=str(event.get("httpMethod", "GET")).upper(),
            path=str(event.get("path", "/")),
            headers=headers,
            query=query,
            body=body,
            raw_query=str(raw_query) if raw_query is not None else None,
            repeated_headers=repeated,
        )

    def signed_path_forms(self) -> tuple[str, ...]:
        """The path with its query string as the client signed it.

        When the event carries the raw query (`rawQueryString`: HTTP APIs, and the local stack),
        that is the one form: exactly what was sent (`?q=a+b`, `?a=1&b=2&a=3`, `?flag`,
        `?q=a%2fb`, `?q=%7E`; an empty query may have been sent as a bare `?`). An API Gateway
        REST event only has the query parsed, so the forms common clients produce are rebuilt from
        it: RFC 3986 or form encoding (`%20` or `+`), `~` as is or as `%7E`, a valueless key as
        `k` or `k=` (keys grouped in order of first appearance, upper-case hex)."""
        if self.raw_query is not None:
            if not self.raw_query:
                return (self.path, f"{self.path}?")
            return (f"{self.path}?{self.raw_query}",)
        if not self.query:
            return (self.path, f"{self.path}?")
        forms: dict[str, None] = {}
        for quote_via in (quote, quote_plus):
            for tilde in ("~", "%7E"):
                for bare_flags in (False, True):
                    forms[f"{self.path}?{_encode_query(self.query, quote_via, tilde, bare_flags)}"] = None
        return tuple(forms)


def _encode_query(query: dict[str, list[str]], quote_via: Any, tilde: str, bare_flags: bool) -> str:
    parts = []
    for key, values in query.items():
        for value in values:
            name = quote_via(key, safe="-_.~").replace("~", tilde)
            if bare_flags and value == "":
                parts.append(name)
            else:
                parts.append(f"{name}={quote_via(value, safe='-_.~').replace('~', tilde)}")
    return "&".join(parts)


def _duplicate_header(name: str) -> dict[str, Any]:
    return proxy_response(
        400,
        error_body(
            "invalid_header", f"{name} must be sent once", [{"field": name, "message": "must be sent once"}]
        ),
    )


def _unauthorized(message: str) -> dict[str, Any]:
    return proxy_response(
        401, error_body("authentication_failed", message), {"WWW-Authenticate": "Omotenashi-HMAC"}
    )


def authenticate(request: RawRequest) -> Store:
    store_id = request.headers.get(STORE_HEADER, "").strip()
    header = request.headers.get(SIGNATURE_HEADER, "").strip()
    if not store_id:
        raise AuthenticationFailed("X-Omotenashi-Store header is missing")
    if not header:
        raise AuthenticationFailed("X-Omotenashi-Signature header is missing")
    signature = signing.parse_header(header)
    if not STORE_ID_PATTERN.match(store_id):
        raise AuthenticationFailed("unknown store or invalid signature")
    signing.check_fresh(signature, clock.real_epoch())
    store = directory.get(store_id)
    paths = request.signed_path_forms()
    for attempt in range(2):
        # Secrets as a tuple: every path form is tried with every secret.
        if store is not None and signing.matches(
            signature, tuple(s.value for s in store.secrets), request.method, paths, request.body
        ):
            return store
        if attempt == 0:
            refreshed = directory.refresh_if_stale(store_id)  # a secret may have just been rotated
            if refreshed is None:
                break
            store = refreshed
    # One message for unknown store and bad digest: do not reveal which store ids exist.
    raise AuthenticationFailed("unknown store or invalid signature")


def _json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion (the value may be hostile)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _invalid_body(message: str) -> dict[str, Any]:
    return proxy_response(
        422,
        error_body("validation_error", "invalid fields: body", [{"field": "body", "message": message}]),
    )


def body_refusal(request: RawRequest) -> dict[str, Any] | None:
    """Bodies the routes must never see: not JSON, not UTF-8, not an object, or nested so deep that
    parsing or hashing it would exhaust the stack (a 500 otherwise)."""
    if not request.body:
        return None
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and media_type != JSON_MEDIA_TYPE:
        return proxy_response(
            415, error_body("unsupported_media_type", "send Content-Type: application/json")
        )
    try:
        parsed = json.loads(request.body.decode("utf-8"))
    except UnicodeDecodeError:
        return proxy_response(400, error_body("invalid_json", "request body is not valid UTF-8 JSON"))
    except RecursionError:
        return _invalid_body(f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    except ValueError:
        return proxy_response(400, error_body("invalid_json", "request body is not valid JSON"))
    if not isinstance(parsed, dict):
        return _invalid_body("must be a JSON object")
    if _json_depth(parsed) > MAX_JSON_DEPTH:
        return _invalid_body(f"must not nest deeper than {MAX_JSON_DEPTH} levels")
    return None


def guard(
    event: dict[str, Any], public_prefixes: tuple[str, ...]
) -> tuple[RawRequest, Store | None, dict[str, Any] | None]:
    """(request, authenticated store, early response). An early response ends the request."""
    request = RawRequest.from_event(event)
    if len(request.body) > MAX_BODY_BYTES:
        return (
            request,
            None,
            proxy_response(
                413, error_body("payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes")
            ),
        )
    if not request.path.startswith("/v1/") or request.path.startswith(public_prefixes):
        return request, None, None
    repeated = [name for name in request.repeated_headers if name in SINGLE_VALUE_HEADERS]
    if repeated:
        return request, None, _duplicate_header(SINGLE_VALUE_HEADERS[repeated[0]])
    try:
        store = authenticate(request)
    except AuthenticationFailed as refusal:
        logger.info(
            "request refused", extra={"reason": str(refusal), "path": _without_addresses(request.path)}
        )
        return request, None, _unauthorized(str(refusal))
    except DataAccessError:
        logger.exception("store lookup failed")
        return (
            request,
            None,
            proxy_response(
                503,
                error_body("service_unavailable", "temporarily unavailable; retry"),
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            ),
        )
    bad_body = body_refusal(request)
    if bad_body is not None:
        return request, store, bad_body
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        return (
            request,
            store,
            proxy_response(
                400,
                error_body(
                    "invalid_header",
                    "Idempotency-Key must be 1-255 printable ASCII characters",
                    [{"field": "Idempotency-Key", "message": "must be 1-255 printable ASCII characters"}],
                ),
            ),
        )
    return request, store, None


def _without_addresses(path: str) -> str:
    """The path for a log line: a guest's customer id is an email address, never logged."""
    return re.sub(r"[^/?&=]*(@|%40)[^/?&=]*", "<address>", path)
