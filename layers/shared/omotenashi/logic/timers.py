"""The every-minute sweep: every timer that is due, each found by a Query on its sparse index
(SLA alerts on inquiries, abandoned-cart reminders on carts and review requests on orders through
the same due-reminders mechanism, loyalty timers on customers), so a
run costs what is due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omotenashi import clock
from omotenashi.logic.inquiries import sla_sweep
from omotenashi.logic.loyalty import schedule as loyalty_schedule
from omotenashi.logic.marketing import cart_reminders
from omotenashi.logic.reviews import requests as review_requests


def run_due(now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    alerts = sla_sweep.run_sweep(now)
    reminders = cart_reminders.run_sweep(now)
    loyalty = loyalty_schedule.run_sweep(now)
    reviews = review_requests.run_sweep(now)
    return {
        "enqueued": alerts.enqueued,
        "skipped": alerts.skipped,
        "items_read": alerts.items_read,
        "cart_reminders_enqueued": reminders,
        "loyalty_timers_enqueued": loyalty,
        "review_requests_enqueued": reviews,
    }
