"""The embedded sandbox: with no PortOne account, the real V2 client pays, verifies and refunds."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from mochung.adapters.portone import (
    SANDBOX_MOUNT_PATH,
    PortOneV1Client,
    PortOneV2Client,
    complete_sandbox_payment,
    create_embedded_sandbox,
    make_payment_provider,
    parse_webhook_event,
    payment_webhook_secret,
    sandbox_api_secret,
    sandbox_url_for,
    verify_webhook,
)
from mochung.adapters.portone.sandbox.store import SandboxPayment, SandboxStore
from mochung.domain.ports import PaymentNotFound, PaymentProvider, ProviderAuthError, ProviderRejected, ProviderStatus
from mochung.settings import Settings, SettingsError


def sandbox_settings(data_dir: Path, **overrides: Any) -> Settings:
    keys: dict[str, Any] = {
        "portone_api_secret": None,
        "portone_imp_key": None,
        "portone_imp_secret": None,
        "portone_base_url": None,
        "portone_webhook_secret": None,
    }
    return Settings(_env_file=None, data_dir=data_dir, **{**keys, **overrides})  # type: ignore[call-arg]


@dataclass
class EmbeddedServer:
    """A stand-in for the embedded server: the sandbox mounted, and a webhook route that
    verifies the signature and re-fetches the payment as the real flow will."""

    settings: Settings
    provider: PaymentProvider
    sandbox_url: str
    webhooks: list[tuple[str, ProviderStatus]] = field(default_factory=list)


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[EmbeddedServer]:
    settings = sandbox_settings(tmp_path)
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    async with aiohttp.ClientSession() as http:
        holder: dict[str, EmbeddedServer] = {}

        async def webhook(request: web.Request) -> web.Response:
            body = await request.read()
            verify_webhook(str(payment_webhook_secret(settings)), request.headers, body)
            event = parse_webhook_event(body)
            assert event is not None
            fetched = await holder["server"].provider.fetch(event.payment_id)  # never trust the body
            holder["server"].webhooks.append((event.type, fetched.status))
            return web.json_response({})

        app.router.add_post("/api/payment/webhook", webhook)
        app.add_subapp(SANDBOX_MOUNT_PATH, create_embedded_sandbox(settings, webhook_url="/api/payment/webhook"))
        await server.start_server()
        sandbox_url = str(server.make_url(SANDBOX_MOUNT_PATH))
        provider = make_payment_provider(settings, http, sandbox_url=sandbox_url)
        holder["server"] = EmbeddedServer(settings=settings, provider=provider, sandbox_url=sandbox_url)
        yield holder["server"]
        await server.close()


async def complete(server: EmbeddedServer, payment_id: str, **options: Any) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:  # as the CLI does, in its own process
        return await complete_sandbox_payment(
            http,
            server.sandbox_url,
            api_secret=sandbox_api_secret(server.settings),
            payment_id=payment_id,
            **options,
        )


async def test_with_no_keys_the_real_v2_client_talks_to_the_sandbox(embedded: EmbeddedServer) -> None:
    provider = embedded.provider
    assert provider.name == "sandbox"
    assert isinstance(provider, PortOneV2Client)

    await provider.prepare("order-1", amount=9900, currency="KRW")
    assert (await provider.fetch("order-1")).status is ProviderStatus.READY

    answer = await complete(embedded, "order-1")  # the developer "pays" from the CLI

    assert answer["payment"]["status"] == "PAID" and answer["webhookStatus"] == 200
    paid = await provider.fetch("order-1")
    assert (paid.status, paid.amount, paid.merchant_uid) == (ProviderStatus.PAID, 9900, "order-1")
    assert embedded.webhooks == [("Transaction.Paid", ProviderStatus.PAID)]


async def test_a_tampered_sandbox_payment_shows_the_amount_actually_paid(embedded: EmbeddedServer) -> None:
    await embedded.provider.prepare("order-2", amount=29900, currency="KRW")

    await complete(embedded, "order-2", amount=100)

    payment = await embedded.provider.fetch("order-2")
    assert payment.is_paid and payment.amount == 100


async def test_a_failed_sandbox_payment_and_a_refund(embedded: EmbeddedServer) -> None:
    await embedded.provider.prepare("order-3", amount=9900, currency="KRW")
    await complete(embedded, "order-3", failed=True)
    assert (await embedded.provider.fetch("order-3")).status is ProviderStatus.FAILED

    await complete(embedded, "order-4", amount=9900)
    refunded = await embedded.provider.cancel("order-4", amount=None, reason="환불")

    assert (refunded.status, refunded.cancelled_amount) == (ProviderStatus.CANCELLED, 9900)
    assert [kind for kind, _ in embedded.webhooks] == [
        "Transaction.Failed",
        "Transaction.Paid",
        "Transaction.Cancelled",
    ]


async def test_completing_twice_or_without_an_amount_is_refused(embedded: EmbeddedServer) -> None:
    await complete(embedded, "order-5", amount=9900)

    with pytest.raises(ProviderRejected, match="ALREADY_PAID"):
        await complete(embedded, "order-5")
    with pytest.raises(ProviderRejected, match="pass amount"):
        await complete(embedded, "order-never-prepared")
    with pytest.raises(PaymentNotFound):
        await embedded.provider.fetch("order-never-prepared")


async def test_the_sandbox_checks_its_secret(embedded: EmbeddedServer) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ProviderAuthError, match="same data directory"):
            await complete_sandbox_payment(
                http, embedded.sandbox_url, api_secret="guess", payment_id="order-6", amount=1
            )
        outsider = PortOneV2Client(http, secret="guess", base_url=embedded.sandbox_url)
        with pytest.raises(ProviderAuthError):
            await outsider.fetch("order-6")


def test_sandbox_payments_and_secrets_survive_a_restart(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    first = sandbox_api_secret(settings)
    store = SandboxStore(tmp_path / "portone-sandbox.json")
    store.put(SandboxPayment(payment_id="order-kept", amount=9900))

    assert sandbox_api_secret(settings) == first
    assert str(payment_webhook_secret(settings)).startswith("whsec_")
    secrets_file = tmp_path / "portone-sandbox-secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    reloaded = SandboxStore(tmp_path / "portone-sandbox.json").get("order-kept")
    assert reloaded is not None and reloaded.amount == 9900


async def test_the_factory_picks_the_api_from_settings(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as http:
        v1 = make_payment_provider(
            sandbox_settings(tmp_path, portone_api="v1", portone_imp_key="key", portone_imp_secret="secret"), http
        )
        v2 = make_payment_provider(sandbox_settings(tmp_path, portone_api_secret="secret"), http)
        assert isinstance(v1, PortOneV1Client) and v1.name == "portone-v1"
        assert isinstance(v2, PortOneV2Client) and v2.name == "portone-v2"

        with pytest.raises(SettingsError, match="MOCHUNG_PORTONE_API_SECRET"):
            make_payment_provider(sandbox_settings(tmp_path, portone_base_url="http://portone.test"), http)
        with pytest.raises(SettingsError, match="MOCHUNG_PORTONE_IMP_SECRET"):
            make_payment_provider(sandbox_settings(tmp_path, portone_api="v1", portone_imp_key="key"), http)
        with pytest.raises(SettingsError, match="sandbox"):
            make_payment_provider(sandbox_settings(tmp_path), http, sandbox_url=None)


def test_the_configured_webhook_secret_wins_and_keys_mean_no_sandbox_secret(tmp_path: Path) -> None:
    configured = sandbox_settings(tmp_path, portone_webhook_secret="whsec_c2VjcmV0")
    live = sandbox_settings(tmp_path, portone_api_secret="secret")

    assert payment_webhook_secret(configured) == "whsec_c2VjcmV0"
    assert payment_webhook_secret(live) is None
    assert sandbox_url_for(sandbox_settings(tmp_path, host="0.0.0.0", port=3002)) == (
        "http://127.0.0.1:3002/sandbox/portone"
    )
