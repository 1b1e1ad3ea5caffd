"""The cart report (GET /v1/reports/carts): what the abandoned-cart flow earns over a period.

Carts are counted as a cohort by their last update (`updated_at`, the storefront's time) in the
half-open period [from, to), each with everything that has happened to it since:

- **abandoned**: its last update falls in the period and it was abandoned: it was reminded at least
  once, or it is still active (it had items at its last update and no order ended it). Not
  abandoned: an emptied cart never reminded, and a cart ordered before any reminder went out (as
  Klaviyo counts started checkouts that were not completed: the customer finished on their own).
  A reminded cart counts whatever became of it later (ordered late, emptied, recovered), so that
  recovered <= reminded <= abandoned and the rate is honest. A cart still active counts even if
  its first reminder is not due yet: a period ending within the last hour or so includes carts
  whose customers may still be shopping.
- **reminded**: sent at least one reminder (for any of its updates).
- **recovered**: an order within 7 days after a reminder recovered it (`recovered_order_id`).
- **recovery_rate**: recovered / reminded, a decimal string with 4 places rounded half up;
  "0.0000" when none was reminded.
- **recovered_revenue**: per currency, the exact sum of the recovering orders' totals (Decimal,
  never float), as strings in the currency's minor units.

Cost: one Query on the store's partition of CartsTable (never a Scan), every page; its key holds
no time, so it reads every cart the store has, whatever the period (dal/carts.abandoned_carts).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from omotenashi import clock
from omotenashi.dal import carts as cart_data
from omotenashi.domain import Store
from omotenashi.logic.core.errors import InvalidFields
from omotenashi.messaging.money import minor_units
from omotenashi.schemas.reports import CartReportOut, period_bound

MAX_PERIOD = timedelta(days=366)
_RATE_PLACES = Decimal("0.0001")


def cart_report(store: Store, from_text: str, to_text: str) -> CartReportOut:
    since, until = _period(store, from_text, to_text)
    abandoned = reminded = recovered = 0
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for cart in cart_data.abandoned_carts(store.store_id, clock.instant(since), clock.instant(until)):
        abandoned += 1
        reminded += cart.reminded
        if cart.recovered_order_id:
            recovered += 1
            if cart.recovered_amount and cart.recovered_currency:  # always set together
                revenue[cart.recovered_currency] += Decimal(cart.recovered_amount)
    rate = Decimal(recovered) / Decimal(reminded) if reminded else Decimal(0)
    return CartReportOut.model_validate(
        {
            "from": clock.isoformat_precise(since),
            "to": clock.isoformat_precise(until),
            "abandoned": abandoned,
            "reminded": reminded,
            "recovered": recovered,
            "recovery_rate": str(rate.quantize(_RATE_PLACES, rounding=ROUND_HALF_UP)),
            "recovered_revenue": {
                currency: str(total.quantize(Decimal(1).scaleb(-minor_units(currency))))
                for currency, total in sorted(revenue.items())
            },
        }
    )


def _period(store: Store, from_text: str, to_text: str) -> tuple[datetime, datetime]:
    """[from, to) as UTC instants; otherwise 422 naming each bad bound as the validation names query
    parameters ("query.from", "query.to"). A date is 00:00 in the store's time zone."""
    zone = ZoneInfo(store.time_zone)
    errors: dict[str, str] = {}
    bounds: dict[str, datetime] = {}
    for field, text in (("from", from_text), ("to", to_text)):
        try:
            bounds[field] = period_bound(text, zone)
        except ValueError as error:
            errors[f"query.{field}"] = str(error)
    if not errors:
        if bounds["to"] <= bounds["from"]:
            errors["query.to"] = "must be after from"
        elif bounds["to"] - bounds["from"] > MAX_PERIOD:
            errors["query.to"] = "must be at most 366 days after from"
    if errors:
        raise InvalidFields(**errors)
    return bounds["from"], bounds["to"]
