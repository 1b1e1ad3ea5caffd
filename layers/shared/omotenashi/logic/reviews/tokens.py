"""The `{token}` of a review link: proof, for the store's own review form, that the link was made by
Omotenashi for this order, item and customer (so a form can accept a review as from a verified
buyer without a login).

    token  = "v1." + <expires, unix seconds> + "." + <hex HMAC-SHA256>
    digest = HMAC-SHA256(key = the store's signing secret (UTF-8),
                         msg = "review.<store_id>.<order_id>.<sku>.<customer_id>.<expires>")

The key is the store's API signing secret (the newest when the store holds two during a rotation),
which the store's server already has; the "review." prefix keeps these messages apart from request
signatures, which start with a number. docs/reviews.md has a verification example.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

VALID_DAYS = 180  # a review link works for half a year after its email
_TOKEN = re.compile(r"^v1\.([0-9]{1,12})\.([0-9a-f]{64})$")


def _digest(secret: str, store_id: str, order_id: str, sku: str, customer_id: str, expires: int) -> str:
    message = f"review.{store_id}.{order_id}.{sku}.{customer_id}.{expires}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, *, store_id: str, order_id: str, sku: str, customer_id: str, expires: int) -> str:
    return f"v1.{expires}.{_digest(secret, store_id, order_id, sku, customer_id, expires)}"


def verify(
    token: str,
    secrets: Iterable[str],
    *,
    store_id: str,
    order_id: str,
    sku: str,
    customer_id: str,
    now_epoch: float,
) -> bool:
    """What a store's review form does (Python; docs/reviews.md shows the same): the token is well
    formed, unexpired, and made with one of the store's secrets for exactly these values."""
    match = _TOKEN.match(token)
    if match is None or int(match[1]) < now_epoch:
        return False
    found = False
    for secret in secrets:
        expected = _digest(secret, store_id, order_id, sku, customer_id, int(match[1]))
        found |= hmac.compare_digest(expected, match[2])
    return found
