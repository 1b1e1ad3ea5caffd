"""Unsubscribe tokens: the signed `?token=` of a marketing email's unsubscribe link (CONTRACT.md).

Pure (standard library only). A token names one customer of one store and is signed with that
store's *unsubscribe key*, a random key of its own (`new_key()` at store creation), never the
store's API signing secret: a leaked link, or a leaked unsubscribe key, gives no API access.

Format (version 1): base64url without padding of

    0x01 | issued_at: uint64 seconds | len: uint8 | store_id UTF-8 | len: uint16 | customer_id UTF-8
         | HMAC-SHA256(key, "omotenashi-unsubscribe\\0" + everything before the tag) (32 bytes)

The leading version byte is signed with the rest, so a later format cannot be passed off as this
one. Typical ids give about 130 characters; the longest ids allowed stay under `MAX_TOKEN_CHARS`.
Tokens do not expire (the link works for as long as the store exists); `issued_at` is kept for
the consent history. Keys rotate: issue with the newest key, verify with every key still held.

Verification, in the order the caller does it:

    store_id = unsubscribe_tokens.peek_store_id(token)     # unauthenticated: routing only
    store = <load the store>                                # absent: the token is invalid (400)
    claim = unsubscribe_tokens.verify(store_unsubscribe_keys, token, store.store_id)

`verify` takes the store whose keys it is given and refuses a token that claims any other store,
even if its signature checks out under one of those keys (two stores that somehow share a key).
Anything forged, altered, truncated, extended, malformed or signed with a key not given raises
`InvalidToken`, a `ValueError` whose message never holds the token or its contents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

VERSION = 1
KEY_BYTES = 32
MIN_KEY_BYTES = 16
MAX_STORE_ID_BYTES = 255  # one length byte (store ids are at most 63 ASCII characters today)
MAX_CUSTOMER_ID_CHARS = 255
_MAX_CUSTOMER_ID_BYTES = 4 * MAX_CUSTOMER_ID_CHARS  # UTF-8: at most 4 bytes a character
_DOMAIN = b"omotenashi-unsubscribe\x00"  # the key signs nothing but unsubscribe tokens
_HEAD = struct.Struct(">BQB")  # version, issued_at seconds, store id length
_CUSTOMER_LEN = struct.Struct(">H")
_TAG_BYTES = hashlib.sha256().digest_size
_MIN_BYTES = _HEAD.size + 1 + _CUSTOMER_LEN.size + 1 + _TAG_BYTES
_MAX_BYTES = _HEAD.size + MAX_STORE_ID_BYTES + _CUSTOMER_LEN.size + _MAX_CUSTOMER_ID_BYTES + _TAG_BYTES
MAX_TOKEN_CHARS = -(-_MAX_BYTES * 4 // 3)  # base64 without padding of the longest token
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


class InvalidToken(ValueError):
    """Forged, altered, malformed, or not signed by the given store's keys. Answer 400, change nothing."""


@dataclass(frozen=True)
class UnsubscribeClaim:
    store_id: str
    customer_id: str
    issued_at: datetime  # UTC, whole seconds


def new_key() -> bytes:
    """A new store's unsubscribe key (32 random bytes); stored with the store, never sent anywhere."""
    return secrets.token_bytes(KEY_BYTES)


def issue(key: bytes, store_id: str, customer_id: str, issued_at: datetime) -> str:
    """The token for one customer of one store. Raises ValueError for an id this format cannot
    carry (empty, not printable, too long) or a naive or pre-1970 `issued_at`."""
    _check_key(key)
    store_bytes = _encode_id(store_id, "store_id", max_chars=MAX_STORE_ID_BYTES)
    if len(store_bytes) > MAX_STORE_ID_BYTES:
        raise ValueError(f"store_id is longer than {MAX_STORE_ID_BYTES} bytes in UTF-8")
    customer_bytes = _encode_id(customer_id, "customer_id", max_chars=MAX_CUSTOMER_ID_CHARS)
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("issued_at must be timezone-aware")
    seconds = int(issued_at.timestamp())
    if seconds < 0:
        raise ValueError("issued_at is before 1970")
    payload = (
        _HEAD.pack(VERSION, seconds, len(store_bytes))
        + store_bytes
        + _CUSTOMER_LEN.pack(len(customer_bytes))
        + customer_bytes
    )
    return base64.urlsafe_b64encode(payload + _tag(key, payload)).rstrip(b"=").decode("ascii")


def peek_store_id(token: str) -> str:
    """The store a token *claims*, unauthenticated: only to find whose keys to verify it with.
    Raises InvalidToken when the token is malformed."""
    return _parse(_payload_and_tag(token)[0]).store_id


def verify(keys: Sequence[bytes], token: str, expected_store_id: str) -> UnsubscribeClaim:
    """The claim of a token signed by one of `keys` (the store `expected_store_id`'s current and
    rotated-out unsubscribe keys, any order) that names that store; InvalidToken otherwise."""
    keys = tuple(keys)
    for key in keys:
        _check_key(key)
    payload, tag = _payload_and_tag(token)
    matched = False
    for key in keys:
        # No early exit: the time taken does not depend on which key matched.
        matched |= hmac.compare_digest(_tag(key, payload), tag)
    if not matched:
        raise InvalidToken("the unsubscribe token is not valid")
    claim = _parse(payload)
    if not hmac.compare_digest(claim.store_id.encode("utf-8"), expected_store_id.encode("utf-8")):
        raise InvalidToken("the unsubscribe token is not valid")
    return claim


def _check_key(key: bytes) -> None:
    # A wrong key is a configuration fault (500), not a bad token: plain ValueError/TypeError.
    if not isinstance(key, bytes | bytearray):
        raise TypeError("an unsubscribe key is bytes")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"an unsubscribe key has at least {MIN_KEY_BYTES} bytes")


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(bytes(key), _DOMAIN + payload, hashlib.sha256).digest()


def _encode_id(value: str, name: str, *, max_chars: int) -> bytes:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    if len(value) > max_chars:
        raise ValueError(f"{name} is longer than {max_chars} characters")
    if not value.isprintable():  # also refuses lone surrogates, which UTF-8 cannot carry
        raise ValueError(f"{name} has a character that is not printable")
    return value.encode("utf-8")


def _payload_and_tag(token: str) -> tuple[bytes, bytes]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not _BASE64URL.match(token):
        raise InvalidToken("the unsubscribe token is malformed")
    if len(token) % 4 == 1:  # no byte string encodes to this length
        raise InvalidToken("the unsubscribe token is malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as error:
        raise InvalidToken("the unsubscribe token is malformed") from error
    # One token, one spelling: unused low bits in the last character would otherwise let
    # several strings decode to the same bytes.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise InvalidToken("the unsubscribe token is malformed")
    if not _MIN_BYTES <= len(raw) <= _MAX_BYTES or raw[0] != VERSION:
        raise InvalidToken("the unsubscribe token is malformed")
    return raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]


def _parse(payload: bytes) -> UnsubscribeClaim:
    """The fields of a version 1 payload, every length exact and every id well-formed."""
    try:
        _version, seconds, store_len = _HEAD.unpack_from(payload, 0)
        offset = _HEAD.size
        store_bytes = payload[offset : offset + store_len]
        offset += store_len
        (customer_len,) = _CUSTOMER_LEN.unpack_from(payload, offset)
        offset += _CUSTOMER_LEN.size
        customer_bytes = payload[offset : offset + customer_len]
        offset += customer_len
        if len(store_bytes) != store_len or len(customer_bytes) != customer_len or offset != len(payload):
            raise InvalidToken("the unsubscribe token is malformed")
        store_id = store_bytes.decode("utf-8")
        customer_id = customer_bytes.decode("utf-8")
        _encode_id(store_id, "store_id", max_chars=MAX_STORE_ID_BYTES)
        _encode_id(customer_id, "customer_id", max_chars=MAX_CUSTOMER_ID_CHARS)
        issued_at = datetime.fromtimestamp(seconds, UTC)
    except InvalidToken:
        raise
    except (struct.error, UnicodeDecodeError, ValueError, OverflowError, OSError) as error:
        raise InvalidToken("the unsubscribe token is malformed") from error
    return UnsubscribeClaim(store_id=store_id, customer_id=customer_id, issued_at=issued_at)
