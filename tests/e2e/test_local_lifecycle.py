"""Starting and stopping `python -m omotenashi_local` (what `make run` starts)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from omotenashi_local.template import ROOT
from tests.e2e.helpers import post_inquiry, start, stop
from tests.support import inquiry_body

pytestmark = pytest.mark.e2e


def test_port_in_use_is_one_line_and_a_non_zero_exit():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            PORT=str(port),
            PYTHONPATH=os.pathsep.join(str(ROOT / p) for p in ("layers/shared", "layers/local", ".")),
        )
        result = subprocess.run(
            [sys.executable, "-m", "omotenashi_local"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert result.stderr == f"port {port} is in use; set PORT (e.g. make run PORT={port + 1})\n"
    assert "Traceback" not in result.stdout


# The background pollers never start: everything posted stays queued until the stack stops.
NO_POLLERS = textwrap.dedent(
    """
    from omotenashi_local import runtime

    runtime.SqsPoller.start = lambda self: None
    """
)


def _inquiry(i: int) -> dict:
    # One customer each: repeated auto-replies to one address are suppressed (loop protection).
    return inquiry_body(customer={"email": f"stop{i}@example.jp", "locale": "ja"}, external_id=f"stop-{i}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_runs_the_queued_auto_replies_first(tmp_path, sig):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(NO_POLLERS)
    log_path = tmp_path / "stdout.log"
    process, url = start(log_path, extra_path=[tmp_path / "site"])
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(lambda i: post_inquiry(url, _inquiry(i))[0], range(8)))
        assert statuses == [202] * 8
    finally:
        started = time.monotonic()
        code = stop(process, sig, timeout=40)
    log = log_path.read_text()
    assert code == 0, log
    assert time.monotonic() - started < 30
    match = re.search(
        r"drained (\d+) queued messages in [\d.]+ s; (\d+) left in the queues; the outbox holds (\d+)", log
    )
    assert match, log
    handled, left, outbox = map(int, match.groups())
    assert handled >= 8 and left == 0 and outbox == 16  # each an auto-reply and staff's notice
