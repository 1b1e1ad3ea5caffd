"""Storefront event routes: carts and orders, stored first and applied by the event worker."""

# No `from __future__ import annotations`: Powertools reads these annotations at run time.

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body

from omotenashi.http.openapi import COMMON_ERRORS, KEY_CONFLICT, answer
from omotenashi.http.resolver import current_store
from omotenashi.http.responses import idempotent_response
from omotenashi.http.routes.inquiries import IdempotencyKey
from omotenashi.logic.events import ingest
from omotenashi.observability import tracer
from omotenashi.schemas.commerce import CartEventAccepted, CartEventIn, OrderEventAccepted, OrderEventIn

_STORED = (
    "Stored once (natural id, or Idempotency-Key when sent) and applied asynchronously; a repeat "
    "answers as the first did and has no new effect. Events may arrive late, twice or out of "
    "order: their own time decides their order."
)


def router() -> Router:
    routes = Router()

    @routes.post(
        "/v1/events/carts",
        summary="Report a cart update (or an emptied cart)",
        description=f"Natural id: cart_id + updated_at. An update older than the stored one changes "
        f"nothing; an empty items list means the cart was emptied. {_STORED}",
        responses={202: answer("Accepted", CartEventAccepted), **KEY_CONFLICT, **COMMON_ERRORS},
        tags=["events"],
    )
    @tracer.capture_method
    def cart_event(
        event: Annotated[CartEventIn, Body(embed=False)], idempotency_key: IdempotencyKey = None
    ) -> Response[CartEventAccepted]:
        store = current_store(routes)
        result = ingest.accept_cart_event(store, event, routes.current_event.json_body, idempotency_key)
        return idempotent_response(result)

    @routes.post(
        "/v1/events/orders",
        summary="Report an order event (placed, fulfilled, delivered, cancelled, refunded)",
        description=f"Natural id: order_id + type (+ refund_id). Only placed needs items, total and "
        f"currency; refunded needs refund_id and refund_amount. {_STORED}",
        responses={202: answer("Accepted", OrderEventAccepted), **KEY_CONFLICT, **COMMON_ERRORS},
        tags=["events"],
    )
    @tracer.capture_method
    def order_event(
        event: Annotated[OrderEventIn, Body(embed=False)], idempotency_key: IdempotencyKey = None
    ) -> Response[OrderEventAccepted]:
        store = current_store(routes)
        result = ingest.accept_order_event(store, event, routes.current_event.json_body, idempotency_key)
        return idempotent_response(result)

    return routes
