"""When a human reply is due. One function, used by intake and by the auto-reply text."""

from __future__ import annotations

from datetime import datetime, timedelta

from omotenashi.domain import Store


def reply_due_at(store: Store, received_at: datetime, priority: str) -> datetime:
    # Business calendars and per-priority hours arrive with the SLA engine; until then every
    # priority gets the store's SLA hours on a 24x7 clock.
    del priority
    return received_at + timedelta(hours=store.sla_hours)
