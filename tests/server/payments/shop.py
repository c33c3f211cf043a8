"""The customer side of the payment tests: create, pay at the fake PortOne, verify, webhook."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from mochung.adapters.portone import sign_webhook
from mochung.adapters.portone.webhooks import new_webhook_secret
from mochung.domain.models import Page
from tests.support import Api
from tests.support.fakes.portone_server import FakePortOne
from tests.support.users import user_with_headers

WEBHOOK_SECRET = new_webhook_secret()


@dataclass
class Shop:
    """One customer with a page, and what PortOne records when they pay."""

    api: Api
    portone: FakePortOne
    portone_api: str
    user: dict[str, Any]
    headers: dict[str, str]
    page_id: str

    async def create(self, amount: int = 9900, **extra: Any) -> dict[str, Any]:
        body = {"amount": amount, "pageId": self.page_id, "customerName": "김신랑", **extra}
        response = await self.api.client.post("/api/payment/create", json=body, headers=self.headers)
        assert response.status == 201, await response.text()
        return await response.json()

    def pay(self, created: dict[str, Any], *, amount: int | None = None, status: str = "PAID", **fields: Any) -> str:
        """The customer pays in the browser; the id the client then sends as impUid."""
        record = self.portone.payment(
            created["merchantUid"], created["amount"] if amount is None else amount, status=status, **fields
        )
        return created["merchantUid"] if self.portone_api == "v2" else record.imp_uid

    async def verify(self, created: dict[str, Any], imp_uid: str, headers: dict[str, str] | None = None) -> Any:
        body = {"paymentId": created["id"], "impUid": imp_uid}
        return await self.api.client.post("/api/payment/verify", json=body, headers=headers or self.headers)

    async def webhook(self, created: dict[str, Any], imp_uid: str, *, sign: bool = True, **signing: Any) -> Any:
        if self.portone_api == "v2":
            payload = (
                '{"type":"Transaction.Paid","timestamp":"2025-01-01T00:00:00Z",'
                f'"data":{{"paymentId":"{created["merchantUid"]}","storeId":"store-sandbox"}}}}'
            )
            headers = sign_webhook(signing.pop("secret", WEBHOOK_SECRET), payload, **signing) if sign else {}
        else:
            payload = f'{{"imp_uid":"{imp_uid}","merchant_uid":"{created["merchantUid"]}","status":"paid"}}'
            headers = {}
        return await self.api.client.post(
            "/api/payment/webhook", data=payload, headers={"Content-Type": "application/json", **headers}
        )

    async def mine(self) -> list[dict[str, Any]]:
        response = await self.api.client.get("/api/payment/my-payments", headers=self.headers)
        assert response.status == 200
        return await response.json()


async def new_shop(api: Api, portone: FakePortOne, portone_api: str) -> Shop:
    user, headers = await user_with_headers()
    page = await Page.create(user_id=user["id"], title="우리 결혼합니다", slug=f"page-{uuid.uuid4().hex[:10]}")
    return Shop(api, portone, portone_api, user, headers, str(page.id))
