"""Local stack under load: 500 inquiries from 10 concurrent clients over HTTP.

Prints POST-to-auto-reply-in-outbox latency (p50/p95), inquiries per second (accepted and
delivered), and counts of lost and duplicated auto-replies (both must be zero).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import inquiry_request, percentile

INQUIRIES = int(os.environ.get("BENCH_INQUIRIES", "500"))
PACED = int(os.environ.get("BENCH_PACED", "30"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "10"))
SECRET = "bench-secret"
DELIVERY_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0


def main() -> None:
    from omotenashi_local.launcher import start_local_stack

    with tempfile.TemporaryDirectory() as scratch:
        process, base = start_local_stack(
            Path(scratch) / "stack.log", {"OMOTENASHI_DEMO_SECRET": SECRET, "OMOTENASHI_LOG_LEVEL": "ERROR"}
        )
        try:
            posted_at: dict[str, float] = {}
            delivered_at: dict[str, float] = {}
            counts: dict[str, int] = {}
            errors: list[str] = []
            lock = threading.Lock()
            done_posting = threading.Event()

            def post(i: int) -> None:
                locale = "ja" if i % 2 else "en"
                request = inquiry_request(
                    base, SECRET, f"load{i}@example.jp", f"負荷試験 {i}", f"load-{i}", locale
                )
                start = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        inquiry_id = json.loads(response.read())["inquiry_id"]
                except Exception as error:
                    with lock:
                        errors.append(repr(error))
                    return
                with lock:
                    posted_at[inquiry_id] = start

            def watch() -> None:
                offset = 0
                while True:
                    with urllib.request.urlopen(
                        f"{base}/_local/outbox?offset={offset}", timeout=30
                    ) as response:
                        messages = json.loads(response.read())["messages"]
                    now = time.perf_counter()
                    offset += len(messages)
                    for message in messages:
                        match = re.search(r"inq_[a-z0-9]+", message["subject"])
                        if match:
                            key = match.group(0)
                            with lock:
                                counts[key] = counts.get(key, 0) + 1
                                delivered_at.setdefault(key, now)
                    with lock:
                        finished = done_posting.is_set() and set(posted_at) <= set(delivered_at)
                    if finished or now - started > DELIVERY_TIMEOUT:
                        return
                    time.sleep(0.02)

            started = time.perf_counter()
            watcher = threading.Thread(target=watch)
            watcher.start()
            with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
                list(pool.map(post, range(INQUIRIES)))
            posting_seconds = time.perf_counter() - started
            done_posting.set()
            watcher.join()
            total_seconds = max(delivered_at.values(), default=started) - started

            load_ids = set(posted_at)
            # Unloaded latency: one inquiry at a time, each waiting for its auto-reply.
            paced: list[float] = []
            offset = sum(counts.values())
            for i in range(PACED):
                before = len(posted_at)
                post(INQUIRIES + i)
                if len(posted_at) == before:
                    continue
                start = time.perf_counter()
                while time.perf_counter() - start < 30:
                    with urllib.request.urlopen(
                        f"{base}/_local/outbox?offset={offset}", timeout=30
                    ) as response:
                        fresh = json.loads(response.read())["messages"]
                    if fresh:
                        paced.append(time.perf_counter() - start)
                        offset += len(fresh)
                        break
                    time.sleep(0.005)
            # Figures first: stopping the stack must never cost them.
            report(posted_at, delivered_at, counts, errors, load_ids, posting_seconds, total_seconds, paced)
        finally:
            stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, a generous wait (the stack joins its pollers and the moto server), then SIGKILL.
    Never raises: it runs in a `finally`."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"(local stack still running {STOP_TIMEOUT:.0f} s after SIGTERM; killed)", flush=True)
        process.kill()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"(local stack pid {process.pid} did not exit after SIGKILL)", flush=True)


def report(
    posted_at: dict[str, float],
    delivered_at: dict[str, float],
    counts: dict[str, int],
    errors: list[str],
    load_ids: set[str],
    posting_seconds: float,
    total_seconds: float,
    paced: list[float],
) -> None:
    latencies = [delivered_at[i] - posted_at[i] for i in load_ids if i in delivered_at]
    lost = [i for i in load_ids if i not in delivered_at]
    duplicated = [i for i, n in counts.items() if n > 1]
    print(f"== Local stack: {INQUIRIES} inquiries from {CLIENTS} concurrent clients ==")
    print(f"accepted (202)            : {len(load_ids)}   request errors: {len(errors)}")
    print(f"intake throughput         : {len(load_ids) / posting_seconds:7.1f} inquiries/s")
    print(f"end-to-end throughput     : {len(latencies) / max(total_seconds, 1e-9):7.1f} auto-replies/s")
    print(
        f"POST -> outbox latency    : p50 {percentile(latencies, 50) * 1000:7.1f} ms   "
        f"p95 {percentile(latencies, 95) * 1000:7.1f} ms   max {max(latencies, default=0) * 1000:7.1f} ms"
    )
    print(f"lost auto-replies         : {len(lost)}")
    print(f"duplicated auto-replies   : {len(duplicated)}")
    print(
        f"unloaded latency ({len(paced)} one at a time): p50 {percentile(paced, 50) * 1000:6.1f} ms   "
        f"p95 {percentile(paced, 95) * 1000:6.1f} ms"
    )
    if errors:
        print("first errors:", errors[:3])
    sys.stdout.flush()


if __name__ == "__main__":
    main()
