"""Local stack at rest and unloaded: CPU the idle stack burns (its SQS pollers, scheduler and
servers), and POST-to-auto-reply-in-outbox latency one inquiry at a time.

Prints the child's CPU time over an idle window (from /proc/<pid>/stat, as % of one core) and the
latency p50/p95. Goal: idle under 2 % of a core, unloaded p50 about 50-60 ms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import inquiry_request, percentile

IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "10"))
PACED = int(os.environ.get("BENCH_PACED", "30"))
SECRET = "bench-secret"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; no psutil needed)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from omotenashi_local.launcher import start_local_stack

    with tempfile.TemporaryDirectory() as scratch:
        process, base = start_local_stack(
            Path(scratch) / "stack.log", {"OMOTENASHI_DEMO_SECRET": SECRET, "OMOTENASHI_LOG_LEVEL": "ERROR"}
        )
        try:
            time.sleep(2.0)  # let start-up work settle
            cpu_before, wall_before = cpu_seconds(process.pid), time.monotonic()
            time.sleep(IDLE_SECONDS)
            idle_cpu = cpu_seconds(process.pid) - cpu_before
            idle_wall = time.monotonic() - wall_before

            latencies: list[float] = []
            offset = 0
            for i in range(PACED):
                request = inquiry_request(base, SECRET, f"idle{i}@example.jp", f"待機試験 {i}", f"idle-{i}")
                start = time.perf_counter()
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert response.status == 202
                while time.perf_counter() - start < 30:
                    with urllib.request.urlopen(
                        f"{base}/_local/outbox?offset={offset}", timeout=30
                    ) as response:
                        fresh = json.loads(response.read())["messages"]
                    if fresh:
                        latencies.append(time.perf_counter() - start)
                        offset += len(fresh)
                        break
                    time.sleep(0.005)
                time.sleep(0.05)
        finally:
            stop(process)
    print(f"== Local stack idle and unloaded ({IDLE_SECONDS:.0f} s idle, {PACED} inquiries one at a time) ==")
    print(
        f"idle CPU                  : {idle_cpu / idle_wall * 100:6.2f} % of one core ({idle_cpu:.2f} s CPU)"
    )
    print(
        f"POST -> outbox latency    : p50 {percentile(latencies, 50) * 1000:6.1f} ms   "
        f"p95 {percentile(latencies, 95) * 1000:6.1f} ms   ({len(latencies)} of {PACED} delivered)"
    )
    sys.stdout.flush()


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
