"""Payments: filter by status and flagged; detail with PortOne's record; refund (full or
partial) and approve/reject a flagged payment, each confirmed with the amount shown."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, DataTable, Footer, Header, Select, Static

from mochung.tui.format import money, short, when
from mochung.tui.models import AdminPayment, Listing
from mochung.tui.screens.base import MORE, RELOAD, Changes, ListScreen
from mochung.tui.screens.confirm import AmountField, Confirmation, ConfirmScreen

STATUSES = [("Any status", ""), *((s.capitalize(), s) for s in ("ready", "paid", "failed", "cancelled", "refunded"))]


class PaymentsScreen(ListScreen[AdminPayment]):
    CSS_PATH = "payments.tcss"
    TABLE = "payments"
    BINDINGS: ClassVar[list[BindingType]] = [
        Changes("f", "refund", "Refund"),
        Changes("a", "approve", "Approve"),
        Changes("j", "reject", "Reject"),
        MORE,
        RELOAD,
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filters"):
            yield Select(STATUSES, value="", allow_blank=False, id="status")
            yield Checkbox("Flagged only", id="flagged")
        with Horizontal(id="payments-body"):
            yield DataTable(id="payments", cursor_type="row", zebra_stripes=True)
            with Vertical(id="payment-side"):
                yield Static("Detail", classes="panel-title")
                with VerticalScroll(id="payment-detail-box"):  # PortOne's record can be long
                    yield Static("Select a payment.", id="payment-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#payments", DataTable)
        table.add_columns("Created", "Customer", "Plan", "Amount", "Status", "Refunded", "Review")

    @on(Select.Changed, "#status")
    @on(Checkbox.Changed, "#flagged")
    def filter_changed(self) -> None:
        self.load()

    def page(self, cursor: str | None) -> Awaitable[Listing[AdminPayment]]:
        status = str(self.query_one("#status", Select).value)
        flagged = True if self.query_one("#flagged", Checkbox).value else None
        return self.api.payments(status=status, flagged=flagged, cursor=cursor)

    def page_shown(self) -> None:
        if not self.rows:
            self.query_one("#payment-detail", Static).update("No payments match.")

    def cells(self, payment: AdminPayment) -> tuple[str, ...]:
        review = "⚑ " + (payment.review_decision or "awaiting") if payment.flagged else payment.review_decision or ""
        return (
            when(payment.created_at),
            payment.customer_name or "",
            payment.plan_id or "",
            money(payment.amount, payment.currency),
            payment.status,
            money(payment.refunded_amount, payment.currency) if payment.refunded_amount else "",
            review,
        )

    @on(DataTable.RowHighlighted, "#payments")
    def show_detail(self, event: DataTable.RowHighlighted) -> None:
        payment = self.rows.get(event.row_key.value or "")
        if payment is not None:
            self.query_one("#payment-detail", Static).update(self._detail(payment))

    @staticmethod
    def _detail(payment: AdminPayment) -> str:
        lines = [
            f"[b]{money(payment.amount, payment.currency)}[/b]  {payment.status}"
            + ("  [reverse] FLAGGED [/reverse]" if payment.flagged else ""),
            f"Merchant uid  {payment.merchant_uid}",
            f"Provider id   {payment.provider_payment_id or '–'}",
            f"Customer      {payment.customer_name or '–'}  ({payment.user_email or short(payment.user_id) or '–'})",
            f"Page          {short(payment.page_id) or '–'}   plan {payment.plan_id or '–'}",
            f"Paid at       {when(payment.paid_at)}",
            f"Refunded      {money(payment.refunded_amount, payment.currency)}",
        ]
        if payment.failure_reason:
            lines.append(f"Failure       {payment.failure_reason}")
        if payment.review_decision:
            lines.append(f"Review        {payment.review_decision}: {payment.review_note or ''}")
        record = json.dumps(payment.provider_record, ensure_ascii=False, indent=1) if payment.provider_record else "–"
        lines += ["", "[b]PortOne record[/b]", record.replace("[", r"\[")]
        return "\n".join(lines)

    def action_refund(self) -> None:
        payment = self.selected()
        if payment is None or self.refuse_if_read_only():
            return
        if payment.refundable <= 0 or payment.status not in ("paid", "refunded"):
            self.notify(f"Nothing to refund: this payment is {payment.status}.", severity="warning")
            return
        body = "\n".join(
            [
                f"Payment   {payment.merchant_uid}",
                f"Customer  {payment.customer_name or '–'}",
                f"Paid {money(payment.amount, payment.currency)}, refunded so far "
                f"{money(payment.refunded_amount, payment.currency)}",
                f"Refundable now: {money(payment.refundable, payment.currency)}",
                "Edit the amount for a partial refund.",
            ]
        )
        self.app.push_screen(
            ConfirmScreen(
                "Refund", body, confirm_label="Refund", reason_label="Reason", amount=AmountField(payment.refundable)
            ),
            lambda result: self._refund_confirmed(result, payment),
        )

    def _refund_confirmed(self, result: Confirmation | None, payment: AdminPayment) -> None:
        if result is not None:
            # the whole remainder goes without an amount: the server refunds all that is left
            amount = None if result.amount == payment.refundable else result.amount
            self.refund(payment.id, result.reason, amount)

    @work(group="payments-change")
    async def refund(self, payment_id: str, reason: str, amount: int | None) -> None:
        call = self.api.refund(payment_id, reason, amount)
        await self.fetch(call, lambda payment: self.Changed(payment, f"refunded, now {payment.status}"))

    def action_approve(self) -> None:
        self._review("approve")

    def action_reject(self) -> None:
        self._review("reject")

    def _review(self, decision: str) -> None:
        payment = self.selected()
        if payment is None or self.refuse_if_read_only():
            return
        if not payment.flagged:
            self.notify("Only flagged payments need a review.", severity="warning")
            return
        amount = money(payment.amount, payment.currency)
        body = f"{decision.capitalize()} the flagged payment {payment.merchant_uid} of {amount}?"
        if payment.failure_reason:
            body += f"\nIt was flagged because: {payment.failure_reason}"
        self.app.push_screen(
            ConfirmScreen(
                "Review", body, confirm_label=decision.capitalize(), reason_label="Note", danger=decision == "reject"
            ),
            lambda result: self._review_confirmed(result, payment.id, decision),
        )

    def _review_confirmed(self, result: Confirmation | None, payment_id: str, decision: str) -> None:
        if result is not None:
            self.review(payment_id, decision, result.reason)

    @work(group="payments-change")
    async def review(self, payment_id: str, decision: str, note: str) -> None:
        call = self.api.review(payment_id, decision, note)
        await self.fetch(call, lambda payment: self.Changed(payment, f"review: {decision}"))

    def row_changed(self, payment: AdminPayment, what: str) -> None:
        self.query_one("#payment-detail", Static).update(self._detail(payment))
        self.notify(f"{payment.merchant_uid}: {what}", title="Payment updated")
