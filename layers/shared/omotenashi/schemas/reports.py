"""Request rules and answers of the report routes (GET /v1/reports/carts).

A period bound (`from`, `to`) is an ISO 8601 date ("2026-11-01": 00:00 of that day in the store's
time zone) or a date and time with `Z` or an offset ("2026-11-01T00:00:00+09:00"). In a query
string `+` must be sent as `%2B`; an unencoded `+` arrives as a space, and a space before the
offset is read as the `+` it was (nothing else can be meant).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_SPACE_FOR_PLUS = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?) (\d{2}:\d{2})$")


def period_bound(value: str, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a bound names; ValueError with a message for the caller otherwise. A date
    is its first instant in `zone` (00:00; when a clock change skips midnight, the moment of the
    change)."""
    text = _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            return datetime.combine(day, time.min).replace(tzinfo=zone, fold=0).astimezone(UTC)
        if _INSTANT.match(text):
            return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise ValueError("is not a real date or time") from error
    if _NAIVE.match(text):
        raise ValueError("must carry a time zone: Z or an offset such as +09:00 (sent as %2B09:00)")
    raise ValueError(
        "must be an ISO 8601 date (2026-11-01, 00:00 in the store's time zone) "
        "or date and time with Z or an offset (2026-11-01T00:00:00Z)"
    )


class CartReportOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", description="The period's start (included), as an instant in UTC.")
    to: str = Field(description="The period's end (excluded), as an instant in UTC.")
    abandoned: int = Field(
        description="Carts last updated in the period that were abandoned: reminded at least once, "
        "or still active (items at their last update and no order since). Not counted: emptied carts "
        "and carts ordered before any reminder was sent."
    )
    reminded: int = Field(description="Of those, carts sent at least one reminder.")
    recovered: int = Field(description="Of those, carts recovered by an order within 7 days of a reminder.")
    recovery_rate: str = Field(
        description='recovered / reminded as a decimal string with 4 places, rounded half up ("0.3333"); '
        '"0.0000" when none was reminded.'
    )
    recovered_revenue: dict[str, str] = Field(
        description="Per ISO 4217 currency, the exact sum of the recovering orders' totals as a decimal "
        'string in the currency\'s minor units ({"JPY": "3240", "USD": "16.20"}); {} when none.'
    )
