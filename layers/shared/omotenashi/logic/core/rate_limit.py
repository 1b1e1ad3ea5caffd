"""At most N auto-replies per customer address per sliding hour (a second line of loop defence).

Admission is idempotent per inquiry: a retried inquiry that was admitted before is admitted again
without taking a second slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from omotenashi.addresses import address_digest
from omotenashi.dal import rate_limits

AUTO_REPLIES_PER_HOUR = 3
WINDOW = timedelta(hours=1)
_ATTEMPTS = 5


def admit_auto_reply(store_id: str, address: str, inquiry_id: str, now: datetime) -> bool:
    key = f"auto_reply#{store_id}#{address_digest(address)}"
    cutoff = (now - WINDOW).timestamp()
    for _ in range(_ATTEMPTS):
        hits, version = rate_limits.read_window(key)
        if inquiry_id in hits:
            return True
        recent = {member: at for member, at in hits.items() if at > cutoff}
        if len(recent) >= AUTO_REPLIES_PER_HOUR:
            return False
        recent[inquiry_id] = now.timestamp()
        try:
            rate_limits.write_window(key, recent, version=version, expires_at=now + WINDOW * 2)
        except rate_limits.WindowChanged:
            continue
        return True
    raise RuntimeError("rate window kept changing; retry later")
