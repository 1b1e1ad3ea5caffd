"""AWS call instrumentation for tests and benchmarks: count calls, inject faults.

Both boto3 and PynamoDB go through botocore's BaseClient._make_api_call, so one seam sees every
AWS call the code makes.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.client
from botocore.exceptions import ClientError


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
    base: Any = botocore.client.BaseClient  # the stubs do not declare _make_api_call
    previous = base._make_api_call
    base._make_api_call = make_replacement(previous)
    try:
        yield
    finally:
        base._make_api_call = previous


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
                response: Any = {
                    "Error": {"Code": code, "Message": "injected fault"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                }
                raise ClientError(response, operation_name)
            return inner(self, operation_name, api_params)

        return faulty

    with _patched(wrap):
        yield failures
