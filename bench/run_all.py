"""Runs every benchmark and prints its figures (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "api_calls.py",
    "event_calls.py",
    "cold_import.py",
    "sla_sweep.py",
    "reminder_sweep.py",
    "local_stack_load.py",
    "commerce_load.py",
    "local_idle.py",
):
    print(flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True, cwd=HERE)
