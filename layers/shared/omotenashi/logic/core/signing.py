"""Request signatures: HMAC-SHA256 over "<t>.<METHOD>.<path>.<raw body>" (shared/CONTRACT.md)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from omotenashi.logic.core.errors import AuthenticationFailed

TOLERANCE_SECONDS = 300
_HEX_DIGEST = re.compile(r"^[0-9a-fA-F]{64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True)
class ParsedSignature:
    timestamp: int
    digests: tuple[str, ...]


def parse_header(header: str) -> ParsedSignature:
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise AuthenticationFailed("X-Omotenashi-Signature is malformed")
        if name == "t":
            if timestamp is not None or not _TIMESTAMP.match(value):
                raise AuthenticationFailed("X-Omotenashi-Signature has an invalid t")
            timestamp = int(value)
        elif name == "v1":
            if not _HEX_DIGEST.match(value):
                raise AuthenticationFailed("X-Omotenashi-Signature has an invalid v1 digest")
            digests.append(value.lower())
        # Unknown schemes are ignored, as Stripe does, so a future v2 can be sent alongside v1.
    if timestamp is None:
        raise AuthenticationFailed("X-Omotenashi-Signature lacks t")
    if not digests:
        raise AuthenticationFailed("X-Omotenashi-Signature lacks a v1 digest")
    if len(digests) > 8:
        raise AuthenticationFailed("X-Omotenashi-Signature has too many digests")
    return ParsedSignature(timestamp=timestamp, digests=tuple(digests))


def compute(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_header(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    """The header value a client sends (used by the CLI, examples, tests and benchmarks)."""
    return f"t={timestamp},v1={compute(secret, timestamp, method, path, body)}"


def check_fresh(signature: ParsedSignature, real_epoch: float) -> None:
    if abs(real_epoch - signature.timestamp) > TOLERANCE_SECONDS:
        raise AuthenticationFailed("X-Omotenashi-Signature timestamp is outside the 300 second tolerance")


def matches(
    signature: ParsedSignature, secrets: Iterable[str], method: str, paths: Iterable[str], body: bytes
) -> bool:
    """Constant-time comparison of every (secret, path form) against every presented digest."""
    secrets, paths = tuple(secrets), tuple(paths)  # iterated once per path: never a spent generator
    found = False
    for path in paths:
        for secret in secrets:
            expected = compute(secret, signature.timestamp, method, path, body)
            for presented in signature.digests:
                # No early exit: the time taken does not depend on which entry matched.
                found |= hmac.compare_digest(expected, presented)
    return found
