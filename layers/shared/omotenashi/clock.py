"""The one clock for business time (deadlines, windows, leases, dates in emails).

Production reads the system clock. The local stack and tests move it with `advance` or replace it
with `set_source`; nothing else in the code base calls `datetime.now()`. Request-signature
freshness is the exception the contract makes: it uses `real_now`, which never jumps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = timedelta(0)
_source: Callable[[], datetime] | None = None


def real_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """Business time, timezone-aware UTC, truncated to whole seconds (what the API shows)."""
    base = _source() if _source is not None else real_now()
    return (base + _offset).replace(microsecond=0)


def real_epoch() -> float:
    return time.time()


def advance(seconds: float) -> datetime:
    global _offset
    with _lock:
        _offset += timedelta(seconds=seconds)
    return now()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the base of business time (tests); None returns to the system clock."""
    global _source, _offset
    with _lock:
        _source = source
        _offset = timedelta(0)


def isoformat(moment: datetime) -> str:
    """The API's timestamp format: UTC, whole seconds, trailing Z."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def isoformat_precise(moment: datetime) -> str:
    """UTC with a trailing Z, keeping fractional seconds when there are any (storefront event times:
    two updates within one second are still two updates)."""
    utc = moment.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}" if utc.microsecond else ""
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def instant(moment: datetime) -> str:
    """A stored point in time: UTC with microseconds and Z, fixed width, so that comparing two of
    them as text (in a DynamoDB condition or key) is comparing the times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
