"""AWS calls made by the API function per accepted first-time inquiry on the warm path.

Goal: at most 2 (one conditional PutItem, one SQS SendMessage; the store lookup is cached).
Also prints the replay path and the worker's calls per auto-reply, for context.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from _common import fake_aws_environment

REQUESTS = 50


def main() -> None:
    fake_aws_environment()
    from moto import mock_aws

    with mock_aws():
        from omotenashi.logic.core.signing import sign_header
        from omotenashi_local.instrument import aws_calls
        from omotenashi_local.stack import LocalStack

        stack = LocalStack()

        def post(body: dict, key: str | None = None) -> int:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers = {
                "Content-Type": "application/json",
                "X-Omotenashi-Store": "demo",
                "X-Omotenashi-Signature": sign_header(
                    stack.demo_secret, int(time.time()), "POST", "/v1/inquiries", data
                ),
            }
            if key:
                headers["Idempotency-Key"] = key
            return int(stack.api("POST", "/v1/inquiries", headers, data)["statusCode"])

        def body(i: int) -> dict:
            return {
                "customer": {"email": f"c{i}@example.jp"},
                "channel": "web_form",
                "subject": f"質問 {i}",
                "message": "いつ届きますか？",
            }

        assert post(body(-1)) == 202  # cold: loads the store into the cache
        per_request: list[int] = []
        operations: Counter[str] = Counter()
        for i in range(REQUESTS):
            with aws_calls() as log:
                assert post(body(i), key=f"bench-{i}") == 202
            per_request.append(len(log.calls))
            operations.update(f"{service}:{operation}" for service, operation in log.calls)

        with aws_calls() as replay_log:
            assert post(body(0), key="bench-0") == 202

        stack.drain()  # flush the queue before measuring the worker alone
        assert post(body(10_000), key="bench-worker") == 202
        with aws_calls() as worker_log:
            stack.drain()

    print("== AWS calls per accepted first-time inquiry (API function, warm) ==")
    print(f"requests measured        : {REQUESTS}")
    print(
        f"calls per request        : min {min(per_request)}  max {max(per_request)}  "
        f"mean {sum(per_request) / len(per_request):.2f}   (goal: at most 2)"
    )
    print("breakdown over all       : " + ", ".join(f"{k} x{v}" for k, v in sorted(operations.items())))
    print(
        f"replay of a known key    : {len(replay_log.calls)} calls "
        f"({', '.join(f'{s}:{o}' for s, o in replay_log.calls)})"
    )
    worker_ops = [f"{s}:{o}" for s, o in worker_log.calls if s != "sqs"]
    print(
        f"worker per auto-reply    : {len(worker_ops)} calls, queue polling aside ({', '.join(worker_ops)})"
    )


if __name__ == "__main__":
    main()
