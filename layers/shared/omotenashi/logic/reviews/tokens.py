"""The `{token}` of a review link: proof, for the store's own review form, that the link was made by
Omotenashi for this order, item and customer (so a form can accept a review as from a verified
buyer without a login).

    token  = "v1." + <expires, unix seconds, no leading zero> + "." + <hex HMAC-SHA256, lower case>
    digest = HMAC-SHA256(key = the store's signing secret (UTF-8),
                         msg = "review\n<store_id>\n<order_id>\n<sku>\n<customer_id>\n<expires>")

The fields are joined by newlines, which none of them can contain (ids are printable ASCII, a
guest's customer id is an email address), so no two different sets of values sign the same
message. The key is the store's API signing secret (the newest when the store holds two during a
rotation), which the store's server already has; the "review" line keeps these messages apart from
request signatures, which start with a number. docs/reviews.md has a verification example.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

VALID_DAYS = 180  # a review link works for half a year after its email
_TOKEN = re.compile(r"v1\.([1-9][0-9]{0,11})\.([0-9a-f]{64})")  # fullmatch; one spelling per token


def _digest(secret: str, store_id: str, order_id: str, sku: str, customer_id: str, expires: int) -> str:
    message = "\n".join(("review", store_id, order_id, sku, customer_id, str(expires))).encode()
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
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None or int(match[1]) < now_epoch:
        return False
    found = False
    for secret in secrets:
        expected = _digest(secret, store_id, order_id, sku, customer_id, int(match[1]))
        found |= hmac.compare_digest(expected, match[2])
    return found
