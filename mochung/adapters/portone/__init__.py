"""The payment provider the flows use (the ``PaymentProvider`` port of
:mod:`mochung.domain.ports`): PortOne V2, PortOne V1 (iamport), or the embedded sandbox.

The web process builds one here with :func:`make_payment_provider`; ``common``, ``v1``,
``v2``, ``webhooks`` and ``sandbox/`` are the details.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from mochung.adapters.portone.sandbox.api import (
    SANDBOX_MOUNT_PATH,
    complete_sandbox_payment,
    create_sandbox_app,
)
from mochung.adapters.portone.sandbox.store import SandboxStore, load_sandbox_secrets
from mochung.adapters.portone.v1 import PortOneV1Client
from mochung.adapters.portone.v2 import PortOneV2Client
from mochung.adapters.portone.webhooks import (
    InvalidWebhook,
    parse_webhook_event,
    sign_webhook,
    verify_webhook,
)
from mochung.domain.ports import PaymentProvider
from mochung.settings import Settings, SettingsError

__all__ = [
    "SANDBOX_MOUNT_PATH",
    "InvalidWebhook",
    "PortOneV1Client",
    "PortOneV2Client",
    "complete_sandbox_payment",
    "create_embedded_sandbox",
    "make_payment_provider",
    "parse_webhook_event",
    "payment_webhook_secret",
    "sandbox_api_secret",
    "sandbox_url_for",
    "sign_webhook",
    "verify_webhook",
]


def make_payment_provider(
    settings: Settings, http: aiohttp.ClientSession, sandbox_url: str | None = None
) -> PaymentProvider:
    """The provider ``settings`` call for; ``sandbox_url`` is where the sandbox is served
    (required when ``settings.payments_sandbox``). Raises SettingsError when keys are missing."""
    timeout = settings.portone_timeout_seconds
    if settings.payments_sandbox:
        if not sandbox_url:
            raise SettingsError("payments run in sandbox mode (no PortOne keys) but the sandbox is not served")
        return PortOneV2Client(
            http, secret=sandbox_api_secret(settings), base_url=sandbox_url, timeout_seconds=timeout, name="sandbox"
        )
    if settings.portone_api == "v1":
        if not settings.portone_imp_key or settings.portone_imp_secret is None:
            raise SettingsError(
                "MOCHUNG_PORTONE_API=v1 needs MOCHUNG_PORTONE_IMP_KEY and MOCHUNG_PORTONE_IMP_SECRET "
                "(PortOne console: 결제연동 > 식별코드·API Keys > V1 API)"
            )
        return PortOneV1Client(
            http,
            imp_key=settings.portone_imp_key,
            imp_secret=settings.portone_imp_secret.get_secret_value(),
            base_url=settings.portone_base_url,
            timeout_seconds=timeout,
        )
    if settings.portone_api_secret is None:
        raise SettingsError(
            "MOCHUNG_PORTONE_API=v2 needs MOCHUNG_PORTONE_API_SECRET "
            "(PortOne console: 결제연동 > 식별코드·API Keys > V2 API), or unset MOCHUNG_PORTONE_BASE_URL "
            "and every key to use the embedded sandbox"
        )
    return PortOneV2Client(
        http,
        secret=settings.portone_api_secret.get_secret_value(),
        base_url=settings.portone_base_url,
        store_id=settings.portone_store_id,
        timeout_seconds=timeout,
    )


def sandbox_api_secret(settings: Settings) -> str:
    """The secret the sandbox accepts (generated once under the data directory): the CLI needs it."""
    return load_sandbox_secrets(settings.data_dir).api_secret


def payment_webhook_secret(settings: Settings) -> str | None:
    """The ``whsec_`` secret webhooks are verified with: the configured one, else in sandbox
    mode the sandbox's own; None means webhooks cannot be verified (refuse them)."""
    if settings.portone_webhook_secret is not None:
        return settings.portone_webhook_secret.get_secret_value()
    if settings.payments_sandbox:
        return load_sandbox_secrets(settings.data_dir).webhook_secret
    return None


def sandbox_url_for(settings: Settings) -> str:
    """Where this server serves the sandbox, as the server itself reaches it (loopback)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}{SANDBOX_MOUNT_PATH}"


def create_embedded_sandbox(settings: Settings, *, webhook_url: str | None = None) -> web.Application:
    """The sandbox app to mount at SANDBOX_MOUNT_PATH in embedded mode, its payments kept in
    ``data_dir/portone-sandbox.json``; with ``webhook_url`` it sends signed webhooks there
    (a path such as "/api/payment/webhook" means this same server, whatever its port)."""
    return create_sandbox_app(
        api_secret=sandbox_api_secret(settings),
        store=SandboxStore(settings.data_dir / "portone-sandbox.json"),
        webhook_url=webhook_url,
        webhook_secret=payment_webhook_secret(settings),
    )
