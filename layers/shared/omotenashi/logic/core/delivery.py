"""Send one email exactly once, keyed by a delivery id (staff alerts, staff replies).

Same failure rules as the auto-reply: a failed claim or send changes nothing (the send's claim is
released); recording "sent" is retried in place because the email is already out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from omotenashi import clock
from omotenashi.dal import deliveries, mailer
from omotenashi.dal.errors import DataAccessError, MailerError
from omotenashi.domain import OutboundEmail
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


def send_once(delivery_id: str, compose: Callable[[], OutboundEmail]) -> Sent:
    now = clock.now()
    if not deliveries.claim(delivery_id, now=now, lease_until=now + LEASE):
        state, message_id = deliveries.recorded(delivery_id)
        if state in ("sent", "skipped"):
            return Sent(message_id, now=False)
        raise DeliveryInProgress(delivery_id)
    try:
        email = compose()
        message_id = mailer.send(email)
    except MailerError:
        try:
            deliveries.release(delivery_id)
        except DataAccessError:
            logger.warning("releasing a delivery claim failed", extra={"delivery_id": delivery_id})
        raise
    except Exception:
        deliveries.release(delivery_id)  # a rendering bug: nothing was sent
        raise
    for attempt in range(_RECORD_ATTEMPTS):
        try:
            deliveries.mark(delivery_id, state="sent", message_id=message_id, at=clock.now())
            break
        except DataAccessError:
            if attempt == _RECORD_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    return Sent(message_id, now=True)
