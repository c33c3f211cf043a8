"""The ports: every interface the domain and the layers above need from the outside world,
declared here so that nothing inward imports an adapter. ``mochung.adapters`` holds the two
implementations of each (embedded and distributed); the composition roots
(``mochung.server.app`` and ``mochung.tasks.worker``) pick one from settings.

Each port's errors live beside it: callers catch these, whichever implementation raised.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeAlias, runtime_checkable

# --- file storage -------------------------------------------------------------------------

StorageData: TypeAlias = bytes | AsyncIterable[bytes]


class StorageError(Exception):
    """Base of this module's errors; messages never contain credentials."""


class InvalidStorageKey(StorageError, ValueError):
    """A key that is not a safe relative path; raised before any I/O happens."""


class StoredObjectNotFound(StorageError, LookupError):
    """``read`` of a key that holds nothing."""


class StorageUnavailable(StorageError):
    """``check`` failed: the folder is not writable or the bucket cannot be reached."""


@runtime_checkable
class FileStorage(Protocol):
    """Where uploaded files and page snapshots live. Every method validates its key first."""

    name: str  # "local" or "s3"

    async def put(self, key: str, data: StorageData, content_type: str) -> None:
        """Store ``data`` (bytes or an async stream of chunks) at ``key``, replacing what was there.

        A reader never sees a half-written object: it sees the old one or the new one.
        """
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; deleting something absent is not an error."""
        ...

    async def url(self, key: str) -> str:
        """The URL a client (browser, app) fetches the object from."""
        ...

    async def read(self, key: str) -> bytes:
        """The whole object; raises StoredObjectNotFound when absent. For snapshots and tests."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def check(self) -> str:
        """Health probe: ``"ok"``, or raise StorageUnavailable with a message safe to show."""
        ...


# --- payment provider (PortOne V1, V2 or the embedded sandbox) -----------------------------

class ProviderStatus(StrEnum):
    """A payment's state as the provider reports it, the same words for V1 and V2."""

    READY = "ready"  # created, not paid (V2 READY, V1 ready)
    PENDING = "pending"  # the PG is still confirming (V2 PAY_PENDING)
    VIRTUAL_ACCOUNT_ISSUED = "virtual_account_issued"  # waiting for a bank deposit
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"  # fully cancelled (refunded in full)
    PARTIAL_CANCELLED = "partial_cancelled"
    UNKNOWN = "unknown"  # a status this code does not know: never treated as paid


class PaymentProviderError(Exception):
    """Base of every payment provider failure. Messages never contain secrets or tokens."""


class PaymentNotFound(PaymentProviderError):
    def __init__(self, provider_payment_id: str) -> None:
        super().__init__(f"the payment provider has no payment {provider_payment_id!r}")
        self.provider_payment_id = provider_payment_id


class ProviderUnavailable(PaymentProviderError):
    """The provider could not answer: timeout, refused connection, 5xx, unreadable body.

    The outcome of the call is unknown; retrying later is the right move.
    """


class ProviderAuthError(PaymentProviderError):
    """The provider refused our credentials (401/403): a configuration problem."""


class ProviderRejected(PaymentProviderError):
    """The provider understood the request and refused it (already cancelled, amount too large, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"the payment provider refused the request ({code}): {message}")
        self.code = code
        self.provider_message = message


@dataclass(frozen=True)
class ProviderPayment:
    """One payment as the provider knows it.

    ``id`` is the id the provider is asked with (V2 paymentId, V1 imp_uid); ``merchant_uid``
    is the merchant's own id for it (V2: the paymentId itself, which the merchant chose;
    V1: merchant_uid). Compare ``merchant_uid`` with the stored one before trusting it.
    """

    id: str
    merchant_uid: str
    status: ProviderStatus
    amount: int  # the total charged
    cancelled_amount: int
    currency: str
    raw: dict[str, Any] = field(repr=False, compare=False)
    failure_reason: str | None = None  # the provider's words when status is failed

    @property
    def is_paid(self) -> bool:
        return self.status is ProviderStatus.PAID

    @property
    def cancellable_amount(self) -> int:
        return max(self.amount - self.cancelled_amount, 0)


class PaymentProvider(Protocol):
    """What the payment flows need from PortOne (any API version, or the sandbox)."""

    name: str  # "portone-v2", "portone-v1" or "sandbox"
    # V2 webhooks are signed (Standard Webhooks) and the browser pays with paymentId = our
    # merchant uid; V1 (iamport) webhooks are unsigned and payments are known by imp_uid.
    signs_webhooks: bool
    pays_by_merchant_uid: bool

    async def prepare(self, merchant_uid: str, *, amount: int, currency: str) -> None:
        """Register the expected amount before the browser pays (PortOne's pre-registration).

        PortOne then refuses a payment for this merchant uid with any other amount. Best
        effort: the server still verifies the amount itself after payment.
        """
        ...

    async def fetch(self, provider_payment_id: str) -> ProviderPayment:
        """The provider's current record; raises PaymentNotFound for an unknown id."""
        ...

    async def cancel(
        self,
        provider_payment_id: str,
        *,
        amount: int | None,
        reason: str,
        current_cancellable_amount: int | None = None,
    ) -> ProviderPayment:
        """Cancel in full (``amount=None``) or in part; returns the record after the cancel.

        ``current_cancellable_amount`` makes the provider refuse the cancel when the
        cancellable balance is not what we believe it is, so two concurrent refunds can
        never both go through.
        """
        ...


@dataclass(frozen=True)
class WebhookEvent:
    """What a webhook claims, reduced to what the flows may use: which payment to re-fetch."""

    type: str  # V2 e.g. "Transaction.Paid"; V1 "iamport.<status>"
    payment_id: str  # V2 paymentId, or V1 imp_uid
    merchant_uid: str | None  # V1 only; V2's paymentId is the merchant uid


# --- chat event bus ---------------------------------------------------------------------------

Message = dict[str, Any]
Receiver = Callable[[str, Message], None]  # (channel, message), called on the subscriber's loop


class Publisher(Protocol):
    name: str

    async def publish(self, channel: str, message: Message) -> None: ...


class Subscriber(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def subscribe(self, channel: str) -> None:
        """Return once messages published on ``channel`` from now on will be received."""
        ...

    async def unsubscribe(self, channel: str) -> None: ...

    def status(self) -> str:
        """A short state word for /api/health; raises when the subscriber cannot receive."""
        ...


# --- in-flight turns (resume buffers, cancel flags) ---------------------------------------

Chunk = dict[str, Any]  # {"seq": int, "delta": str}


class TurnStore(Protocol):
    name: str

    async def append(self, message_id: str, seq: int, delta: str) -> None: ...

    async def chunks_after(self, message_id: str, after_seq: int) -> list[Chunk]: ...

    async def last_seq(self, message_id: str) -> int: ...

    async def request_cancel(self, message_id: str) -> None: ...

    async def cancel_requested(self, message_id: str) -> bool: ...

    # Leases: a worker holds a lease on each turn it runs (renewed while it runs), so a run
    # whose worker died is told apart from one in progress (``held_among``).
    async def claim(self, message_id: str, owner: str, ttl_seconds: float) -> bool: ...

    async def renew(self, message_ids: list[str], owner: str, ttl_seconds: float) -> None: ...

    async def release(self, message_id: str, owner: str) -> None: ...

    async def held_among(self, message_ids: list[str]) -> set[str]: ...


# --- place search ---------------------------------------------------------------------------

class MapSearchError(Exception):
    """The place search failed; ``message`` is safe to show to the couple (no key, no body)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Place:
    name: str
    address: str = ""
    road_address: str = ""
    lat: float | None = None
    lng: float | None = None
    phone: str = ""
    place_url: str = ""
    links: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class MapSearch(Protocol):
    async def search(self, query: str, *, limit: int = 5) -> list[Place]:
        """Places matching ``query``, best first, each with directions links."""
        ...

    async def details(self, name: str) -> Place | None:
        """The best match for ``name`` with its directions links, or ``None``."""
        ...


# --- rate limits ----------------------------------------------------------------------------

class RateLimiter(Protocol):
    name: str

    async def hit(self, key: str, limit: int, window_seconds: int) -> float | None:
        """Count one attempt; return the seconds to wait when ``limit`` is exceeded, else None."""
        ...
