"""Consent history, pure: what an entry is, and the state a set of entries decides.

An entry is one statement exactly as received (marketing_email, source, wording, at, email, name,
locale); its id is a digest of all of it. Storing entries under their ids makes a retried PUT one
entry, and deriving the state from the *set* of entries, never from the order they arrived in,
makes every permutation and duplication of the same statements end in the same state.

The state is decided by the newest entry: the greatest by (`at`, withdrawal, entry id). At equal
`at` a withdrawal beats a consent: when a customer both gave and withdrew consent in the same
instant we cannot tell which came last, so we take the conservative answer (no marketing email).
Between two entries of the same `at` and kind the id decides, arbitrarily but the same everywhere,
which one's proof (source, wording) is shown as the current one. Times are compared exactly
(microseconds kept); they are aware datetimes, compared in UTC.

No data access here (tests/unit/marketing/test_consent_history.py checks the properties).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from omotenashi.domain import ConsentEntry, Locale

UNSUBSCRIBE_SOURCE = "unsubscribe_link"
UNSUBSCRIBE_WORDING = "Unsubscribed with the link in a marketing email (配信停止リンクによる配信停止)"


def instant_key(at: datetime) -> str:
    """Fixed-width UTC text with microseconds: sorts as time does, and names one instant once."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_id(
    *,
    marketing_email: bool,
    source: str,
    wording: str,
    at: datetime,
    email: str | None,
    name: str | None,
    locale: str | None,
) -> str:
    """SHA-256 (hex) of the statement as canonical JSON (version 1)."""
    statement = [1, marketing_email, source, wording, instant_key(at), email, name, locale]
    canonical = json.dumps(statement, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_entry(
    customer_id: str,
    *,
    marketing_email: bool,
    source: str,
    wording: str,
    at: datetime,
    email: str | None = None,
    name: str | None = None,
    locale: Locale | None = None,
) -> ConsentEntry:
    return ConsentEntry(
        customer_id=customer_id,
        entry_id=entry_id(
            marketing_email=marketing_email,
            source=source,
            wording=wording,
            at=at,
            email=email,
            name=name,
            locale=locale,
        ),
        marketing_email=marketing_email,
        source=source,
        wording=wording,
        at=at.astimezone(UTC),
        email=email,
        name=name,
        locale=locale,
    )


def order_key(entry: ConsentEntry) -> tuple[datetime, bool, str]:
    """Oldest first; at equal times a withdrawal after a consent (so it decides)."""
    return (entry.at, not entry.marketing_email, entry.entry_id)


@dataclass(frozen=True)
class ConsentState:
    """What a customer's entries say: the current state, its proof and the whole history (oldest
    first). `email`, `name` and `locale` come from the newest entry that carries each (a withdrawal
    through an unsubscribe link carries none)."""

    customer_id: str
    marketing_email: bool
    source: str
    wording: str
    consented_at: datetime
    email: str | None
    name: str | None
    locale: Locale | None
    history: tuple[ConsentEntry, ...]


def derive(entries: Iterable[ConsentEntry]) -> ConsentState | None:
    """The state the entries decide, or None when there are none. Depends on the set of entries
    only: order and repeats do not matter."""
    unique: dict[str, ConsentEntry] = {}
    for entry in entries:
        unique.setdefault(entry.entry_id, entry)
    if not unique:
        return None
    history = tuple(sorted(unique.values(), key=order_key))
    newest = history[-1]
    return ConsentState(
        customer_id=newest.customer_id,
        marketing_email=newest.marketing_email,
        source=newest.source,
        wording=newest.wording,
        consented_at=newest.at,
        email=next((e.email for e in reversed(history) if e.email), None),
        name=next((e.name for e in reversed(history) if e.name), None),
        locale=next((e.locale for e in reversed(history) if e.locale), None),
        history=history,
    )
