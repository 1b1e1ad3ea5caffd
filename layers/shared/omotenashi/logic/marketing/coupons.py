"""Coupon codes from a store's pool (`omotenashi stores add-discount-codes`): one code per
reference, taken once, shared by cart reminders and review rewards. A pool running low is logged
and counted, so a person refills it before it is empty."""

from __future__ import annotations

from omotenashi.dal import marketing as marketing_data
from omotenashi.observability import logger, metrics

LOW_POOL = 10  # fewer codes seen left than this: logged and counted


def take(store_id: str, pool: str, reference: str) -> str | None:
    """The pool's code for `reference` (the same one again for a retry); None when it is empty."""
    code, left = marketing_data.take_code(store_id, pool, reference)
    if code is None:
        metrics.add_metric(name="DiscountPoolEmpty", unit="Count", value=1)
        logger.warning("discount pool empty", extra={"pool": pool})
    elif 0 <= left < LOW_POOL:
        metrics.add_metric(name="DiscountPoolLow", unit="Count", value=1)
        logger.warning("discount pool running low", extra={"pool": pool, "codes_left_seen": left})
    return code
