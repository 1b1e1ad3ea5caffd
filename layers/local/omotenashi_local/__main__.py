"""`python -m omotenashi_local` (what `make run` starts): the whole system on an embedded moto."""

from __future__ import annotations

import errno
import os
import signal
import sys
import threading

# On Ctrl+C or SIGTERM the stack runs what is still queued (auto-replies, alerts) for up to this
# long before it exits: the queues live in memory only. A second Ctrl+C exits at once.
DRAIN_SECONDS = float(os.environ.get("OMOTENASHI_DRAIN_SECONDS", "15"))


def _start_moto() -> tuple[object, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per AWS call

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    host = os.environ.get("HOST", "127.0.0.1")
    moto_server, endpoint = _start_moto()
    # Everything below talks to the embedded moto server; never to real AWS.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "ap-northeast-1"),
        }
    )
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"]

    from omotenashi_local.server import make_server
    from omotenashi_local.stack import LocalStack

    try:  # first: a busy port fails in a moment, not after the stack has been built
        server = make_server(None, host, port)
    except OSError as error:
        moto_server.stop()  # type: ignore[attr-defined]
        if error.errno == errno.EADDRINUSE:
            print(f"port {port} is in use; set PORT (e.g. make run PORT={port + 1})", file=sys.stderr)
        else:
            print(f"cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return 1
    stack = LocalStack(worker_instances=int(os.environ.get("OMOTENASHI_WORKER_CONCURRENCY", "2")))
    server.stack = stack
    stack.start_background()
    url = f"http://{host}:{server.server_address[1]}"
    os.environ["PUBLIC_API_URL"] = url  # marketing emails' unsubscribe links point at this stack
    print(banner(url, stack.demo_secret, endpoint), flush=True)

    stop = threading.Event()

    def shutdown(*_: object) -> None:
        if stop.is_set():  # the second Ctrl+C: no more waiting
            print("stopping now; queued work is dropped", file=sys.stderr, flush=True)
            os._exit(130)
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    stop.wait()
    server.shutdown()
    server.server_close()
    print(f"stopping: running queued work (up to {DRAIN_SECONDS:g} s; Ctrl+C again to skip)", flush=True)
    report = stack.stop(drain_seconds=DRAIN_SECONDS)
    print(
        f"drained {report.handled} queued messages in {report.seconds:.1f} s; "
        f"{report.left} left in the queues; the outbox holds {len(stack.outbox())} messages",
        flush=True,
    )
    moto_server.stop()  # type: ignore[attr-defined]
    print("omotenashi local stack stopped", flush=True)
    return 0


def banner(url: str, secret: str, endpoint: str) -> str:
    return f"""
  Omotenashi local stack is running on {url}
  ------------------------------------------------------------------
  store id  : demo                 secret : {secret}
  sender    : shop@demo.example    staff  : staff@demo.example
  locale    : ja                   zone   : Asia/Tokyo
  outbox    : {url}/_local/outbox.html   (JSON: /_local/outbox)
  clock     : {url}/_local/clock   (POST /_local/clock/advance {{"seconds": N}})
  API docs  : {url}/v1/docs        (OpenAPI: /v1/openapi.json)
  AWS (moto): {endpoint}

  Try it (signs and sends a request):
    .venv/bin/omotenashi request POST /v1/inquiries --url {url} --store demo --secret {secret} \\
      --data '{{"customer": {{"email": "taro@example.jp", "name": "山田太郎"}}, "channel": "web_form",
               "subject": "配送について", "message": "注文した商品はいつ届きますか？"}}'
  Press Ctrl+C to stop.
""".rstrip()


if __name__ == "__main__":
    sys.exit(main())
