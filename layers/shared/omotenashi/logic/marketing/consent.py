"""Marketing consent per store and customer: record it with its proof, show it, withdraw it
through an unsubscribe link, and answer the marketing gate's question "may we?".

A customer is the storefront's `customer.id`, or for a guest the lower-cased email address
(CONTRACT.md, Commerce); `customer_key` turns the `{customer_id}` of a path into that key. Every
read and write is keyed by the store, so a store never sees another's customers (a foreign or
unknown customer answers 404).

The history is a set of entries (consent_history.py: pure), stored one item per entry
(dal/consent.py), so a retried PUT is one entry and any order of arrival ends in the same state.
Nothing caps it: the proof is never refused or dropped; the answer shows the newest
MAX_HISTORY_SHOWN entries (and how many there are) to stay within Lambda's response limit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from omotenashi import clock
from omotenashi.addresses import is_valid_email
from omotenashi.dal import consent as consent_data
from omotenashi.domain import ConsentEntry, Store
from omotenashi.logic.core.errors import InvalidFields, NotFound
from omotenashi.logic.loyalty import accounts
from omotenashi.logic.marketing.consent_history import (
    UNSUBSCRIBE_SOURCE,
    UNSUBSCRIBE_WORDING,
    ConsentState,
    derive,
    new_entry,
)
from omotenashi.schemas.customers import ConsentEntryOut, ConsentIn, ConsentOut

# 1,000 entries of the longest wording (1,000 Japanese characters) make about 3.5 MB of JSON.
MAX_HISTORY_SHOWN = 1000
# Storefront customer ids are 1-255 printable ASCII characters (schemas.common.Identifier), and so
# are the addresses we accept (addresses.is_valid_email): nothing else can name a customer.
_CUSTOMER_ID = re.compile(r"^[\x21-\x7e]{1,255}$")
_NO_SUCH_CUSTOMER = "no such customer"


def customer_key(customer_id: str) -> str:
    """The stored key of a path's customer id: an email address lower-cased (a guest), any other
    id as it is. NotFound for an id that no customer can have."""
    if not _CUSTOMER_ID.match(customer_id):
        raise NotFound(_NO_SUCH_CUSTOMER)
    return customer_id.lower() if is_valid_email(customer_id) else customer_id


def record(store: Store, customer_id: str, consent: ConsentIn) -> ConsentOut:
    """Add one entry (consent or withdrawal, with its proof) and answer the resulting state."""
    key = customer_key(customer_id)
    if is_valid_email(key) and consent.email.lower() != key:
        # A guest is their address: consent for another one under this id would mail a stranger.
        raise InvalidFields(email="must be the address in the path (a guest's customer id is their email)")
    entry = new_entry(
        key,
        marketing_email=consent.marketing_email,
        source=consent.source,
        wording=consent.wording,
        at=consent.consented_at or clock.now(),
        email=consent.email,
        name=consent.name,
        locale=consent.locale,
    )
    consent_data.add_entry(store.store_id, entry, recorded_at=clock.now())
    # The loyalty account learns the address (its emails), name, locale and birthday (the bonus).
    profile = accounts.Profile(consent.email.lower(), consent.name, consent.locale, consent.birthday)
    accounts.note_profile(store, key, profile)
    return to_view(_state_or_404(store.store_id, key))


def view(store: Store, customer_id: str) -> ConsentOut:
    return to_view(_state_or_404(store.store_id, customer_key(customer_id)))


def state(store_id: str, customer_id: str) -> ConsentState | None:
    """Everything the entries say about one customer (None: never seen). Strongly consistent."""
    return derive(consent_data.entries(store_id, customer_key(customer_id)))


def current(store_id: str, customer_id: str) -> bool | None:
    """For the marketing gate: True (consent), False (withdrawn or refused), None (never seen)."""
    found = state(store_id, customer_id)
    return None if found is None else found.marketing_email


def record_unsubscribe(
    store_id: str, customer_id: str, at: datetime, *, wording: str = UNSUBSCRIBE_WORDING
) -> ConsentState:
    """Withdraw consent through an unsubscribe link (source `unsubscribe_link`), effective at once.

    The entry is dated `at`, or the newest entry's time if that is later (a storefront clock ahead
    of ours may have dated a consent a little in the future): at equal times a withdrawal wins, so
    the unsubscribe always decides the state, as the law requires of an opt-out. Recorded also for a
    customer never seen (an opt-out is never refused)."""
    key = customer_key(customer_id)
    existing = consent_data.entries(store_id, key)
    newest = max((e.at for e in existing), default=at)
    entry = new_entry(
        key,
        marketing_email=False,
        source=UNSUBSCRIBE_SOURCE,
        wording=wording,
        at=max(at.astimezone(UTC), newest),
    )
    consent_data.add_entry(store_id, entry, recorded_at=clock.now())
    found = derive([*existing, entry])
    if found is None:  # pragma: no cover - it holds the entry just added
        raise RuntimeError("a history with an entry has a state")
    return found


def _state_or_404(store_id: str, key: str) -> ConsentState:
    found = derive(consent_data.entries(store_id, key))
    if found is None:
        raise NotFound(_NO_SUCH_CUSTOMER)
    return found


def instant_text(moment: datetime) -> str:
    """The API's format (UTC, Z), whole seconds unless the time was given finer."""
    if moment.microsecond:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return clock.isoformat(moment)


def _entry_view(entry: ConsentEntry) -> ConsentEntryOut:
    return ConsentEntryOut(
        marketing_email=entry.marketing_email,
        source=entry.source,
        wording=entry.wording,
        at=instant_text(entry.at),
        email=entry.email,
        recorded_at=clock.isoformat(entry.recorded_at) if entry.recorded_at else None,
    )


def to_view(found: ConsentState) -> ConsentOut:
    return ConsentOut(
        customer_id=found.customer_id,
        email=found.email or (found.customer_id if is_valid_email(found.customer_id) else None),
        marketing_email=found.marketing_email,
        source=found.source,
        wording=found.wording,
        consented_at=instant_text(found.consented_at),
        history=[_entry_view(entry) for entry in found.history[-MAX_HISTORY_SHOWN:]],
        history_count=len(found.history),
    )
