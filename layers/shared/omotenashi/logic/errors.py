"""Errors the logic raises for the HTTP layer to turn into 4xx/5xx answers."""

from __future__ import annotations


class AuthenticationFailed(Exception):
    """401. The message is safe to show: it never contains a secret or a digest."""


class NotFound(Exception):
    """404."""


class IdempotencyConflict(Exception):
    """409: the key was used before with a different body."""


class ServiceUnavailable(Exception):
    """503: a dependency failed; the caller should retry (with the same Idempotency-Key)."""
