"""Storefront event routes: carts, orders, reviews and survey answers, stored first and applied by
the event worker."""

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
from omotenashi.schemas.commerce import (
    CartEventAccepted,
    CartEventIn,
    OrderEventAccepted,
    OrderEventIn,
    ReviewEventAccepted,
    ReviewEventIn,
    SurveyEventAccepted,
    SurveyEventIn,
)

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

    @routes.post(
        "/v1/events/reviews",
        summary="Report a review of an order's item",
        description=f"Natural id: review_id. Stored per order and sku; stops the order's review "
        f"reminder and earns the store's review reward once per order (at most one per customer "
        f"within the store's limit, 30 days by default), whatever the rating: a 1-star review earns "
        f"what a 5-star one does (景品表示法). {_STORED}",
        responses={202: answer("Accepted", ReviewEventAccepted), **KEY_CONFLICT, **COMMON_ERRORS},
        tags=["events"],
    )
    @tracer.capture_method
    def review_event(
        event: Annotated[ReviewEventIn, Body(embed=False)], idempotency_key: IdempotencyKey = None
    ) -> Response[ReviewEventAccepted]:
        store = current_store(routes)
        result = ingest.accept_review_event(store, event, routes.current_event.json_body, idempotency_key)
        return idempotent_response(result)

    @routes.post(
        "/v1/events/surveys",
        summary="Report a survey answer (earns the store's survey bonus)",
        description=f"Natural id: response_id. Earns the store's survey bonus (loyalty points or a "
        f"coupon code, docs/reviews.md) once per survey and customer. {_STORED}",
        responses={202: answer("Accepted", SurveyEventAccepted), **KEY_CONFLICT, **COMMON_ERRORS},
        tags=["events"],
    )
    @tracer.capture_method
    def survey_event(
        event: Annotated[SurveyEventIn, Body(embed=False)], idempotency_key: IdempotencyKey = None
    ) -> Response[SurveyEventAccepted]:
        store = current_store(routes)
        result = ingest.accept_survey_event(store, event, routes.current_event.json_body, idempotency_key)
        return idempotent_response(result)

    return routes
