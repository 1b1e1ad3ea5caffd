"""Storefront events, storage-first: validated, stored once (one conditional PutItem that is also
the duplicate check and, through the table's stream, the hand-off to the event worker), answered
202. The work happens in the worker (logic/events/dispatch.py).

An event's id comes from its Idempotency-Key when it has one, else from its natural id (cart_id +
updated_at; order_id + type (+ refund_id); review_id; a survey's response_id): a repeat answers as
the first did and has no new effect, and a repeat with another body is 409. The worker's effects
are keyed by natural ids too, so the same event sent under two different keys still changes
nothing the second time.
"""

from __future__ import annotations

import json
from typing import Any

from omotenashi import clock
from omotenashi.dal import events as event_data
from omotenashi.domain import AcceptedEvent, EventKind, Store
from omotenashi.logic.core import idempotency
from omotenashi.logic.core.idempotency import Answer, request_fingerprint
from omotenashi.observability import logger, metrics
from omotenashi.schemas.commerce import CartEventIn, OrderEventIn, ReviewEventIn, SurveyEventIn


def cart_natural_id(event: CartEventIn) -> str:
    return f"{event.cart_id}\x00{clock.isoformat_precise(event.updated_at)}"


def order_natural_id(event: OrderEventIn) -> str:
    return f"{event.order_id}\x00{event.type}\x00{event.refund_id or ''}"


def accept_cart_event(
    store: Store, event: CartEventIn, parsed_body: Any, idempotency_key: str | None
) -> Answer:
    accepted = {
        "cart_id": event.cart_id,
        "updated_at": clock.isoformat_precise(event.updated_at),
        "status": "accepted",
    }
    return _accept(store, "cart", cart_natural_id(event), event, accepted, parsed_body, idempotency_key)


def accept_order_event(
    store: Store, event: OrderEventIn, parsed_body: Any, idempotency_key: str | None
) -> Answer:
    accepted: dict[str, Any] = {"order_id": event.order_id, "type": event.type, "status": "accepted"}
    if event.refund_id is not None:
        accepted["refund_id"] = event.refund_id
    return _accept(store, "order", order_natural_id(event), event, accepted, parsed_body, idempotency_key)


def accept_review_event(
    store: Store, event: ReviewEventIn, parsed_body: Any, idempotency_key: str | None
) -> Answer:
    accepted = {"review_id": event.review_id, "order_id": event.order_id, "status": "accepted"}
    return _accept(store, "review", event.review_id, event, accepted, parsed_body, idempotency_key)


def accept_survey_event(
    store: Store, event: SurveyEventIn, parsed_body: Any, idempotency_key: str | None
) -> Answer:
    accepted = {"survey_id": event.survey_id, "response_id": event.response_id, "status": "accepted"}
    return _accept(store, "survey", event.response_id, event, accepted, parsed_body, idempotency_key)


def _first_event_id(store_id: str, kind: EventKind, natural_id: str, idempotency_key: str | None) -> str:
    if idempotency_key is not None:
        return idempotency.entry_id("evt", f"{store_id}\x00idempotency-key", idempotency_key)
    return idempotency.entry_id("evt", f"{store_id}\x00{kind}", natural_id)


def _accept(
    store: Store,
    kind: EventKind,
    natural_id: str,
    event: CartEventIn | OrderEventIn | ReviewEventIn | SurveyEventIn,
    accepted: dict[str, Any],
    parsed_body: Any,
    idempotency_key: str | None,
) -> Answer:
    fingerprint = request_fingerprint(parsed_body)
    received_at = clock.now()
    body = event.model_dump_json()  # the validated event: money as exact decimal strings

    def build(event_id: str) -> AcceptedEvent:
        return AcceptedEvent(
            store_id=store.store_id,
            event_id=event_id,
            kind=kind,
            natural_id=natural_id,
            body=body,
            request_hash=fingerprint,
            accepted_response=json.dumps(accepted, separators=(",", ":"), ensure_ascii=False),
            received_at=received_at,
        )

    stored, replayed = idempotency.create_or_replay(
        _first_event_id(store.store_id, kind, natural_id, idempotency_key),
        build=build,
        create_if_absent=event_data.create_if_absent,
        fetch=lambda event_id: event_data.get(store.store_id, event_id),
        created_at=lambda existing: existing.received_at,
        fingerprint=fingerprint,
        now=received_at,
    )
    metrics.add_metric(name="EventReplayed" if replayed else "EventAccepted", unit="Count", value=1)
    logger.info("event replayed" if replayed else "event accepted", extra={"kind": kind})
    return Answer(202, json.loads(stored.accepted_response), replayed=replayed)
