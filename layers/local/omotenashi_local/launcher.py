"""Start the local stack in a child process (end-to-end tests, benchmarks) and find its URL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from omotenashi_local.template import ROOT

_BANNER_URL = re.compile(r"running on (http://127\.0\.0\.1:\d+)")


class StartFailed(RuntimeError):
    pass


def start_local_stack(
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60.0,
    extra_path: list[Path] | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """Run `python -m omotenashi_local` on a free port, its output going to `log_path`. Returns
    the process and base URL once the banner is printed (the stack is ready then). `extra_path`
    goes first on the child's PYTHONPATH (tests put a sitecustomize.py there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(PORT="0", PYTHONUNBUFFERED="1", **(extra_env or {}))
    paths = [*(extra_path or []), *(ROOT / p for p in ("layers/shared", "layers/local", "."))]
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    with log_path.open("w") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [sys.executable, "-m", "omotenashi_local"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        match = _BANNER_URL.search(log_path.read_text(encoding="utf-8"))
        if match:
            time.sleep(0.2)  # let the rest of the banner land
            return process, match.group(1)
        time.sleep(0.1)
    process.kill()
    raise StartFailed("local stack did not start:\n" + log_path.read_text(encoding="utf-8"))
