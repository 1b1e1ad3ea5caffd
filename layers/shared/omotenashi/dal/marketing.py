"""Marketing state per customer: the frequency cap shared by every flow, and the gate's decisions
(why a customer got, or did not get, a marketing email)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import PynamoDBException

from omotenashi.clock import instant, parse_instant
from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import MarketingItem, bind

DECISION_RETENTION = timedelta(days=400)


def last_sent_at(store_id: str, customer_id: str, *, other_than: str | None = None) -> datetime | None:
    """The last marketing email to the customer, of any flow; None when none, or when it is the
    claim of `other_than` itself (a retry of an email whose claim succeeded and whose send failed
    must not be capped by its own claim)."""
    bind()
    try:
        item = MarketingItem.get(store_id, f"last#{customer_id}", consistent_read=True)
    except MarketingItem.DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading the last marketing email failed") from error
    if other_than is not None and item.reference == other_than:
        return None
    return parse_instant(item.last_sent_at) if item.last_sent_at else None


def suppress(store_id: str, email: str, *, reason: str, at: datetime) -> bool:
    """Record that marketing email must not go to this address (a hard bounce, a complaint).
    True when this call added it; False when it was suppressed already, in which case the first
    reason and time stay (a repeated notification, or a complaint after a bounce, changes nothing).
    SES bounce and complaint notifications write here (logic/marketing/bounces.py)."""
    bind()
    item = MarketingItem(
        store_id=store_id,
        key=f"suppressed#{email.strip().lower()}",
        reason=reason,
        at=instant(at),
    )
    try:
        item.save(condition=MarketingItem.key.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("recording a suppressed address failed") from error
    return True


def is_suppressed(store_id: str, email: str) -> bool:
    bind()
    try:
        MarketingItem.get(store_id, f"suppressed#{email.strip().lower()}", consistent_read=True)
    except MarketingItem.DoesNotExist:
        return False
    except PynamoDBException as error:
        raise StorageError("reading the suppression list failed") from error
    return True


POOL_PAGE = 25


def add_codes(store_id: str, pool: str, codes: list[str]) -> int:
    """Load discount codes into a pool (a code already there is kept as it is). Returns how many."""
    bind()
    try:
        with MarketingItem.batch_write() as batch:
            for code in dict.fromkeys(codes):
                batch.save(MarketingItem(store_id=store_id, key=f"code#{pool}#{code}", flow="available"))
    except PynamoDBException as error:
        raise StorageError("loading discount codes failed") from error
    return len(set(codes))


def take_code(store_id: str, pool: str, reference: str) -> tuple[str | None, int]:
    """(the pool's code for `reference`, codes left seen on the way). Each code is taken once
    (a conditional write); the same reference always gets the same code (a retried email)."""
    bind()
    taken_key = f"taken#{pool}#{reference}"
    try:
        try:
            return MarketingItem.get(store_id, taken_key, consistent_read=True).reference, -1
        except MarketingItem.DoesNotExist:
            pass
        for _ in range(5):  # another email may take the code we chose: try the next ones
            page = list(
                MarketingItem.query(
                    store_id,
                    MarketingItem.key.startswith(f"code#{pool}#"),
                    filter_condition=MarketingItem.flow == "available",
                    consistent_read=True,
                    limit=POOL_PAGE,
                )
            )
            if not page:
                return None, 0
            for candidate in page:
                code = candidate.key.split("#", 2)[2]
                try:
                    candidate.update(
                        actions=[MarketingItem.flow.set("taken"), MarketingItem.reference.set(reference)],
                        condition=MarketingItem.flow == "available",
                    )
                except PynamoDBException as error:
                    if condition_failed(error):
                        continue
                    raise
                MarketingItem(store_id=store_id, key=taken_key, reference=code).save()
                return code, len(page) - 1
        return None, 0
    except PynamoDBException as error:
        raise StorageError("taking a discount code failed") from error


def claim_send(store_id: str, customer_id: str, *, now: datetime, cap: timedelta, reference: str) -> bool:
    """Take the customer's one marketing email of the cap window for `reference` (atomically: two
    flows deciding at once cannot both pass the cap). True also when `reference` holds it already
    (a retried send)."""
    bind()
    item = MarketingItem(store_id=store_id, key=f"last#{customer_id}")
    free = (
        MarketingItem.last_sent_at.does_not_exist()
        | (MarketingItem.last_sent_at <= instant(now - cap))
        | (MarketingItem.reference == reference)
    )
    try:
        item.update(
            actions=[
                MarketingItem.customer_id.set(customer_id),
                MarketingItem.last_sent_at.set(instant(now)),
                MarketingItem.reference.set(reference),
            ],
            condition=free,
        )
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("claiming the marketing cap failed") from error
    return True


def record_decision(
    store_id: str,
    customer_id: str,
    *,
    flow: str,
    reference: str,
    outcome: str,
    reason: str,
    at: datetime,
    defer_until: datetime | None = None,
) -> None:
    """Idempotent per (customer, reference, outcome, reason): a redelivered job records once."""
    bind()
    item = MarketingItem(
        store_id=store_id,
        key=f"decision#{customer_id}#{reference}#{outcome}#{reason}",
        customer_id=customer_id,
        flow=flow,
        reference=reference,
        outcome=outcome,
        reason=reason,
        at=instant(at),
        defer_until=instant(defer_until) if defer_until else None,
        expires_at=at + DECISION_RETENTION,
    )
    try:
        item.save()
    except PynamoDBException as error:
        raise StorageError("recording a marketing decision failed") from error


def decisions(store_id: str, customer_id: str) -> list[dict[str, str | None]]:
    bind()
    try:
        found = MarketingItem.query(
            store_id, MarketingItem.key.startswith(f"decision#{customer_id}#"), consistent_read=True
        )
        return [
            {
                "flow": i.flow,
                "reference": i.reference,
                "outcome": i.outcome,
                "reason": i.reason,
                "at": i.at,
                "defer_until": i.defer_until,
            }
            for i in found
        ]
    except PynamoDBException as error:
        raise StorageError("reading marketing decisions failed") from error
