"""Consent history: one item per entry in the store's partition of ConsentTable.

Why one item per entry, not a list or map on one item per customer: the history is legal proof
(特定電子メール法), so no entry may ever be refused or dropped for lack of room, and a withdrawal
least of all. One item per customer would hold about a hundred entries with 1,000-character
Japanese wordings before DynamoDB's 400 KB item limit, and then either refuse the next consent or
withdrawal, or lose old proof. Separate items have no such limit; a customer's entries are read
with one paginated Query on their key prefix.

Writes commute: an entry's key is "<customer_id>#<entry_id>" and its id is a digest of everything
it holds (logic/marketing/consent_history), so writing it again (a retried PUT, a duplicated
event) writes the same values; one UpdateItem is the whole write; concurrent writes of different
entries touch different items. Only `recorded_at`, the time it first reached us, is kept from the
first write. Nothing here deletes or replaces an entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from pynamodb.exceptions import PynamoDBException

from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import ConsentItem, bind
from omotenashi.domain import ConsentEntry, Locale

_SEPARATOR = "#"


def _entry_key(customer_id: str, entry_id: str) -> str:
    return f"{customer_id}{_SEPARATOR}{entry_id}"


def add_entry(store_id: str, entry: ConsentEntry, *, recorded_at: datetime) -> None:
    """Store one entry (idempotent: the same entry again changes nothing but nothing fails)."""
    bind()
    item = ConsentItem(store_id=store_id, entry_key=_entry_key(entry.customer_id, entry.entry_id))
    actions: list[Any] = [
        ConsentItem.customer_id.set(entry.customer_id),
        ConsentItem.entry_id.set(entry.entry_id),
        ConsentItem.marketing_email.set(entry.marketing_email),
        ConsentItem.source.set(entry.source),
        ConsentItem.wording.set(entry.wording),
        ConsentItem.at.set(entry.at),
        ConsentItem.recorded_at.set(ConsentItem.recorded_at | recorded_at),
    ]
    # Absent stays absent: the id covers these too, so an item never gains or loses one.
    for attribute, value in (
        (ConsentItem.email, entry.email),
        (ConsentItem.name, entry.name),
        (ConsentItem.locale, entry.locale),
    ):
        if value is not None:
            actions.append(attribute.set(value))
    try:
        item.update(actions=actions)
    except PynamoDBException as error:
        raise StorageError("recording consent failed") from error


def entries(store_id: str, customer_id: str, *, consistent: bool = True) -> list[ConsentEntry]:
    """Every entry of one customer of one store, in key order (not time order). Strongly
    consistent by default: a withdrawal must count from the moment it was answered."""
    bind()
    # The prefix "<id>#" also matches the entries of a customer whose id starts with "<id>#";
    # the filter keeps exactly this customer's.
    query = ConsentItem.query(
        store_id,
        ConsentItem.entry_key.startswith(customer_id + _SEPARATOR),
        filter_condition=ConsentItem.customer_id == customer_id,
        consistent_read=consistent,
    )
    try:
        return [_to_domain(item) for item in query]
    except PynamoDBException as error:
        raise StorageError("reading consent failed") from error


def _to_domain(item: ConsentItem) -> ConsentEntry:
    return ConsentEntry(
        customer_id=item.customer_id,
        entry_id=item.entry_id,
        marketing_email=bool(item.marketing_email),
        source=item.source,
        wording=item.wording,
        at=item.at,
        email=item.email,
        name=item.name,
        locale=cast(Locale | None, item.locale),
        recorded_at=item.recorded_at,
    )
