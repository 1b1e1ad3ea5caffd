"""Cold import time of the API handler module, as a ratio to `python -c "import boto3"`.

Goal: at most 1.6. Each figure is the median of fresh interpreter processes, with the environment
Lambda gives the function (so the X-Ray SDK takes its in-Lambda path).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from _common import ROOT, median

RUNS = 15
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "omotenashi-ApiFunction",
    "LAMBDA_TASK_ROOT": str(ROOT / "functions" / "api"),
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "AWS_REGION": "ap-northeast-1",
    "STORES_TABLE": "stores",
    "INQUIRIES_TABLE": "inquiries",
    "RATE_LIMITS_TABLE": "rate-limits",
    "INQUIRY_QUEUE_URL": "https://sqs.ap-northeast-1.amazonaws.com/123456789012/inquiries",
    "POWERTOOLS_SERVICE_NAME": "omotenashi",
    "POWERTOOLS_METRICS_NAMESPACE": "Omotenashi",
    "PYTHONDONTWRITEBYTECODE": "",
}


def timed(code: str, env: dict[str, str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT / "functions" / "api")
        samples.append(time.perf_counter() - start)
    return median(samples)


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update({k: v for k, v in LAMBDA_ENV.items() if v})
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT / "functions" / "api")])
    timed("import app", env)  # warm the .pyc caches once, as a deployed layer ships them compiled
    empty = timed("pass", env)
    boto3 = timed("import boto3", env)
    handler = timed("import app", env)
    print("== Cold import of the API handler module ==")
    print(f"interpreter start (python -c pass) : {empty * 1000:7.1f} ms")
    print(f"python -c 'import boto3'           : {boto3 * 1000:7.1f} ms")
    print(f"python -c 'import app' (API)       : {handler * 1000:7.1f} ms")
    print(f"ratio handler / boto3              : {handler / boto3:7.2f}   (goal: at most 1.6)")
    print(f"ratio net of interpreter start     : {(handler - empty) / (boto3 - empty):7.2f}")


if __name__ == "__main__":
    main()
