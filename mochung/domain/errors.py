"""Errors the business rules raise. They know nothing of HTTP: the server maps each kind
to a status code in one place (``mochung.server.middlewares``)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal a client can cause; ``message`` is safe to show to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """The request breaks a rule; ``field`` names the offending input when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class TooLarge(DomainError):
    pass


class UnsupportedMediaType(DomainError):
    pass


class PaymentVerificationFailed(DomainError):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RateLimited(DomainError):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DependencyDown(DomainError):
    """A service we depend on (database, Redis, S3, PortOne) did not answer."""
