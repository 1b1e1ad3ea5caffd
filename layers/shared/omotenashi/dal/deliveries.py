"""Exactly-once bookkeeping for outbound emails other than the auto-reply.

A delivery id names one email (e.g. "alert#demo#inq_x#2#1"). `claim` succeeds once: for a new id,
or when an earlier claim's lease ran out without the email being recorded as sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PynamoDBException

from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import DeliveryItem, bind

RETENTION = timedelta(days=90)


def claim(delivery_id: str, *, now: datetime, lease_until: datetime) -> bool:
    bind()
    item = DeliveryItem(
        delivery_id=delivery_id, state="sending", lease_until=lease_until, expires_at=now + RETENTION
    )
    condition = DeliveryItem.delivery_id.does_not_exist() | (
        (DeliveryItem.state == "sending") & (DeliveryItem.lease_until < now)
    )
    try:
        item.save(condition=condition)
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("claiming a delivery failed") from error
    return True


def release(delivery_id: str) -> None:
    """After a send that certainly failed: forget the claim so a retry may send."""
    bind()
    try:
        DeliveryItem(delivery_id=delivery_id).delete(condition=DeliveryItem.state == "sending")
    except PynamoDBException as error:
        if not condition_failed(error):
            raise StorageError("releasing a delivery failed") from error


def mark(delivery_id: str, *, state: str, message_id: str | None, at: datetime) -> None:
    bind()
    actions: list[Any] = [
        DeliveryItem.state.set(state),
        DeliveryItem.sent_at.set(at),
        DeliveryItem.lease_until.remove(),
    ]
    if message_id:
        actions.append(DeliveryItem.message_id.set(message_id))
    try:
        DeliveryItem(delivery_id=delivery_id).update(actions=actions)
    except PynamoDBException as error:
        raise StorageError("recording a delivery failed") from error


def recorded(delivery_id: str) -> tuple[str | None, str | None]:
    """(state, SES message id) of a delivery; (None, None) when there is none."""
    bind()
    try:
        item = DeliveryItem.get(delivery_id, consistent_read=True)
    except DeliveryItem.DoesNotExist:
        return None, None
    except PynamoDBException as error:
        raise StorageError("reading a delivery failed") from error
    return str(item.state), item.message_id
