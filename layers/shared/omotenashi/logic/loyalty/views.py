"""What the loyalty routes answer: the balance with tier, spend and expiring points, and the
ledger page by page (newest first)."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal

from omotenashi import clock
from omotenashi.dal import loyalty as loyalty_data
from omotenashi.domain import Store
from omotenashi.logic.core.errors import InvalidFields
from omotenashi.logic.loyalty import tiers
from omotenashi.logic.loyalty.settings import from_store
from omotenashi.loyalty_domain import LoyaltyAccount
from omotenashi.schemas.loyalty import ExpiringOut, LedgerEntryOut, LedgerOut, LoyaltyOut


def _amount(value: Decimal) -> str:
    text = format(value.normalize(), "f") if value else "0"
    return text


def balance(store: Store, customer_id: str) -> LoyaltyOut:
    settings = from_store(store)
    account = loyalty_data.get_account(store.store_id, customer_id) or LoyaltyAccount(
        store.store_id, customer_id
    )
    now = clock.now()
    standing = tiers.standing(account.tier, account.spend_log, now, settings)
    expiry = tiers.expires_at(account.last_earned_at, settings, store.time_zone)
    locale = account.locale or store.default_locale
    expiring = []
    if expiry is not None and account.available > 0:
        expiring.append(ExpiringOut(points=account.available, expires_at=clock.isoformat(expiry)))
    return LoyaltyOut(
        customer_id=customer_id,
        available=account.available,
        pending=account.pending,
        redeemable=max(0, account.available),
        tier=account.tier,
        tier_label=standing.tier.label(locale) if standing.tier else None,
        rate_percent=_amount(standing.tier.rate_percent) if standing.tier else None,
        tier_spend_12m=_amount(standing.spend),
        next_tier=standing.next_tier.name if standing.next_tier else None,
        spend_to_next_tier=_amount(standing.spend_to_next) if standing.spend_to_next is not None else None,
        expiring=expiring,
    )


def _valid_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if isinstance(position, list) and len(position) == 2 and all(isinstance(p, str) for p in position):
            return cursor
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        pass
    raise InvalidFields(cursor="is not a cursor this API gave out")


def ledger(store: Store, customer_id: str, limit: int, cursor: str | None) -> LedgerOut:
    lines, next_cursor = loyalty_data.ledger_page(store.store_id, customer_id, limit, _valid_cursor(cursor))
    return LedgerOut(
        entries=[
            LedgerEntryOut(
                entry_id=line.entry.entry_id,
                kind=line.entry.kind,
                points=line.entry.points,
                bucket=line.entry.bucket,
                order_id=line.entry.order_id,
                reason=line.entry.reason,
                author=line.entry.author,
                at=clock.isoformat(line.at),
                expires_at=clock.isoformat(line.expires_at) if line.expires_at else None,
            )
            for line in lines
        ],
        next_cursor=next_cursor,
    )
