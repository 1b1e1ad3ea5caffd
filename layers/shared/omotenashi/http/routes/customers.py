"""Customer routes: marketing consent (PUT/GET /v1/customers/{customer_id}/consent)."""

# No `from __future__ import annotations`: Powertools reads these annotations at run time.

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from omotenashi.http.openapi import COMMON_ERRORS, answer, not_found
from omotenashi.http.resolver import current_store
from omotenashi.logic.marketing import consent, send
from omotenashi.observability import tracer
from omotenashi.schemas.customers import ConsentIn, ConsentOut, MarketingDecisionOut, MarketingDecisionsOut

CustomerIdPath = Annotated[
    str,
    Path(
        description="The storefront's customer id, or for a guest the email address (case-insensitive); "
        "an unknown customer answers 404"
    ),
]
_UNKNOWN_CUSTOMER = not_found("customer")


def router() -> Router:
    routes = Router()

    @routes.put(
        "/v1/customers/<customer_id>/consent",
        summary="Record marketing consent or its withdrawal, with its proof",
        description="Adds an entry to the customer's consent history (source, wording shown, time). "
        "The newest consented_at decides the current state, whatever order entries arrive in; at equal "
        "times a withdrawal wins. The same entry sent again is stored once. Answers as GET does.",
        responses={200: answer("The customer's consent and its history", ConsentOut), **COMMON_ERRORS},
        tags=["customers"],
    )
    @tracer.capture_method
    def put_consent(customer_id: CustomerIdPath, body: Annotated[ConsentIn, Body(embed=False)]) -> ConsentOut:
        return consent.record(current_store(routes), customer_id, body)

    @routes.get(
        "/v1/customers/<customer_id>/consent",
        summary="Read a customer's marketing consent and its history",
        responses={
            200: answer("The customer's consent and its history", ConsentOut),
            **_UNKNOWN_CUSTOMER,
            **COMMON_ERRORS,
        },
        tags=["customers"],
    )
    @tracer.capture_method
    def get_consent(customer_id: CustomerIdPath) -> ConsentOut:
        return consent.view(current_store(routes), customer_id)

    @routes.get(
        "/v1/customers/<customer_id>/marketing/decisions",
        summary="Why the customer got, or did not get, each marketing email",
        description="Every decision of the marketing gate about this customer (sent; skipped and why; "
        "deferred until when), oldest first, kept 400 days. A customer never decided about has none.",
        responses={200: answer("The decisions", MarketingDecisionsOut), **COMMON_ERRORS},
        tags=["customers"],
    )
    @tracer.capture_method
    def get_marketing_decisions(customer_id: CustomerIdPath) -> MarketingDecisionsOut:
        store = current_store(routes)
        key = consent.customer_key(customer_id)
        found = send.decisions(store.store_id, key)
        return MarketingDecisionsOut(customer_id=key, decisions=[MarketingDecisionOut(**d) for d in found])

    return routes
