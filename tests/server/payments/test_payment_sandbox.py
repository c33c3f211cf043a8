"""No PortOne keys: the embedded server serves the sandbox and verifies through the real V2 client.

A developer pays with ``mochung pay sandbox-complete`` (run here as a real process); the
sandbox's signed webhook makes the server verify the payment.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from mochung.adapters.portone import SANDBOX_MOUNT_PATH, complete_sandbox_payment, sandbox_api_secret
from mochung.domain.models import Page
from mochung.settings import Settings
from tests.support.users import user_with_headers


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()  # no PortOne keys at all


async def start_paying(client: TestClient) -> tuple[dict[str, Any], dict[str, str]]:
    user, headers = await user_with_headers()
    page = await Page.create(user_id=user["id"], title="우리 결혼합니다", slug=f"page-{uuid.uuid4().hex[:10]}")
    body = {"amount": 9900, "pageId": str(page.id), "customerName": "김신부"}
    response = await client.post("/api/payment/create", json=body, headers=headers)
    return await response.json() if response.status == 201 else {"status": response.status}, headers


async def statuses(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str | None]]:
    response = await client.get("/api/payment/my-payments", headers=headers)
    return [(p["status"], p["failureReason"]) for p in await response.json()]


async def test_the_embedded_sandbox_pays_and_the_server_verifies(client: TestClient, settings: Settings) -> None:
    health = await (await client.get("/api/health")).json()
    if settings.distributed:  # PostgreSQL: no sandbox in distributed mode, and it says so
        assert health["services"]["payments"] == "unconfigured"
        created, _ = await start_paying(client)
        assert created == {"status": 503}
        return
    assert health["services"]["payments"] == "sandbox"
    created, headers = await start_paying(client)
    assert created["status"] == "ready"

    async with aiohttp.ClientSession() as http:  # what `mochung pay sandbox-complete` does
        answer = await complete_sandbox_payment(
            http,
            str(client.make_url(SANDBOX_MOUNT_PATH)),
            api_secret=sandbox_api_secret(settings),
            payment_id=created["merchantUid"],
        )

    assert answer["webhookStatus"] == 200  # the server accepted the sandbox's signed webhook
    assert await statuses(client, headers) == [("paid", None)]
    verified = await client.post(
        "/api/payment/verify", json={"paymentId": created["id"], "impUid": created["merchantUid"]}, headers=headers
    )
    assert verified.status == 200 and (await verified.json())["status"] == "paid"


async def test_the_cli_completes_a_tampered_sandbox_payment(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    if settings.distributed:
        pytest.skip("the sandbox exists in embedded mode only")
    created, headers = await start_paying(client)
    server = str(client.make_url("")).rstrip("/")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MOCHUNG_")}
    environment["MOCHUNG_DATA_DIR"] = str(settings.data_dir)

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mochung", "pay", "sandbox-complete", created["merchantUid"],
        "--amount", "100", "--url", server,
        cwd=tmp_path, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()

    assert process.returncode == 0, err.decode()
    assert "PAID 100 KRW" in out.decode()
    assert "HTTP 200; PortOne now says CANCELLED" in out.decode()  # the server refused the amount
    assert await statuses(client, headers) == [("failed", "amount_mismatch")]  # and cancelled in the sandbox
    again = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mochung", "pay", "sandbox-complete", created["merchantUid"], "--url", server,
        cwd=tmp_path, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await again.communicate()
    assert again.returncode == 1 and "ALREADY_PAID" in err.decode()
