"""Reports: what the store's flows earn (GET /v1/reports/carts)."""

# No `from __future__ import annotations`: Powertools reads these annotations at run time.

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from omotenashi.http.openapi import COMMON_ERRORS, answer
from omotenashi.http.resolver import current_store
from omotenashi.logic.commerce import reports
from omotenashi.observability import tracer
from omotenashi.schemas.reports import CartReportOut

_BOUND = "ISO 8601 date (00:00 in the store's time zone) or date and time with Z or an offset (send + as %2B)"
_CART_REPORT = """Counts the store's carts last updated in the period [from, to) (the storefront's
`updated_at`), each with everything that happened to it since (a cohort):

- `abandoned`: reminded at least once, or still active (items at its last update, no order since).
  Emptied carts and carts ordered before any reminder are not abandoned (the customer finished or
  gave up on their own). A still-active cart counts even before its first reminder is due.
- `reminded`: sent at least one reminder. `recovered`: an order within 7 days after a reminder
  recovered it. So recovered ≤ reminded ≤ abandoned.
- `recovery_rate`: recovered / reminded, a decimal string with 4 places rounded half up
  (`"0.0000"` when none was reminded).
- `recovered_revenue`: per currency, the exact sum of the recovering orders' totals, as decimal
  strings (`{"JPY": "3240"}`).

`from` and `to` are both required; `from` < `to`, at most 366 days apart; otherwise 422 naming the
field (`query.from`, `query.to`).

Cost: one DynamoDB Query on the store's carts (never a Scan), paginated and eventually consistent.
It reads every cart the store has, whatever the period, so ask for it as a report, not on every
page view."""


def router() -> Router:
    routes = Router()

    @routes.get(
        "/v1/reports/carts",
        summary="Abandoned-cart report: abandoned, reminded, recovered, rate and revenue for a period",
        description=_CART_REPORT,
        responses={200: answer("The period's figures", CartReportOut), **COMMON_ERRORS},
        tags=["reports"],
    )
    @tracer.capture_method
    def cart_report(
        from_: Annotated[str, Query(alias="from", description=f"Start (included): {_BOUND}")],
        to: Annotated[str, Query(description=f"End (excluded): {_BOUND}")],
    ) -> CartReportOut:
        return reports.cart_report(current_store(routes), from_, to)

    return routes
