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


def suppress(store_id: str, email: str, *, reason: str, at: datetime) -> None:
    """Record that marketing email must not go to this address (a hard bounce, a complaint);
    idempotent. SES bounce and complaint notifications write here (issue 11 delivers them)."""
    bind()
    item = MarketingItem(
        store_id=store_id,
        key=f"suppressed#{email.strip().lower()}",
        reason=reason,
        at=instant(at),
    )
    try:
        item.save()
    except PynamoDBException as error:
        raise StorageError("recording a suppressed address failed") from error


def is_suppressed(store_id: str, email: str) -> bool:
    bind()
    try:
        MarketingItem.get(store_id, f"suppressed#{email.strip().lower()}", consistent_read=True)
    except MarketingItem.DoesNotExist:
        return False
    except PynamoDBException as error:
        raise StorageError("reading the suppression list failed") from error
    return True


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
