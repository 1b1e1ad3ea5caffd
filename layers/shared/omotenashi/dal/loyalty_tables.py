"""PynamoDB models of LoyaltyTable (dal/loyalty.py), in their own module and registered with
dal/tables.bind: only loyalty code pays for building them at a cold start."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, LocalSecondaryIndex
from pynamodb.models import Model

from omotenashi.dal.tables import register


class LoyaltyDueIndex(GlobalSecondaryIndex["LoyaltyTimerItem"]):
    """Sparse: only items with something due (an order awaiting confirmation, a customer's expiry
    warning or expiry, birthday, tier check) carry due_shard/due_at, so the sweep reads what is due
    and nothing else, whatever the number of customers."""

    class Meta:
        index_name = "due"
        projection = IncludeProjection(["due_kind"])

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class LedgerByTimeIndex(LocalSecondaryIndex["LedgerEntryItem"]):
    """Sparse: ledger entries only, newest first by `ledger_at` ("<instant>#<entry_id>")."""

    class Meta:
        index_name = "ledger-by-time"
        projection = AllProjection()

    account = UnicodeAttribute(hash_key=True)
    ledger_at = UnicodeAttribute(range_key=True)


class LoyaltyBalanceItem(Model):
    """LoyaltyTable, key "balance": the customer's bucket sums and tier (dal/loyalty.py)."""

    class Meta:
        table_name: str = ""  # set by bind()

    account = UnicodeAttribute(hash_key=True)  # "<store_id>#<customer_id>"
    key = UnicodeAttribute(range_key=True)
    available = NumberAttribute(default=0)
    pending = NumberAttribute(default=0)
    tier = UnicodeAttribute(null=True)
    tier_change = JSONAttribute(null=True)  # {"id", "previous", "tier", "at"}
    spend = JSONAttribute(null=True)  # {order_id: [confirmed instant, decimal string]}
    last_earned_at = UnicodeAttribute(null=True)  # an instant
    email = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    birthday = UnicodeAttribute(null=True)
    revision = NumberAttribute(null=True)


class LoyaltyOrderItem(Model):
    """LoyaltyTable, key "order#<order_id>": what the ledger holds for one order; while its points
    await confirmation it carries the due-index keys."""

    class Meta:
        table_name: str = ""  # set by bind()

    account = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    order_id = UnicodeAttribute()
    rate_percent = UnicodeAttribute(null=True)
    earned = NumberAttribute(default=0)
    reversed = NumberAttribute(default=0)
    confirmed_at = UnicodeAttribute(null=True)
    spend = UnicodeAttribute(null=True)
    redeemed = NumberAttribute(default=0)
    returned = NumberAttribute(default=0)
    base = UnicodeAttribute(null=True)
    refunded = UnicodeAttribute(null=True)
    cancelled = BooleanAttribute(default=False)
    version = NumberAttribute(default=0)
    due_shard = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    due_kind = UnicodeAttribute(null=True)


class LedgerEntryItem(Model):
    """LoyaltyTable, key "entry#<entry_id>": one immutable ledger entry. The key is deterministic
    from the entry's source, so putting it only if absent is the guard against applying a source
    twice."""

    class Meta:
        table_name: str = ""  # set by bind()

    by_time = LedgerByTimeIndex()

    account = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    ledger_at = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    points = NumberAttribute()
    bucket = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    author = UnicodeAttribute(null=True)
    at = UnicodeAttribute()
    expires_at = UnicodeAttribute(null=True)
    request_hash = UnicodeAttribute(null=True)  # adjustments: the request it answers
    available_after = NumberAttribute(null=True)


class LoyaltyRedemptionItem(Model):
    """LoyaltyTable, key "redemption#<redemption_id>"."""

    class Meta:
        table_name: str = ""  # set by bind()

    account = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    redemption_id = UnicodeAttribute()
    points = NumberAttribute()
    order_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    request_hash = UnicodeAttribute()
    available_after = NumberAttribute()
    created_at = UnicodeAttribute()
    returned_on_cancel = NumberAttribute(null=True)
    available_after_cancel = NumberAttribute(null=True)


class LoyaltyRequestItem(Model):
    """LoyaltyTable, key "request#<digest of an Idempotency-Key>": what the key was first used for."""

    class Meta:
        table_name: str = ""  # set by bind()

    account = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    request_hash = UnicodeAttribute()
    target = UnicodeAttribute()  # the item key of what it created
    expires_at = TTLAttribute(null=True)


class LoyaltyTimerItem(Model):
    """LoyaltyTable, key "timer#<name>": one of a customer's timers (expiry, tier, birthday,
    birthday_email), present in the due index while set."""

    class Meta:
        table_name: str = ""  # set by bind()

    due = LoyaltyDueIndex()

    account = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    due_shard = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    due_kind = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)  # e.g. the expiry instant the warning is about


register(
    (
        (LoyaltyBalanceItem, "loyalty_table"),
        (LoyaltyOrderItem, "loyalty_table"),
        (LedgerEntryItem, "loyalty_table"),
        (LoyaltyRedemptionItem, "loyalty_table"),
        (LoyaltyRequestItem, "loyalty_table"),
        (LoyaltyTimerItem, "loyalty_table"),
    )
)
