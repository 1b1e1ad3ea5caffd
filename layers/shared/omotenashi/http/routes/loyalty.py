"""Loyalty routes: a customer's points balance and tier, the ledger, redemptions and staff
adjustments (/v1/customers/{customer_id}/loyalty...)."""

# No `from __future__ import annotations`: Powertools reads these annotations at run time.

import re
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from omotenashi.http.openapi import COMMON_ERRORS, answer, not_found
from omotenashi.http.resolver import current_store
from omotenashi.http.responses import idempotent_response
from omotenashi.http.routes.customers import CustomerIdPath
from omotenashi.http.routes.inquiries import IdempotencyKey
from omotenashi.logic.core.errors import NotFound
from omotenashi.logic.core.idempotency import request_fingerprint
from omotenashi.logic.loyalty import accounts, views
from omotenashi.logic.marketing.consent import customer_key
from omotenashi.observability import tracer
from omotenashi.schemas.loyalty import (
    AdjustmentIn,
    AdjustmentOut,
    LedgerOut,
    LoyaltyOut,
    RedemptionCancelOut,
    RedemptionIn,
    RedemptionOut,
)

_ID = re.compile(r"^[\x21-\x7e]{1,255}$")  # RedemptionIn's Identifier
_INSUFFICIENT = {
    409: answer(
        "insufficient_points: more than the available points (nothing was written); "
        "or idempotency_conflict: the id or key was used with another body"
    )
}


def router() -> Router:
    routes = Router()

    @routes.get(
        "/v1/customers/<customer_id>/loyalty",
        summary="A customer's points, tier and what expires when",
        description="available may be below zero after a refund took back points already spent; "
        "redeemable never is. A customer without points answers zeros and tier null.",
        responses={200: answer("The balance", LoyaltyOut), **COMMON_ERRORS},
        tags=["loyalty"],
    )
    @tracer.capture_method
    def get_loyalty(customer_id: CustomerIdPath) -> LoyaltyOut:
        return views.balance(current_store(routes), customer_key(customer_id))

    @routes.get(
        "/v1/customers/<customer_id>/loyalty/ledger",
        summary="The customer's points ledger, newest first",
        description="available equals the sum of the available entries, pending the sum of the "
        "pending ones, always. Pass next_cursor as cursor for the next page.",
        responses={200: answer("One page of entries", LedgerOut), **COMMON_ERRORS},
        tags=["loyalty"],
    )
    @tracer.capture_method
    def get_ledger(
        customer_id: CustomerIdPath,
        limit: Annotated[int, Query(ge=1, le=100, description="Entries per page (default 25)")] = 25,
        cursor: Annotated[
            str | None, Query(max_length=2000, description="next_cursor of the page before")
        ] = None,
    ) -> LedgerOut:
        return views.ledger(current_store(routes), customer_key(customer_id), limit, cursor)

    @routes.post(
        "/v1/customers/<customer_id>/loyalty/redemptions",
        summary="Redeem points (never below zero available)",
        description="201 with the available points after it, or 409 insufficient_points with nothing "
        "written. Idempotent by redemption_id (and Idempotency-Key when sent).",
        responses={201: answer("Redeemed", RedemptionOut), **_INSUFFICIENT, **COMMON_ERRORS},
        tags=["loyalty"],
    )
    @tracer.capture_method
    def redeem(
        customer_id: CustomerIdPath,
        body: Annotated[RedemptionIn, Body(embed=False)],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RedemptionOut]:
        result = accounts.redeem(
            current_store(routes),
            customer_key(customer_id),
            body.redemption_id,
            body.points,
            body.order_id,
            request_fingerprint(routes.current_event.json_body),
            idempotency_key,
        )
        return idempotent_response(result)

    @routes.delete(
        "/v1/customers/<customer_id>/loyalty/redemptions/<redemption_id>",
        summary="Cancel a redemption: its points come back, once",
        responses={
            200: answer("Cancelled", RedemptionCancelOut),
            **not_found("redemption"),
            **COMMON_ERRORS,
        },
        tags=["loyalty"],
    )
    @tracer.capture_method
    def cancel_redemption(
        customer_id: CustomerIdPath,
        redemption_id: Annotated[str, Path(description="The redemption_id given when redeeming")],
    ) -> RedemptionCancelOut:
        if not _ID.match(redemption_id):
            raise NotFound("no such redemption")  # no redemption can have this id
        result = accounts.cancel_redemption(current_store(routes), customer_key(customer_id), redemption_id)
        return RedemptionCancelOut.model_validate(result)

    @routes.post(
        "/v1/customers/<customer_id>/loyalty/adjustments",
        summary="A staff adjustment of available points, with a reason and an author",
        description="Positive: an earning (it extends the points' expiry). Negative: the redemption "
        "rule (409 insufficient_points, nothing written). Idempotent by adjustment_id.",
        responses={201: answer("Adjusted", AdjustmentOut), **_INSUFFICIENT, **COMMON_ERRORS},
        tags=["loyalty"],
    )
    @tracer.capture_method
    def adjust(
        customer_id: CustomerIdPath,
        body: Annotated[AdjustmentIn, Body(embed=False)],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[AdjustmentOut]:
        result = accounts.adjust(
            current_store(routes),
            customer_key(customer_id),
            body.adjustment_id,
            body.points,
            body.reason,
            body.author,
            request_fingerprint(routes.current_event.json_body),
            idempotency_key,
        )
        return idempotent_response(result)

    return routes
