"""Reading carts and orders as the event worker left them."""

# No `from __future__ import annotations`: Powertools reads these annotations at run time.

import re
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from omotenashi.http.openapi import COMMON_ERRORS, answer, not_found
from omotenashi.http.resolver import current_store
from omotenashi.logic.commerce import carts, orders
from omotenashi.logic.core.errors import NotFound
from omotenashi.observability import tracer
from omotenashi.schemas.commerce import CartOut, OrderOut

_ID = re.compile(r"^[\x21-\x7e]{1,255}$")  # the events' Identifier: anything else cannot exist


def _known_shape(value: str, what: str) -> str:
    if not _ID.match(value):
        raise NotFound(f"no such {what}")
    return value


def router() -> Router:
    routes = Router()

    @routes.get(
        "/v1/carts/<cart_id>",
        summary="Read a cart",
        responses={200: answer("The cart", CartOut), **not_found("cart"), **COMMON_ERRORS},
        tags=["carts"],
    )
    @tracer.capture_method
    def get_cart(cart_id: Annotated[str, Path(description="The storefront's cart id")]) -> CartOut:
        return carts.view(current_store(routes).store_id, _known_shape(cart_id, "cart"))

    @routes.get(
        "/v1/orders/<order_id>",
        summary="Read an order (its state derived from every event received)",
        responses={200: answer("The order", OrderOut), **not_found("order"), **COMMON_ERRORS},
        tags=["orders"],
    )
    @tracer.capture_method
    def get_order(order_id: Annotated[str, Path(description="The storefront's order id")]) -> OrderOut:
        return orders.view(current_store(routes).store_id, _known_shape(order_id, "order"))

    return routes
