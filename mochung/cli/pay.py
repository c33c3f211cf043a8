"""`mochung pay sandbox-complete`: pay (or fail) a payment in the embedded PortOne sandbox."""

from __future__ import annotations

from typing import Annotated, Any

import typer

pay_app = typer.Typer(help="Payments (the embedded PortOne sandbox).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(pay_app, name="pay")


@pay_app.command("sandbox-complete")
def sandbox_complete(
    payment_id: Annotated[str, typer.Argument(help="The payment's merchantUid (from POST /api/payment/create).")],
    amount: Annotated[
        int | None,
        typer.Option(min=1, help="Pay this amount instead of the expected one (try a tampered payment)."),
    ] = None,
    fail: Annotated[bool, typer.Option("--fail", help="Make the payment fail, as a declined card would.")] = False,
    url: Annotated[
        str | None, typer.Option(help="The running server (default: this machine's MOCHUNG_HOST:MOCHUNG_PORT).")
    ] = None,
) -> None:
    """Complete a sandbox payment on the running embedded server, as the customer paying would.

    The sandbox then sends the server a signed webhook, which verifies the payment.
    """
    import asyncio

    from mochung.cli.common import fail as fail_with
    from mochung.cli.common import run_or_fail
    from mochung.settings import load_settings

    settings = run_or_fail(load_settings)
    if not settings.payments_sandbox:
        raise fail_with("PortOne keys are configured: there is no sandbox (pay through PortOne instead)")
    from mochung.adapters.portone import SANDBOX_MOUNT_PATH, sandbox_url_for
    from mochung.domain.ports import PaymentProviderError, ProviderUnavailable

    sandbox_url = url.rstrip("/") + SANDBOX_MOUNT_PATH if url else sandbox_url_for(settings)
    try:
        answer = asyncio.run(_complete(settings, sandbox_url, payment_id, amount, fail))
    except ProviderUnavailable as error:
        raise fail_with(f"{error}: is the embedded server running at {sandbox_url}?") from None
    except PaymentProviderError as error:
        raise fail_with(str(error)) from None
    payment = answer.get("payment", {})
    total = payment.get("amount", {}).get("total")
    typer.echo(f"{payment.get('id', payment_id)}: {payment.get('status')} {total} {payment.get('currency', '')}")
    webhook = answer.get("webhookStatus")
    if not webhook:
        typer.echo("no webhook was delivered: verify with POST /api/payment/verify")
        return
    now = answer.get("now", {}).get("status")
    after = f"; PortOne now says {now}" if now and now != payment.get("status") else ""
    typer.echo(f"webhook sent to the server: HTTP {webhook}{after}")


async def _complete(settings: Any, sandbox_url: str, payment_id: str, amount: int | None, failed: bool) -> Any:
    import aiohttp

    from mochung.adapters.portone import complete_sandbox_payment, sandbox_api_secret

    async with aiohttp.ClientSession() as http:
        return await complete_sandbox_payment(
            http,
            sandbox_url,
            api_secret=sandbox_api_secret(settings),
            payment_id=payment_id,
            amount=amount,
            failed=failed,
        )
