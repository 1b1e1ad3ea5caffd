"""Test helpers: signed requests against the local stack's handlers, AWS call counting and faults."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from omotenashi.logic.core.signing import sign_header
from omotenashi_local.instrument import aws_calls, aws_fault

__all__ = ["aws_calls", "aws_fault", "call", "inquiry_body", "signed_headers"]

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


OTHER_STORE = {"store": "other", "secret": "other-secret"}


def create_other_store() -> dict[str, str]:
    """A second store (en, UTC, no staff) for the tests that one store never sees another's data;
    answers the `store` and `secret` options `call` takes to act as it."""
    from omotenashi import clock
    from omotenashi.logic.core.store_admin import create_store

    create_store(
        store_id=OTHER_STORE["store"],
        name="Other",
        sender="shop@other.example",
        staff_addresses=(),
        default_locale="en",
        time_zone="UTC",
        sla_hours=24,
        now=clock.now(),
        secret_value=OTHER_STORE["secret"],
    )
    return dict(OTHER_STORE)
