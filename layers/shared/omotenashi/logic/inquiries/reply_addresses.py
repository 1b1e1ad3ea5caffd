"""Reply-by-email addresses (issue 11): the `Reply-To` that routes an answer back to its inquiry.

Pure (standard library only). An address is `reply+<token>@<the store's receiving domain>`:

    token = kind (1: "c" the customer's, "s" a staff member's) | the inquiry id's 26 characters
            | 16 characters of base32 (lower case) of the first 10 bytes of
              HMAC-SHA256(reply key, "omotenashi-reply\\0" kind \\0 store_id \\0 inquiry_id \\0 bound)

`bound` is empty for a customer's address; for a staff member's it is their lower-cased address,
so a staff address works only when mail comes from that member (the caller also checks that the
sender is one of the store's staff addresses). The local part is 49 characters (RFC 5321 allows
64) in lower-case letters and digits only: mail systems that fold the case of local parts change
nothing. The store is named by the domain the mail came to, and signed in, so a token made for
one store is refused by another.

The reply key is derived from the store's unsubscribe keys (random, never the API secret): one
derived key per unsubscribe key, so rotating those rotates these; addresses are made with the
newest and read with every key still held.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

PREFIX = "reply+"
INQUIRY_ID_PREFIX = "inq_"
_ID_CHARS = 26  # logic/core/idempotency.entry_id: "inq_" + 26 lower-case base32 characters
_TAG_BYTES = 10  # 80 bits: a forged address has one chance in 2**80
_TAG_CHARS = 16  # base32 of 10 bytes, no padding
_KINDS = {"c": "customer", "s": "staff"}
_LOCAL_PART = re.compile(rf"reply\+([cs])([a-z2-7]{{{_ID_CHARS}}})([a-z2-7]{{{_TAG_CHARS}}})")
MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1

Kind = Literal["customer", "staff"]


@dataclass(frozen=True)
class ReplyTarget:
    kind: Kind
    inquiry_id: str


def _reply_key(unsubscribe_key: bytes) -> bytes:
    return hmac.new(unsubscribe_key, b"omotenashi-reply-key", hashlib.sha256).digest()


def _tag(key: bytes, kind: str, store_id: str, inquiry_id: str, bound: str) -> str:
    message = "\x00".join(("omotenashi-reply", kind, store_id, inquiry_id, bound)).encode()
    digest = hmac.new(_reply_key(key), message, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.b32encode(digest).decode("ascii").lower()


def _address(
    keys: Sequence[bytes], kind: str, store_id: str, inquiry_id: str, bound: str, domain: str
) -> str:
    if not keys:
        raise ValueError("the store has no key to sign reply addresses with")
    suffix = inquiry_id.removeprefix(INQUIRY_ID_PREFIX)
    if not inquiry_id.startswith(INQUIRY_ID_PREFIX) or not re.fullmatch(rf"[a-z2-7]{{{_ID_CHARS}}}", suffix):
        raise ValueError("not an inquiry id")
    tag = _tag(keys[-1], kind, store_id, inquiry_id, bound)
    return f"{PREFIX}{kind}{suffix}{tag}@{domain}"


def customer_address(keys: Sequence[bytes], *, store_id: str, inquiry_id: str, domain: str) -> str:
    """The Reply-To of the emails the customer gets (auto-reply, staff replies)."""
    return _address(keys, "c", store_id, inquiry_id, "", domain)


def staff_address(keys: Sequence[bytes], *, store_id: str, inquiry_id: str, staff: str, domain: str) -> str:
    """The Reply-To of a staff member's notice or alert: answers only from `staff` count."""
    return _address(keys, "s", store_id, inquiry_id, staff.strip().lower(), domain)


def read(local_part: str, keys: Sequence[bytes], *, store_id: str, sender: str) -> ReplyTarget | None:
    """The inquiry (and whose reply) a mail to `reply+<token>` is for, or None: not a reply
    address, malformed, forged, another store's, or a staff address used by someone else."""
    match = _LOCAL_PART.fullmatch(local_part.strip().lower())
    if match is None:
        return None
    kind, suffix, presented = match[1], match[2], match[3]
    inquiry_id = INQUIRY_ID_PREFIX + suffix
    bound = sender.strip().lower() if kind == "s" else ""
    found = False
    for key in keys:  # no early exit: the time taken does not tell which key matched
        found |= hmac.compare_digest(_tag(key, kind, store_id, inquiry_id, bound), presented)
    return ReplyTarget(_KINDS[kind], inquiry_id) if found else None  # type: ignore[arg-type]
