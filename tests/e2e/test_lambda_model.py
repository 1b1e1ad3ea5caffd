"""The local stack runs one invocation at a time in its process, as Lambda runs one per execution
environment: Powertools keeps the current event on a class attribute (see
tests/integration/test_powertools_shared_state.py), so concurrent invocations would swap requests."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.helpers import get_signed, post_inquiry, start, stop
from tests.support import inquiry_body

pytestmark = pytest.mark.e2e

# Widens the race window the way a preempted thread or a GC pause would: the resolver sleeps (the
# GIL released) after it has stored the current event on BaseRouter and before it reads it back.
SLOW_RESOLVER = textwrap.dedent(
    """
    import time
    from aws_lambda_powertools.event_handler import api_gateway

    _resolve = api_gateway.ApiGatewayResolver._resolve

    def _slow_resolve(self):
        time.sleep(0.003)
        return _resolve(self)

    api_gateway.ApiGatewayResolver._resolve = _slow_resolve
    """
)


@pytest.fixture(scope="module")
def slow_stack(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    scratch = tmp_path_factory.mktemp("lambda-model")
    (scratch / "site").mkdir()
    (scratch / "site" / "sitecustomize.py").write_text(SLOW_RESOLVER)
    log_path = scratch / "stdout.log"
    process, url = start(log_path, {"OMOTENASHI_LOG_LEVEL": "INFO"}, extra_path=[scratch / "site"])
    yield url, log_path
    stop(process)


def test_concurrent_requests_each_keep_their_own_body(slow_stack):
    """60 requests from 12 threads, each with its own subject, message, customer, external_id and
    Idempotency-Key: every stored inquiry must be its own request's, and every log line names the
    function that wrote it (the API and the workers share one Powertools Logger in this process)."""
    url, log_path = slow_stack

    def post(i: int) -> tuple[int, dict, int, str]:
        body = inquiry_body(
            customer={"email": f"race{i}@example.jp", "name": f"競合 {i}", "locale": "ja"},
            subject=f"subject {i}",
            message=f"message {i} " + "x" * (i * 37 % 500),
            external_id=f"race-{i}",
        )
        status, _, text = post_inquiry(url, body, extra={"Idempotency-Key": f"race-key-{i}"})
        return i, body, status, text

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(post, range(60)))
    problems = []
    inquiry_ids = set()
    for i, sent, status, text in results:
        if status != 202:
            problems.append((i, status, text[:200]))
            continue
        inquiry_id = json.loads(text)["inquiry_id"]
        inquiry_ids.add(inquiry_id)
        status, _, text = get_signed(url, f"/v1/inquiries/{inquiry_id}")
        stored = json.loads(text)
        got = (stored["subject"], stored["message"], stored["customer"]["email"], stored["external_id"])
        want = (sent["subject"], sent["message"], sent["customer"]["email"], sent["external_id"])
        if status != 200 or got != want:
            problems.append((i, want[0], got[0]))
    assert problems == []
    assert len(inquiry_ids) == 60
    deadline = time.monotonic() + 30  # the auto-replies follow
    while time.monotonic() < deadline and _logged(log_path).count("auto-reply sent") < 60:
        time.sleep(0.2)
    writers = {"inquiry accepted": "ApiFunction", "auto-reply sent": "InquiryWorkerFunction"}
    seen = {message: 0 for message in writers}
    for line in _logged(log_path).splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if record.get("message") in writers:
            seen[record["message"]] += 1
            assert record["function_name"] == f"omotenashi-local-{writers[record['message']]}", record
    assert seen == {"inquiry accepted": 60, "auto-reply sent": 60}


def _logged(path: Path) -> str:
    return path.read_text(encoding="utf-8")
