"""Payments in the admin app against a real server and its embedded PortOne sandbox:
a refund with its confirmation, and ``--read-only`` refusing one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from textual.widgets import DataTable, Input, Static

from mochung.adapters.portone import SANDBOX_MOUNT_PATH, complete_sandbox_payment, sandbox_api_secret
from mochung.domain.models import Page
from mochung.tui.app import AdminApp
from mochung.tui.client import HttpAdminApi, ReadOnlyRefused
from mochung.tui.screens.confirm import ConfirmScreen
from mochung.tui.tokens import TokenStore
from tests.tui.conftest import LiveServer, open_screen, settle, table_rows, visible_text

SIZE = (150, 45)


async def paid_payment(server: LiveServer) -> dict[str, Any]:
    """A customer pays 29,900 for the premium plan through the sandbox; the server verifies it."""
    user_id, token = await server.register("couple@example.com")
    page = await Page.create(user_id=user_id, title="우리 결혼합니다", slug="our-wedding-tui")
    body = {"amount": 29900, "pageId": str(page.id), "customerName": "김신부", "planId": "premium"}
    created = await server.call("POST", "/api/payment/create", token=token, json=body)
    async with aiohttp.ClientSession() as http:
        await complete_sandbox_payment(
            http,
            server.url + SANDBOX_MOUNT_PATH,
            api_secret=sandbox_api_secret(server.settings),
            payment_id=created["merchantUid"],
        )
    verify = {"paymentId": created["id"], "impUid": created["merchantUid"]}
    paid = await server.call("POST", "/api/payment/verify", token=token, json=verify)
    assert paid["status"] == "paid"
    return paid


async def admin_view(server: LiveServer, payment_id: str) -> dict[str, Any]:
    listing = await server.call("GET", "/api/admin/payments")
    return next(item for item in listing["items"] if item["id"] == payment_id)


async def test_refund_a_sandbox_payment_with_confirmation(live_server: LiveServer, tmp_path: Path) -> None:
    payment = await paid_payment(live_server)
    app = AdminApp(HttpAdminApi(live_server.url), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "5")
        table = app.screen.query_one("#payments", DataTable)
        assert "김신부 | premium | ₩29,900 | paid" in table_rows(table)[0]
        assert "PortOne record" in visible_text(app.screen.query_one("#payment-detail", Static))
        await pilot.press("f")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Refundable now: ₩29,900" in visible_text(app.screen.query_one("#dialog-body", Static))
        app.screen.query_one("#amount", Input).value = "10000"  # a partial refund first
        app.screen.query_one("#reason", Input).value = "customer asked"
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert "₩10,000" in table_rows(table)[0]
        await pilot.press("f")
        await settle(app, pilot)
        assert "Refundable now: ₩19,900" in visible_text(app.screen.query_one("#dialog-body", Static))
        app.screen.query_one("#reason", Input).value = "the rest too"
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert "| refunded | ₩29,900" in table_rows(table)[0]

    after = await admin_view(live_server, payment["id"])
    assert after["status"] == "refunded" and after["refundedAmount"] == 29900
    audit = await live_server.call("GET", "/api/admin/audit")
    assert sum(1 for entry in audit["items"] if payment["id"] in entry["target"]) == 2


async def test_read_only_refuses_a_refund(live_server: LiveServer, tmp_path: Path) -> None:
    payment = await paid_payment(live_server)
    api = HttpAdminApi(live_server.url, read_only=True)
    app = AdminApp(api, TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "5")
        assert "paid" in table_rows(app.screen.query_one("#payments", DataTable))[0]
        offered = {active.binding.action for active in app.screen.active_bindings.values() if active.enabled}
        assert "reload" in offered and not {"refund", "approve", "reject"} & offered  # not in the footer either
        await pilot.press("f")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)  # no dialog: the action does not exist here
        # and the client itself refuses, whatever screen code might try
        refused = None
        try:
            await api.refund(payment["id"], "test")
        except ReadOnlyRefused as error:
            refused = error
        assert refused is not None and "read-only" in refused.message
    assert (await admin_view(live_server, payment["id"]))["status"] == "paid"


async def test_review_a_flagged_payment(live_server: LiveServer, tmp_path: Path) -> None:
    user_id, token = await live_server.register("tampered@example.com")
    page = await Page.create(user_id=user_id, title="청첩장", slug="tampered-tui")
    body = {"amount": 9900, "pageId": str(page.id), "customerName": "이신랑"}
    created = await live_server.call("POST", "/api/payment/create", token=token, json=body)
    async with aiohttp.ClientSession() as http:  # the customer's browser pays less than the price
        await complete_sandbox_payment(
            http,
            live_server.url + SANDBOX_MOUNT_PATH,
            api_secret=sandbox_api_secret(live_server.settings),
            payment_id=created["merchantUid"],
            amount=990,
        )
    flagged = await admin_view(live_server, created["id"])
    assert flagged["flagged"] is True

    app = AdminApp(HttpAdminApi(live_server.url), TokenStore(tmp_path / "tokens.json"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await open_screen(app, pilot, "5")
        await pilot.click("#flagged")
        await settle(app, pilot)
        table = app.screen.query_one("#payments", DataTable)
        assert len(table_rows(table)) == 1 and "⚑ awaiting" in table_rows(table)[0]
        table.focus()
        await pilot.press("j")
        await settle(app, pilot)
        assert "Reject the flagged payment" in visible_text(app.screen.query_one("#dialog-body", Static))
        assert "₩9,900" in visible_text(app.screen.query_one("#dialog-body", Static))
        app.screen.query_one("#reason", Input).value = "paid 990 instead of 9,900"
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert "⚑ reject" in table_rows(table)[0]
    after = await admin_view(live_server, created["id"])
    assert after["reviewDecision"] == "reject" and after["reviewNote"] == "paid 990 instead of 9,900"
