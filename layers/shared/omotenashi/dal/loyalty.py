"""The loyalty ledger in LoyaltyTable, one partition per customer ("<store_id>#<customer_id>"):

- "balance": the bucket sums, tier, spend log, profile (LoyaltyBalanceItem);
- "order#<order_id>": what the ledger holds for an order (LoyaltyOrderItem);
- "entry#<entry_id>": immutable ledger entries (LedgerEntryItem), newest first through the
  ledger-by-time local index;
- "redemption#<id>", "request#<digest>": redemptions and the Idempotency-Keys that made them;
- "timer#<name>": a customer's timers (LoyaltyTimerItem).

Every change is one TransactWriteItems (`commit`): the entries are put only if absent (a source
applied twice fails), the balance counters move by ADD in the same transaction, so the balance is
always the sum of its entries; a redemption's condition keeps `available` from going below zero;
the order record and the balance's other fields are guarded by version numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar, cast

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from omotenashi.clock import instant, parse_instant
from omotenashi.dal.errors import StorageError
from omotenashi.dal.loyalty_tables import (
    LedgerEntryItem,
    LoyaltyBalanceItem,
    LoyaltyOrderItem,
    LoyaltyRedemptionItem,
    LoyaltyRequestItem,
    LoyaltyTimerItem,
)
from omotenashi.dal.tables import bind
from omotenashi.domain import Locale
from omotenashi.loyalty_domain import Entry, LedgerLine, LoyaltyAccount, OrderPoints, Redemption, TierChange

BALANCE = "balance"
DUE_SHARDS = 4
TimerName = Literal["expiry", "tier", "birthday", "birthday_email"]


class LoyaltyConflict(Exception):
    """A condition of the transaction failed: `what` names the part ("balance", "order", "entry",
    "redemption", "request", "funds", ...). The caller decides: re-read and retry, or answer."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def account_key(store_id: str, customer_id: str) -> str:
    return f"{store_id}#{customer_id}"  # "#" never appears in a store id


def _split(account: str) -> tuple[str, str]:
    store_id, customer_id = account.split("#", 1)
    return store_id, customer_id


def _shard(account: str) -> str:
    return f"s{int(hashlib.sha256(account.encode()).hexdigest(), 16) % DUE_SHARDS}"


# --- reading ---------------------------------------------------------------------------------


def _account(store_id: str, customer_id: str, item: LoyaltyBalanceItem | None) -> LoyaltyAccount | None:
    if item is None:
        return None
    change = item.tier_change
    spend = {
        order: (parse_instant(at), Decimal(amount)) for order, (at, amount) in (item.spend or {}).items()
    }
    return LoyaltyAccount(
        store_id=store_id,
        customer_id=customer_id,
        available=int(item.available or 0),
        pending=int(item.pending or 0),
        tier=item.tier,
        last_tier_change=TierChange(
            change["id"],
            change.get("previous"),
            change["tier"],
            parse_instant(change["at"]),
            change.get("cause"),
        )
        if change
        else None,
        spend_log=spend,
        last_earned_at=parse_instant(item.last_earned_at) if item.last_earned_at else None,
        email=item.email,
        name=item.name,
        locale=cast(Locale | None, item.locale),
        birthday=item.birthday,
        revision=int(item.revision or 0),
    )


def _order(item: LoyaltyOrderItem | None) -> OrderPoints | None:
    if item is None:
        return None
    return OrderPoints(
        rate_percent=Decimal(item.rate_percent) if item.rate_percent else None,
        earned=int(item.earned or 0),
        reversed=int(item.reversed or 0),
        confirmed_at=parse_instant(item.confirmed_at) if item.confirmed_at else None,
        spend=Decimal(item.spend or "0"),
        redeemed=int(item.redeemed or 0),
        returned=int(item.returned or 0),
        base=Decimal(item.base or "0"),
        refunded=Decimal(item.refunded or "0"),
        cancelled=bool(item.cancelled),
        version=int(item.version or 0),
        confirm_due_at=parse_instant(item.due_at) if item.due_at and item.due_kind == "confirm" else None,
    )


def load(
    store_id: str, customer_id: str, order_id: str | None = None
) -> tuple[LoyaltyAccount | None, OrderPoints | None]:
    """The balance and (when asked) an order's record, read together and strongly consistent
    (one TransactGetItems)."""
    bind()
    account = account_key(store_id, customer_id)
    try:
        with TransactGet(connection=Connection()) as tx:
            balance = tx.get(LoyaltyBalanceItem, account, BALANCE)
            order = tx.get(LoyaltyOrderItem, account, f"order#{order_id}") if order_id else None
        balance_item = _future(balance)
        order_item = _future(order) if order is not None else None
    except PynamoDBException as error:
        raise StorageError("reading a loyalty account failed") from error
    return _account(store_id, customer_id, balance_item), _order(order_item)


def _future(future: Any) -> Any:
    try:
        return future.get()
    except DoesNotExist:
        return None


_ModelT = TypeVar("_ModelT", bound=Model)


def _get(model: type[_ModelT], store_id: str, customer_id: str, key: str, what: str) -> _ModelT | None:
    """One item of a customer's partition, strongly consistent; None when absent."""
    bind()
    try:
        return model.get(account_key(store_id, customer_id), key, consistent_read=True)
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError(f"reading {what} failed") from error


def get_account(store_id: str, customer_id: str) -> LoyaltyAccount | None:
    item = _get(LoyaltyBalanceItem, store_id, customer_id, BALANCE, "a loyalty balance")
    return _account(store_id, customer_id, item)


def get_redemption(store_id: str, customer_id: str, redemption_id: str) -> Redemption | None:
    item = _get(LoyaltyRedemptionItem, store_id, customer_id, f"redemption#{redemption_id}", "a redemption")
    if item is None:
        return None
    return Redemption(
        store_id=store_id,
        customer_id=customer_id,
        redemption_id=item.redemption_id,
        points=int(item.points),
        order_id=item.order_id,
        state=cast(Literal["active", "cancelled"], item.state),
        request_hash=item.request_hash,
        available_after=int(item.available_after),
        created_at=parse_instant(item.created_at),
        returned_on_cancel=None if item.returned_on_cancel is None else int(item.returned_on_cancel),
        available_after_cancel=None
        if item.available_after_cancel is None
        else int(item.available_after_cancel),
    )


@dataclass(frozen=True)
class StoredEntry:
    line: LedgerLine
    request_hash: str | None
    available_after: int | None


def _line(item: LedgerEntryItem) -> LedgerLine:
    return LedgerLine(
        entry=Entry(
            entry_id=item.entry_id,
            kind=cast(Any, item.kind),
            points=int(item.points),
            bucket=cast(Any, item.bucket),
            order_id=item.order_id,
            reason=item.reason,
            author=item.author,
        ),
        at=parse_instant(item.at),
        expires_at=parse_instant(item.expires_at) if item.expires_at else None,
    )


def get_entry(store_id: str, customer_id: str, entry_id: str) -> StoredEntry | None:
    item = _get(LedgerEntryItem, store_id, customer_id, f"entry#{entry_id}", "a ledger entry")
    if item is None:
        return None
    available = None if item.available_after is None else int(item.available_after)
    return StoredEntry(_line(item), item.request_hash, available)


def get_request(store_id: str, customer_id: str, digest: str, now: datetime) -> tuple[str, str] | None:
    """(request hash, target item key) of an Idempotency-Key used on this account within its
    window (TTL deletes late: an expired record counts as absent)."""
    item = _get(LoyaltyRequestItem, store_id, customer_id, f"request#{digest}", "an idempotency record")
    if item is None:
        return None
    if item.expires_at is not None and item.expires_at <= now:
        return None
    return item.request_hash, item.target


def ledger_page(
    store_id: str, customer_id: str, limit: int, cursor: str | None
) -> tuple[list[LedgerLine], str | None]:
    """Entries newest first; the cursor is the opaque position after the page."""
    bind()
    account = account_key(store_id, customer_id)
    start = None
    if cursor:
        ledger_at, key = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        start = {
            "account": {"S": account},
            "key": {"S": key},
            "ledger_at": {"S": ledger_at},
        }
    try:
        results = LedgerEntryItem.by_time.query(
            account,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start,
            page_size=limit,
            consistent_read=True,  # a local index allows it: the page agrees with the balance
        )
        lines = [_line(item) for item in results]
        last = results.last_evaluated_key
    except PynamoDBException as error:
        raise StorageError("reading a ledger failed") from error
    next_cursor = None
    if last and len(lines) == limit:
        position = [last["ledger_at"]["S"], last["key"]["S"]]
        next_cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
    return lines, next_cursor


def all_lines(store_id: str, customer_id: str) -> list[LedgerLine]:
    """Every entry (tests and the audit: the balance equals their sums)."""
    bind()
    try:
        items = LedgerEntryItem.query(
            account_key(store_id, customer_id), LedgerEntryItem.key.startswith("entry#"), consistent_read=True
        )
        return [_line(item) for item in items]
    except PynamoDBException as error:
        raise StorageError("reading a ledger failed") from error


# --- writing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderWrite:
    order_id: str
    points: OrderPoints  # the new record (its version is the old one + 1)
    expected_version: int  # 0: the record must not exist yet
    confirm_due_at: datetime | None


@dataclass(frozen=True)
class TimerWrite:
    name: TimerName
    due_at: datetime | None  # None: clear the timer
    due_kind: str | None = None
    detail: str | None = None


@dataclass
class Commit:
    """One transaction on one customer's partition."""

    store_id: str
    customer_id: str
    lines: list[LedgerLine] = field(default_factory=list)
    # Balance: counters move by the sum of the lines; these add conditions or fields.
    min_available: int | None = None  # the balance must hold at least this before the change
    expect_available: int | None = None  # ... exactly this (expiry)
    expect_last_earned: str | None = None  # ... and this last earning (expiry)
    fields: LoyaltyAccount | None = None  # set tier, spend, profile: guarded by its revision
    earned_at: datetime | None = None  # an earning: set last_earned_at
    order: OrderWrite | None = None
    order_redeemed: tuple[str, int] | None = None  # (order id, points) added to an order's redeemed
    order_after_cancel: tuple[str, OrderPoints] | None = None  # a redemption DELETE's order record
    redemption: Redemption | None = None  # a new redemption
    redemption_cancelled: tuple[str, int, int] | None = None  # (id, points back, available after)
    # (Idempotency-Key digest, request hash, target, now, when the key may be used afresh)
    request: tuple[str, str, str, datetime, datetime] | None = None
    entry_extra: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    timers: list[TimerWrite] = field(default_factory=list)


class _Tx:
    """TransactWrite with a label per item, to say which condition failed (the service lists
    cancellation reasons in the order condition checks, deletes, puts, updates)."""

    def __init__(self, tx: TransactWrite) -> None:
        self.tx = tx
        self.labels: dict[str, list[str]] = {"check": [], "delete": [], "put": [], "update": []}

    def put(self, label: str, item: Any, condition: Condition | None = None) -> None:
        self.tx.save(item, condition=condition)
        self.labels["put"].append(label)

    def update(
        self, label: str, item: Any, actions: list[Action], condition: Condition | None = None
    ) -> None:
        self.tx.update(item, actions=actions, condition=condition)
        self.labels["update"].append(label)

    def delete(self, label: str, item: Any, condition: Condition | None = None) -> None:
        self.tx.delete(item, condition=condition)
        self.labels["delete"].append(label)

    def failed(self, error: TransactWriteError) -> str | None:
        ordered = self.labels["check"] + self.labels["delete"] + self.labels["put"] + self.labels["update"]
        for label, reason in zip(ordered, error.cancellation_reasons or (), strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                return label
        return None


def _order_actions(write: OrderWrite, account: str) -> list[Action]:
    points = write.points
    item = LoyaltyOrderItem
    actions: list[Action] = [
        item.order_id.set(write.order_id),
        item.earned.set(points.earned),
        item.reversed.set(points.reversed),
        item.redeemed.set(points.redeemed),
        item.returned.set(points.returned),
        item.spend.set(str(points.spend)),
        item.base.set(str(points.base)),
        item.refunded.set(str(points.refunded)),
        item.cancelled.set(points.cancelled),
        item.version.set(write.expected_version + 1),
    ]
    actions.append(
        item.rate_percent.set(str(points.rate_percent))
        if points.rate_percent is not None
        else item.rate_percent.remove()
    )
    actions.append(
        item.confirmed_at.set(instant(points.confirmed_at))
        if points.confirmed_at is not None
        else item.confirmed_at.remove()
    )
    if write.confirm_due_at is not None:
        actions += [
            item.due_shard.set(_shard(account)),
            item.due_at.set(instant(write.confirm_due_at)),
            item.due_kind.set("confirm"),
        ]
    else:
        actions += [item.due_shard.remove(), item.due_at.remove(), item.due_kind.remove()]
    return actions


def _balance_actions(commit: Commit) -> tuple[list[Action], Condition | None]:
    item = LoyaltyBalanceItem
    available = sum(line.entry.points for line in commit.lines if line.entry.bucket == "available")
    pending = sum(line.entry.points for line in commit.lines if line.entry.bucket == "pending")
    actions: list[Action] = []
    if available:
        actions.append(item.available.add(available))
    if pending:
        actions.append(item.pending.add(pending))
    conditions: list[Condition] = []
    if commit.min_available is not None:
        conditions.append(item.available >= commit.min_available)
    if commit.expect_available is not None:
        exact = item.available == commit.expect_available
        # A balance whose available bucket was never touched has no attribute yet: that is 0.
        conditions.append(exact | item.available.does_not_exist() if commit.expect_available == 0 else exact)
    if commit.expect_last_earned is not None:
        conditions.append(item.last_earned_at == commit.expect_last_earned)
    fields = commit.fields
    if fields is not None:
        expected = fields.revision
        conditions.append(item.revision.does_not_exist() if expected == 0 else item.revision == expected)
        actions.append(item.revision.set(expected + 1))
        actions.append(item.tier.set(fields.tier) if fields.tier else item.tier.remove())
        change = fields.last_tier_change
        if change is not None:
            actions.append(
                item.tier_change.set(
                    {
                        "id": change.change_id,
                        "previous": change.previous,
                        "tier": change.tier,
                        "at": instant(change.at),
                        "cause": change.cause,
                    }
                )
            )
        spend = {order: [instant(at), str(amount)] for order, (at, amount) in fields.spend_log.items()}
        actions.append(item.spend.set(spend))
        for name in ("email", "name", "locale", "birthday"):
            value = getattr(fields, name)
            attribute = getattr(item, name)
            actions.append(attribute.set(value) if value else attribute.remove())
    if commit.earned_at is not None:
        actions.append(item.last_earned_at.set(instant(commit.earned_at)))
    condition: Condition | None = None
    for part in conditions:
        condition = part if condition is None else condition & part
    return actions, condition


def commit(change: Commit) -> None:
    """Write the change as one transaction; raises LoyaltyConflict naming the failed condition."""
    bind()
    transaction = TransactWrite(connection=Connection())
    tx = _Tx(transaction)
    try:
        _build(tx, change)
        if not any(tx.labels.values()):
            return
        with transaction:
            pass  # leaving the block commits the items built above
    except TransactWriteError as error:
        label = tx.failed(error)
        if label is not None:
            raise LoyaltyConflict(label) from error
        if error.cause_response_code == "TransactionCanceledException":
            raise LoyaltyConflict("conflict") from error  # a concurrent transaction: retry
        raise StorageError("writing the loyalty ledger failed") from error
    except PynamoDBException as error:
        raise StorageError("writing the loyalty ledger failed") from error


def _build(tx: _Tx, change: Commit) -> None:
    account = account_key(change.store_id, change.customer_id)
    for line in change.lines:
        entry = line.entry
        request_hash, available_after = change.entry_extra.get(entry.entry_id, (None, None))
        tx.put(
            "entry",
            LedgerEntryItem(
                account=account,
                key=f"entry#{entry.entry_id}",
                ledger_at=f"{instant(line.at)}#{entry.entry_id}",
                entry_id=entry.entry_id,
                kind=entry.kind,
                points=entry.points,
                bucket=entry.bucket,
                order_id=entry.order_id,
                reason=entry.reason,
                author=entry.author,
                at=instant(line.at),
                expires_at=instant(line.expires_at) if line.expires_at else None,
                request_hash=request_hash,
                available_after=available_after,
            ),
            LedgerEntryItem.key.does_not_exist(),
        )
    if change.redemption is not None:
        r = change.redemption
        tx.put(
            "redemption",
            LoyaltyRedemptionItem(
                account=account,
                key=f"redemption#{r.redemption_id}",
                redemption_id=r.redemption_id,
                points=r.points,
                order_id=r.order_id,
                state="active",
                request_hash=r.request_hash,
                available_after=r.available_after,
                created_at=instant(r.created_at),
            ),
            LoyaltyRedemptionItem.key.does_not_exist(),
        )
    if change.request is not None:
        digest, request_hash, target, now, expires_at = change.request
        tx.put(
            "request",
            LoyaltyRequestItem(
                account=account,
                key=f"request#{digest}",
                request_hash=request_hash,
                target=target,
                expires_at=expires_at,
            ),
            LoyaltyRequestItem.key.does_not_exist() | (LoyaltyRequestItem.expires_at <= now),
        )
    if change.redemption_cancelled is not None:
        redemption_id, back, available_after = change.redemption_cancelled
        tx.update(
            "redemption",
            LoyaltyRedemptionItem(account=account, key=f"redemption#{redemption_id}"),
            [
                LoyaltyRedemptionItem.state.set("cancelled"),
                LoyaltyRedemptionItem.returned_on_cancel.set(back),
                LoyaltyRedemptionItem.available_after_cancel.set(available_after),
            ],
            LoyaltyRedemptionItem.state == "active",
        )
    if change.order is not None:
        write = change.order
        tx.update(
            "order",
            LoyaltyOrderItem(account=account, key=f"order#{write.order_id}"),
            _order_actions(write, account),
            LoyaltyOrderItem.version.does_not_exist()
            if write.expected_version == 0
            else LoyaltyOrderItem.version == write.expected_version,
        )
    if change.order_redeemed is not None:
        order_id, points = change.order_redeemed
        tx.update(
            "order",
            LoyaltyOrderItem(account=account, key=f"order#{order_id}"),
            [
                LoyaltyOrderItem.order_id.set(order_id),
                LoyaltyOrderItem.redeemed.add(points),
                LoyaltyOrderItem.version.add(1),
            ],
        )
    if change.order_after_cancel is not None:
        order_id, points_record = change.order_after_cancel
        tx.update(
            "order",
            LoyaltyOrderItem(account=account, key=f"order#{order_id}"),
            [
                LoyaltyOrderItem.redeemed.set(points_record.redeemed),
                LoyaltyOrderItem.returned.set(points_record.returned),
                LoyaltyOrderItem.version.set(points_record.version + 1),
            ],
            LoyaltyOrderItem.version == points_record.version,
        )
    for timer in change.timers:
        key = f"timer#{timer.name}"
        if timer.due_at is None:
            tx.delete("timer", LoyaltyTimerItem(account=account, key=key))
        else:
            tx.put(
                "timer",
                LoyaltyTimerItem(
                    account=account,
                    key=key,
                    due_shard=_shard(account),
                    due_at=instant(timer.due_at),
                    due_kind=timer.due_kind or timer.name,
                    detail=timer.detail,
                ),
            )
    actions, condition = _balance_actions(change)
    if actions:
        tx.update("balance", LoyaltyBalanceItem(account=account, key=BALANCE), actions, condition)
    elif condition is not None:
        tx.tx.condition_check(LoyaltyBalanceItem, account, BALANCE, condition)
        tx.labels["check"].append("balance")


# --- timers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueTimer:
    store_id: str
    customer_id: str
    item_key: str  # "order#<id>" or "timer#<name>"
    due_kind: str
    due_at: str


@dataclass
class SweepStats:
    queries: int = 0
    items_read: int = 0


def due_timers(now: datetime, stats: SweepStats, limit: int = 1000) -> Iterator[DueTimer]:
    """Query every shard of the sparse due index for due_at <= now: the cost follows what is due,
    never the number of customers."""
    bind()
    cutoff = instant(now)
    for shard in (f"s{n}" for n in range(DUE_SHARDS)):
        try:
            results = LoyaltyTimerItem.due.query(
                shard, LoyaltyTimerItem.due_at <= cutoff, limit=limit, page_size=200
            )
            stats.queries += 1
            for item in results:
                stats.items_read += 1
                store_id, customer_id = _split(item.account)
                yield DueTimer(store_id, customer_id, item.key, str(item.due_kind), str(item.due_at))
        except PynamoDBException as error:
            raise StorageError("reading due loyalty timers failed") from error


def lease_timer(timer: DueTimer, until: datetime) -> bool:
    """Move a due timer (or order confirmation) to `until` if nobody moved it meanwhile, so the
    next sweep does not enqueue it again while its job is on the queue."""
    bind()
    account = account_key(timer.store_id, timer.customer_id)
    model = LoyaltyOrderItem if timer.item_key.startswith("order#") else LoyaltyTimerItem
    try:
        model(account=account, key=timer.item_key).update(
            actions=[model.due_at.set(instant(until))],
            condition=model.due_at == timer.due_at,
        )
    except PynamoDBException as error:
        if getattr(error, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise StorageError("leasing a loyalty timer failed") from error
    return True


def get_timer(store_id: str, customer_id: str, name: str) -> tuple[str | None, str | None, str | None]:
    """(due_at, due_kind, detail) of a timer, or Nones."""
    item = _get(LoyaltyTimerItem, store_id, customer_id, f"timer#{name}", "a loyalty timer")
    if item is None:
        return None, None, None
    return item.due_at, item.due_kind, item.detail
