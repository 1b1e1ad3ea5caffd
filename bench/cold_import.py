"""Cold start of the API function, in fresh interpreter processes with the environment the template
gives the function on Lambda (X-Ray active, so the SDK takes its in-Lambda path; metrics on).

1. Import only: `python -c "import app"` (functions/api/app.py) as a ratio to
   `python -c "import boto3"`. Goal: at most 1.6.
2. Import + first request: the process imports the handler module, then handles a first signed
   POST /v1/inquiries end to end (store lookup, conditional PutItem, SendMessage, through the
   Powertools decorators) against a moto server on localhost, then a second one. Whatever import
   work is left to the first request (clients, service models, validation models) shows up here,
   so figure 1 cannot be bought by moving imports into the handler. The baseline is a plain boto3
   script making the same three AWS calls; printed as the ratio "import + first request / plain
   boto3 baseline". Goal: at most 1.5.
3. Where the import time goes: one `-X importtime` run, self time of the modules `import boto3`
   does not load, by top-level package.

The processes compared in 1 and 2 take turns, run after run, so that they see the same machine load
(the cores may be shared).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import ROOT, median

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "15"))
API_DIR = ROOT / "functions" / "api"
SECRET = "bench-secret"
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "omotenashi-ApiFunction",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "LAMBDA_TASK_ROOT": str(API_DIR),
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "AWS_REGION": "ap-northeast-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    # An active, sampled trace, as Lambda sets it per invocation with Tracing: Active.
    "_X_AMZN_TRACE_ID": "Root=1-65f00000-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
}

# Child process: import the handler module, then answer two signed POSTs. Prints one JSON line.
_APP_CHILD = """
import time
started = time.perf_counter()
import app
imported = time.perf_counter()
import json, os
class Context:
    function_name = "omotenashi-ApiFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:omotenashi-ApiFunction"
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 30000
with open(os.environ["BENCH_EVENTS"]) as handle:
    events = json.load(handle)
times = []
for event in events:
    begin = time.perf_counter()
    response = app.handler(event, Context())
    times.append(time.perf_counter() - begin)
    assert response["statusCode"] == 202, response
print("BENCH " + json.dumps({"import": imported - started, "first": times[0], "second": times[1]}))
"""

# Baseline: the same three AWS calls with plain boto3 (clients created on first use, as the app does).
_BOTO3_CHILD = """
import time
started = time.perf_counter()
import boto3
imported = time.perf_counter()
import json, os
with open(os.environ["BENCH_EVENTS"]) as handle:
    ids = [e["headers"]["Idempotency-Key"] for e in json.load(handle)]
clients = {}
def client(name):
    if name not in clients:
        clients[name] = boto3.client(name)
    return clients[name]
times = []
for inquiry_id in ids:
    begin = time.perf_counter()
    client("dynamodb").get_item(TableName=os.environ["STORES_TABLE"], Key={"store_id": {"S": "demo"}})
    client("dynamodb").put_item(
        TableName=os.environ["INQUIRIES_TABLE"],
        Item={"store_id": {"S": "baseline"}, "inquiry_id": {"S": inquiry_id}},
        ConditionExpression="attribute_not_exists(inquiry_id)",
    )
    client("sqs").send_message(QueueUrl=os.environ["INQUIRY_QUEUE_URL"], MessageBody=inquiry_id)
    times.append(time.perf_counter() - begin)
print("BENCH " + json.dumps({"import": imported - started, "first": times[0], "second": times[1]}))
"""


def _python(code: str, env: dict[str, str], capture: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, cwd=API_DIR, capture_output=capture, text=True
    )


def timed(codes: dict[str, str], env: dict[str, str]) -> dict[str, float]:
    """Median wall time of `python -c code` for each code, the codes taking turns run after run so
    that all of them see the same machine load (other processes share the cores)."""
    samples: dict[str, list[float]] = {label: [] for label in codes}
    for _ in range(RUNS):
        for label, code in codes.items():
            start = time.perf_counter()
            _python(code, env)
            samples[label].append(time.perf_counter() - start)
    return {label: median(values) for label, values in samples.items()}


def start_moto() -> tuple[Any, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def provision(endpoint: str) -> dict[str, str]:
    """Tables, queues and the demo store on the moto server; returns the API function's environment
    as the template defines it (resolved against the local resources)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {k: v for k, v in LAMBDA_ENV.items() if k.startswith("AWS_") and "LAMBDA" not in k},
        AWS_ENDPOINT_URL=endpoint,
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    from omotenashi.dal import aws
    from omotenashi.logic.core.directory import directory
    from omotenashi.settings import reset_settings
    from omotenashi_local import provision as local

    resources = local.provision()
    os.environ.update(resources.environment)
    reset_settings()
    aws.reset()
    directory.clear()
    local.seed_demo_store(SECRET)
    [api] = [f for f in resources.functions if f.logical_id == "ApiFunction"]
    return dict(api.environment)


def signed_events(tag: str) -> list[dict[str, Any]]:
    from omotenashi.logic.core.signing import sign_header
    from omotenashi_local.runtime import api_gateway_event

    events = []
    for n in range(2):
        body = json.dumps(
            {
                "customer": {"email": "cold@example.jp", "name": "山田太郎"},
                "channel": "web_form",
                "subject": "配送について",
                "message": "注文した商品はいつ届きますか？",
            },
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Omotenashi-Store": "demo",
            "X-Omotenashi-Signature": sign_header(SECRET, int(time.time()), "POST", "/v1/inquiries", body),
            "Idempotency-Key": f"cold-{tag}-{n}",
        }
        events.append(api_gateway_event("POST", "/v1/inquiries", headers, body, "/v1/{proxy+}"))
    return events


def first_requests(codes: dict[str, str], env: dict[str, str], scratch: Path) -> dict[str, dict[str, float]]:
    """Medians over fresh processes: import, first request, second request; the codes take turns
    run after run (same machine load for the API function and its baseline)."""
    samples = {label: {"import": [], "first": [], "second": []} for label in codes}
    for run in range(RUNS):
        for label, code in codes.items():
            events = scratch / f"{label}-{run}.json"
            events.write_text(json.dumps(signed_events(f"{label}-{run}-{time.time_ns()}")), encoding="utf-8")
            result = _python(code, {**env, "BENCH_EVENTS": str(events)}, capture=True)
            [line] = [x for x in result.stdout.splitlines() if x.startswith("BENCH ")]
            for key, value in json.loads(line[len("BENCH ") :]).items():
                samples[label][key].append(value)
    return {label: {key: median(values) for key, values in rows.items()} for label, rows in samples.items()}


def import_breakdown(env: dict[str, str]) -> list[tuple[str, float]]:
    def modules(code: str) -> list[tuple[str, int]]:
        stderr = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            env=env,
            cwd=API_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        rows = []
        for line in stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                self_us, _, name = line.split(":", 1)[1].split("|")
                rows.append((name.strip(), int(self_us)))
        return rows

    boto3 = {name for name, _ in modules("import boto3")}
    groups: Counter[str] = Counter()
    for name, self_us in modules("import app"):
        if name not in boto3:
            top = name.split(".")[0]
            if top == "aws_lambda_powertools":
                top = ".".join(name.split(".")[:2])
            groups[top] += self_us
    return [(name, us / 1000) for name, us in groups.most_common(10)]


def main() -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "_X_AMZN"))}
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "shared"), str(API_DIR)])
    moto, endpoint = start_moto()
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # stands in for the X-Ray daemon
    sink.bind(("127.0.0.1", 0))
    try:
        function_env = provision(endpoint)
        env = {
            **base,
            **LAMBDA_ENV,
            **function_env,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{sink.getsockname()[1]}",
        }
        _python("import app", env)  # warm the .pyc caches once, as a deployed layer ships them compiled
        imports = timed({"empty": "pass", "boto3": "import boto3", "app": "import app"}, env)
        empty, boto3, handler = imports["empty"], imports["boto3"], imports["app"]
        with tempfile.TemporaryDirectory() as scratch:
            rows = first_requests({"api": _APP_CHILD, "boto3": _BOTO3_CHILD}, env, Path(scratch))
            api, plain = rows["api"], rows["boto3"]
        breakdown = import_breakdown(env)
    finally:
        sink.close()
        moto.stop()

    version = ".".join(map(str, sys.version_info[:3]))
    print(f"== Cold start of the API function (Python {version}, median of {RUNS} fresh processes) ==")
    print(f"interpreter start (python -c pass) : {empty * 1000:7.1f} ms")
    print(f"python -c 'import boto3'           : {boto3 * 1000:7.1f} ms")
    print(f"python -c 'import app' (API)       : {handler * 1000:7.1f} ms")
    print(f"ratio handler / boto3              : {handler / boto3:7.2f}   (goal: at most 1.6)")
    print(f"ratio net of interpreter start     : {(handler - empty) / (boto3 - empty):7.2f}")
    print()
    print("import + first request, timed inside the process (what a Lambda cold start pays: no")
    print("interpreter teardown); signed POST /v1/inquiries answered 202, moto server on localhost:")
    print(f"{'':32}   import  1st request  import+1st  2nd request")
    for label, row in (("API function (app.handler)", api), ("plain boto3, same 3 AWS calls", plain)):
        print(
            f"{label:<32} {row['import'] * 1000:6.1f} ms  {row['first'] * 1000:8.1f} ms  "
            f"{(row['import'] + row['first']) * 1000:7.1f} ms  {row['second'] * 1000:8.1f} ms"
        )
    print(f"ratio API / boto3, import alone     : {api['import'] / plain['import']:6.2f}")
    print(
        f"ratio import + first request / plain boto3 baseline : "
        f"{(api['import'] + api['first']) / (plain['import'] + plain['first']):5.2f}   (goal: at most 1.5)"
    )
    print(
        f"1st request's extra over a warm one : {(api['first'] - api['second']) * 1000:6.1f} ms   "
        f"(boto3 baseline: {(plain['first'] - plain['second']) * 1000:.1f} ms: clients, service models)"
    )
    print()
    print("import time not shared with boto3 (self time, one -X importtime run, top packages):")
    print("  " + ", ".join(f"{name} {ms:.1f}" for name, ms in breakdown) + " (ms)")


if __name__ == "__main__":
    main()
