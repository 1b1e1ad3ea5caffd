"""Test helpers: signed requests against the local stack's handlers, AWS call counting and faults."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.client
from botocore.exceptions import ClientError

from omotenashi.logic.signing import sign_header

DEMO_SECRET = "demo-secret"


def inquiry_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {"email": "taro@example.jp", "name": "山田太郎", "id": "c-123", "locale": "ja"},
        "channel": "web_form",
        "subject": "配送について",
        "message": "注文した商品はいつ届きますか？",
        "order_id": "o-1001",
    }
    body.update(overrides)
    return body


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def signed_headers(
    method: str,
    path: str,
    body: bytes,
    *,
    store: str = "demo",
    secret: str = DEMO_SECRET,
    timestamp: int | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "X-Omotenashi-Store": store,
        "X-Omotenashi-Signature": sign_header(secret, ts, method, path, body),
    }
    headers.update(extra or {})
    return headers


def call(
    stack: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    sign: bool = True,
    **sign_options: Any,
) -> Reply:
    data = (
        raw if raw is not None else (b"" if body is None else json.dumps(body, ensure_ascii=False).encode())
    )
    all_headers = signed_headers(method, path, data, **sign_options) if sign else {}
    all_headers.update(headers or {})
    result = stack.api(method, path, all_headers, data)
    response_headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        response_headers[name] = ", ".join(values)
    return Reply(result["statusCode"], response_headers, result.get("body") or "")


@dataclass
class CallLog:
    calls: list[tuple[str, str]] = field(default_factory=list)

    def count(self, service: str | None = None, operation: str | None = None) -> int:
        return sum(
            1
            for s, o in self.calls
            if (service is None or s == service) and (operation is None or o == operation)
        )


_lock = threading.Lock()


@contextlib.contextmanager
def aws_calls() -> Iterator[CallLog]:
    """Record every AWS API call (boto3 and PynamoDB both go through botocore)."""
    log = CallLog()

    def wrap(inner: Callable[..., Any]) -> Callable[..., Any]:
        def recording(self: Any, operation_name: str, api_params: Any) -> Any:
            with _lock:
                log.calls.append((self.meta.service_model.service_name, operation_name))
            return inner(self, operation_name, api_params)

        return recording

    with _patched(wrap):
        yield log


@contextlib.contextmanager
def _patched(make_replacement: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """Install a wrapper around whatever is installed now, so patches nest."""
    previous = botocore.client.BaseClient._make_api_call
    botocore.client.BaseClient._make_api_call = make_replacement(previous)  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = previous  # type: ignore[method-assign]


@contextlib.contextmanager
def aws_fault(
    service: str,
    operation: str,
    *,
    times: int = 1,
    code: str = "ThrottlingException",
    when: Callable[[dict[str, Any]], bool] | None = None,
) -> Iterator[list[int]]:
    """Make the next `times` matching AWS calls fail with `code` (after botocore's own retries,
    as a real outage would look to our code). Yields a one-item list counting the failures."""
    failures = [0]

    def wrap(inner: Callable[..., Any]) -> Callable[..., Any]:
        def faulty(self: Any, operation_name: str, api_params: Any) -> Any:
            if (
                self.meta.service_model.service_name == service
                and operation_name == operation
                and failures[0] < times
                and (when is None or when(api_params))
            ):
                failures[0] += 1
                raise ClientError(
                    {
                        "Error": {"Code": code, "Message": "injected fault"},
                        "ResponseMetadata": {"HTTPStatusCode": 400},
                    },
                    operation_name,
                )
            return inner(self, operation_name, api_params)

        return faulty

    with _patched(wrap):
        yield failures
