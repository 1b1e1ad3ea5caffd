"""When a human reply is due. One function, used by intake and by the auto-reply text."""

from __future__ import annotations

from datetime import datetime

from omotenashi.domain import Store
from omotenashi.logic.sla import reply_due_at as _sla_reply_due_at


def reply_due_at(store: Store, received_at: datetime, priority: str) -> datetime:
    return _sla_reply_due_at(store, received_at, priority)
