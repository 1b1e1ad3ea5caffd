"""The events inbox: storefront events stored once, as accepted (its stream feeds the worker)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from pynamodb.exceptions import DoesNotExist, PynamoDBException

from omotenashi.clock import instant, parse_instant
from omotenashi.dal._pynamo import condition_failed
from omotenashi.dal.errors import StorageError
from omotenashi.dal.tables import EventItem, bind
from omotenashi.domain import AcceptedEvent, EventKind

RETENTION = timedelta(days=35)  # repeats within this time answer as the first did


def create_if_absent(event: AcceptedEvent) -> bool:
    """One conditional PutItem: the durable write, the duplicate check and (through the table's
    stream) the hand-off to the event worker. False when this event id exists already."""
    bind()
    item = EventItem(
        store_id=event.store_id,
        event_id=event.event_id,
        kind=event.kind,
        natural_id=event.natural_id,
        body=event.body,
        request_hash=event.request_hash,
        accepted_response=event.accepted_response,
        received_at=instant(event.received_at),
        expires_at=event.received_at + RETENTION,
    )
    try:
        item.save(condition=EventItem.event_id.does_not_exist())
    except PynamoDBException as error:
        if condition_failed(error):
            return False
        raise StorageError("storing an event failed") from error
    return True


def get(store_id: str, event_id: str) -> AcceptedEvent | None:
    bind()
    try:
        item = EventItem.get(store_id, event_id, consistent_read=True)
    except DoesNotExist:
        return None
    except PynamoDBException as error:
        raise StorageError("reading an event failed") from error
    return AcceptedEvent(
        store_id=item.store_id,
        event_id=item.event_id,
        kind=cast(EventKind, item.kind),
        natural_id=item.natural_id,
        body=item.body,
        request_hash=item.request_hash,
        accepted_response=item.accepted_response,
        received_at=parse_instant(item.received_at),
    )


def from_stream_image(image: dict[str, dict[str, str]]) -> AcceptedEvent:
    """An event from a DynamoDB stream record's NewImage (attribute-value JSON)."""

    def text(name: str) -> str:
        return image[name]["S"]

    return AcceptedEvent(
        store_id=text("store_id"),
        event_id=text("event_id"),
        kind=cast(EventKind, text("kind")),
        natural_id=text("natural_id"),
        body=text("body"),
        request_hash=text("request_hash"),
        accepted_response=text("accepted_response"),
        received_at=parse_instant(text("received_at")),
    )
