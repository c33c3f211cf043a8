"""Errors the business rules raise. They know nothing of HTTP: the server maps each kind
to a status code in one place (``mochung.server.http.middlewares``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class DomainError(Exception):
    """Base of every refusal a client can cause; ``message`` is safe to show to them.
    ``code``, when a subclass sets it, is a machine-readable name the error body carries."""

    code: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """The request breaks a rule; ``field`` names the offending input when there is one.
    ``details`` lists (field, message) pairs when several inputs are wrong at once (a body
    that fails validation); they are shown instead of ``field``."""

    def __init__(
        self, message: str, field: str | None = None, details: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.details = tuple(details)


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class RsvpClosed(Conflict):
    """The page takes no RSVP now: switched off, or past its deadline (409 ``rsvp_closed``)."""

    code = "rsvp_closed"


class TooLarge(DomainError):
    pass


class UnsupportedMediaType(DomainError):
    pass


class PaymentVerificationFailed(DomainError):
    """``reason`` is machine-readable; ``payment`` is what the client should now show."""

    def __init__(self, message: str, reason: str, payment: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.payment = payment


class RateLimited(DomainError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DependencyDown(DomainError):
    """A service we depend on (database, Redis, S3, PortOne) did not answer."""
