"""The sandbox's payments: one record per payment, shown as a V2 ``Payment`` or a V1 payment.

Kept in memory, and in a small JSON file when a path is given so a restart of the
embedded server does not forget payments that the database still points at.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mochung.adapters.portone.webhooks import new_webhook_secret

SANDBOX_STORE_ID = "store-sandbox"
SANDBOX_MERCHANT_ID = "merchant-sandbox"


def iso_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _unix(iso: str | None) -> int:
    if not iso:
        return 0
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


@dataclass
class SandboxPayment:
    """One payment. ``status`` uses the V2 words (READY, PAID, FAILED, CANCELLED, PARTIAL_CANCELLED)."""

    payment_id: str  # V2 paymentId: the merchant's own id
    amount: int
    status: str = "READY"
    currency: str = "KRW"
    imp_uid: str = field(default_factory=lambda: f"imp_{secrets.token_hex(6)}")  # V1 id
    merchant_uid: str | None = None  # V1 only; None means the payment id (a V1 test may set another)
    cancelled: int = 0
    order_name: str = "모청 결제"
    expected_amount: int | None = None  # from pre-registration
    failure_reason: str | None = None
    requested_at: str = field(default_factory=iso_now)
    updated_at: str = field(default_factory=iso_now)
    paid_at: str | None = None
    failed_at: str | None = None
    cancelled_at: str | None = None
    cancellations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cancellable(self) -> int:
        return self.amount - self.cancelled if self.status in ("PAID", "PARTIAL_CANCELLED") else 0

    def mark_paid(self, amount: int) -> None:
        self.amount, self.status, self.failure_reason = amount, "PAID", None
        self.paid_at = self.updated_at = iso_now()

    def mark_failed(self, reason: str) -> None:
        self.status, self.failure_reason = "FAILED", reason
        self.failed_at = self.updated_at = iso_now()

    def add_cancellation(self, amount: int, reason: str) -> dict[str, Any]:
        now = iso_now()
        cancellation = {
            "status": "SUCCEEDED",
            "id": f"cancel-{secrets.token_hex(6)}",
            "pgCancellationId": f"pg-cancel-{secrets.token_hex(6)}",
            "totalAmount": amount,
            "taxFreeAmount": 0,
            "vatAmount": amount // 11,
            "reason": reason,
            "requestedAt": now,
            "cancelledAt": now,
        }
        self.cancellations.append(cancellation)
        self.cancelled += amount
        self.status = "CANCELLED" if self.cancelled >= self.amount else "PARTIAL_CANCELLED"
        self.cancelled_at = self.updated_at = now
        return cancellation

    def as_v2(self) -> dict[str, Any]:
        """The V2 ``Payment`` object, with the fields the API documents for each status."""
        record: dict[str, Any] = {
            "status": self.status,
            "id": self.payment_id,
            "transactionId": f"tx-{self.imp_uid}",
            "merchantId": SANDBOX_MERCHANT_ID,
            "storeId": SANDBOX_STORE_ID,
            "channel": {"type": "TEST", "id": "channel-sandbox", "key": "channel-key-sandbox", "name": "sandbox"},
            "version": "V2",
            "requestedAt": self.requested_at,
            "updatedAt": self.updated_at,
            "statusChangedAt": self.updated_at,
            "orderName": self.order_name,
            "amount": {
                "total": self.amount,
                "taxFree": 0,
                "vat": self.amount // 11,
                "supply": self.amount - self.amount // 11,
                "discount": 0,
                "paid": self.amount if self.paid_at else 0,
                "cancelled": self.cancelled,
                "cancelledTaxFree": 0,
            },
            "currency": self.currency,
            "customer": {},
            "isCulturalExpense": False,
        }
        if self.paid_at:
            record.update(
                paidAt=self.paid_at, pgTxId=f"pg-{self.imp_uid}", receiptUrl="https://sandbox.invalid/receipt"
            )
        if self.status == "FAILED":
            record.update(failedAt=self.failed_at, failure={"reason": self.failure_reason, "pgCode": "SANDBOX"})
        if self.cancellations:
            record.update(cancellations=self.cancellations, cancelledAt=self.cancelled_at)
        return record

    def as_v1(self) -> dict[str, Any]:
        """The V1 payment (``response`` of GET /payments/{imp_uid}): partial cancels stay "paid"."""
        status = {"READY": "ready", "PAID": "paid", "FAILED": "failed", "CANCELLED": "cancelled"}.get(
            self.status, "paid"
        )
        return {
            "imp_uid": self.imp_uid,
            "merchant_uid": self.merchant_uid or self.payment_id,
            "amount": self.amount,
            "cancel_amount": self.cancelled,
            "currency": self.currency,
            "status": status,
            "name": self.order_name,
            "pay_method": "card",
            "pg_provider": "sandbox",
            "paid_at": _unix(self.paid_at),
            "failed_at": _unix(self.failed_at),
            "cancelled_at": _unix(self.cancelled_at),
            "fail_reason": self.failure_reason,
            "cancel_history": [
                {"amount": c["totalAmount"], "reason": c["reason"], "cancelled_at": _unix(c["cancelledAt"])}
                for c in self.cancellations
            ],
        }


class SandboxStore:
    """Payments by payment id (and by imp_uid for V1), optionally saved to ``path``."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._payments: dict[str, SandboxPayment] = {}
        if path is not None and path.exists():
            for item in json.loads(path.read_text()).get("payments", []):
                payment = SandboxPayment(**item)
                self._payments[payment.payment_id] = payment

    def get(self, payment_id: str) -> SandboxPayment | None:
        return self._payments.get(payment_id)

    def by_imp_uid(self, imp_uid: str) -> SandboxPayment | None:
        return next((p for p in self._payments.values() if p.imp_uid == imp_uid), None)

    def by_merchant_uid(self, merchant_uid: str) -> SandboxPayment | None:
        return next((p for p in self._payments.values() if (p.merchant_uid or p.payment_id) == merchant_uid), None)

    def put(self, payment: SandboxPayment) -> SandboxPayment:
        self._payments[payment.payment_id] = payment
        self.save()
        return payment

    def save(self) -> None:
        """Write the file (atomically: a crash never leaves half a store)."""
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"payments": [asdict(p) for p in self._payments.values()]}, indent=1))
        os.replace(temporary, self._path)


@dataclass(frozen=True)
class SandboxSecrets:
    api_secret: str  # what the client sends as "Authorization: PortOne <api_secret>"
    webhook_secret: str  # whsec_…, signs the sandbox's webhooks


def load_sandbox_secrets(data_dir: Path) -> SandboxSecrets:
    """The embedded sandbox's secrets, generated once under ``data_dir`` (mode 0600).

    The server and a CLI process on the same machine read the same file, so only someone
    who can read the data directory can complete sandbox payments.
    """
    path = data_dir / "portone-sandbox-secrets.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        created = {"apiSecret": secrets.token_urlsafe(32), "webhookSecret": new_webhook_secret()}
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(created, file)
        try:  # link is atomic and refuses to overwrite: when two processes race, the first wins
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    data = json.loads(path.read_text())
    return SandboxSecrets(api_secret=data["apiSecret"], webhook_secret=data["webhookSecret"])
