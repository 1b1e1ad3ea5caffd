"""What the logic raises when a request cannot be done, as a table the API maps in one place.

Each error names its HTTP status and error `type`; logic raises meaning, never HTTP. A failed AWS
call is not one of these: it is `dal.errors.DataAccessError`, which the API answers with 503.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base: the message is safe to show the caller (never a secret, a digest or personal data)."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "bad_request"
    retry_after_seconds: ClassVar[int | None] = None


class AuthenticationFailed(DomainError):
    status = 401
    type = "authentication_failed"


class InvalidFields(DomainError):
    """A request that passed the schema but breaks a rule the schema cannot see (one that needs the
    path or stored data). Answered as a schema violation: 422, naming each field."""

    status = 422
    type = "validation_error"

    def __init__(self, **fields: str) -> None:
        super().__init__(f"invalid fields: {', '.join(fields)}")
        self.fields = [{"field": name, "message": message} for name, message in fields.items()]


class NotFound(DomainError):
    status = 404
    type = "not_found"


class IdempotencyConflict(DomainError):
    """The key was used before with a different body."""

    status = 409
    type = "idempotency_conflict"


class ServiceUnavailable(DomainError):
    """The request met a transient state (another request is settling it); retry the same one."""

    status = 503
    type = "service_unavailable"
    retry_after_seconds = 2


class InsufficientPoints(DomainError):
    """A redemption or negative adjustment larger than the available points: nothing was written."""

    status = 409
    type = "insufficient_points"
