"""Idempotency keys that last 24 hours, without a separate key table.

A request that carries a key (Idempotency-Key, or a natural id such as external_id) gets an entry
id derived from that key, so a retry lands on the same item and one conditional put both stores
the entry and detects the repeat. Within 24 hours a repeat replays the stored entry. After that
the key is free again (as with Stripe): the request gets the next id in a chain derived from the
expired one, so its own retries find it too. The warm path is still the one conditional put.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from omotenashi.logic.core.errors import IdempotencyConflict, ServiceUnavailable

WINDOW = timedelta(hours=24)
# A key reused once a day for two months; beyond that the caller should use fresh keys.
MAX_GENERATIONS = 64


def request_fingerprint(parsed_body: Any) -> str:
    """Hash of the body's JSON value: key order and white space do not make a different body."""
    canonical = json.dumps(parsed_body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Answer:
    """What an idempotent request answers; a replay answers the same (replayed=True)."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


class Fingerprinted(Protocol):
    @property
    def request_hash(self) -> str: ...


Entry = TypeVar("Entry", bound=Fingerprinted)


def entry_id(prefix: str, scope: str, key: str | None) -> str:
    """`<prefix>_<26 base32 chars>`: derived from (scope, key), or random without a key."""
    raw = (
        hashlib.sha256(f"{scope}\x00{key}".encode()).digest() if key is not None else secrets.token_bytes(20)
    )
    return f"{prefix}_" + base64.b32encode(raw).decode("ascii").rstrip("=").lower()[:26]


def _successor(previous_id: str) -> str:
    prefix = previous_id.partition("_")[0]
    return entry_id(prefix, "next", previous_id)


def create_or_replay(
    first_id: str,
    *,
    build: Callable[[str], Entry],
    create_if_absent: Callable[[Entry], bool],
    fetch: Callable[[str], Entry | None],
    created_at: Callable[[Entry], datetime],
    fingerprint: str,
    now: datetime,
) -> tuple[Entry, bool]:
    """(entry, replayed). Creates `build(id)` under the first free id of the key's chain, or returns
    the entry a repeat within the window refers to; a repeat with another body is a conflict."""
    current_id = first_id
    for _ in range(MAX_GENERATIONS):
        entry = build(current_id)
        if create_if_absent(entry):
            return entry, False
        existing = fetch(current_id)
        if existing is None:
            # Removed between our put and read (an intake withdrawn after a failed hand-off).
            raise ServiceUnavailable("the request is settling; retry the same request")
        if now - created_at(existing) < WINDOW:
            if existing.request_hash != fingerprint:
                raise IdempotencyConflict(
                    "this Idempotency-Key (or the body's natural id, such as external_id) was "
                    "already used with a different request body"
                )
            return existing, True
        current_id = _successor(current_id)
    raise IdempotencyConflict("this idempotency key has been reused too many times; use a new key")
