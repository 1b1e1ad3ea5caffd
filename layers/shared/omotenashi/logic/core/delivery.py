"""Send one email exactly once, keyed by a delivery id (every email: auto-replies, staff alerts,
digests, staff replies).

A failed claim or send changes nothing (the send's claim is released); recording "sent" is retried
in place because the email is already out. The email is composed through the one skeleton
(messaging.compose) only once the claim is held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from omotenashi import clock
from omotenashi.dal import deliveries, mailer
from omotenashi.dal.errors import DataAccessError, MailerError
from omotenashi.messaging.compose import Draft, compose
from omotenashi.observability import logger

# Longer than a worker's timeout (30 s), so a live worker never loses its claim; shorter than the
# queues' visibility timeout (180 s), so a redelivery after a crash finds the lease run out and does
# not burn its receive count against a dead claim (tests/infrastructure checks both bounds).
LEASE = timedelta(minutes=2)
_RECORD_ATTEMPTS = 4


class DeliveryInProgress(Exception):
    """Another worker holds a live claim on this delivery; retry after its lease."""


@dataclass(frozen=True)
class Sent:
    message_id: str | None  # SES's id of the email (also when an earlier attempt sent it)
    now: bool  # this call sent it (False: it had gone out before)


def delivery_id(kind: str, store_id: str, *parts: str | int) -> str:
    """The key one email is sent once under: its kind, its store, and what makes it unique (the
    inquiry, the reply, the SLA round and alert, the recipient)."""
    return "#".join((kind, store_id, *(str(part) for part in parts)))


def send_once(key: str, draft: Callable[[], Draft]) -> Sent:
    """Send the email `draft()` describes unless the delivery `key` went out before."""
    now = clock.now()
    if not deliveries.claim(key, now=now, lease_until=now + LEASE):
        state, message_id = deliveries.recorded(key)
        if state == "sent":
            return Sent(message_id, now=False)
        raise DeliveryInProgress(key)
    try:
        email = compose(draft(), sent_at=clock.now())
        message_id = mailer.send(email)
    except MailerError:
        try:
            deliveries.release(key)
        except DataAccessError:
            logger.warning("releasing a delivery claim failed", extra={"delivery_id": key})
        raise
    except Exception:
        deliveries.release(key)  # a rendering bug: nothing was sent
        raise
    for attempt in range(_RECORD_ATTEMPTS):
        try:
            deliveries.mark(key, state="sent", message_id=message_id, at=clock.now())
            break
        except DataAccessError:
            if attempt == _RECORD_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    return Sent(message_id, now=True)
