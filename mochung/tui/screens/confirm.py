"""The one confirmation dialog every state change goes through: it states what will happen
(amounts included), asks for a reason where the server records one, and returns it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True)
class Confirmation:
    reason: str = ""
    amount: int | None = None


@dataclass(frozen=True)
class AmountField:
    """An editable amount (a partial refund): defaults to ``maximum``, must be 1..maximum."""

    maximum: int
    label: str = "Amount (KRW)"


class ConfirmScreen(ModalScreen[Confirmation | None]):
    CSS_PATH = "confirm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        body: str,
        *,
        confirm_label: str = "Confirm",
        reason_label: str | None = None,
        reason_required: bool = True,
        amount: AmountField | None = None,
        danger: bool = True,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label
        self.reason_label = reason_label
        self.reason_required = reason_required
        self.amount = amount
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            yield Static(self.body, id="dialog-body")
            if self.amount is not None:
                yield Label(self.amount.label)
                yield Input(str(self.amount.maximum), id="amount", type="integer")
            if self.reason_label is not None:
                yield Label(self.reason_label)
                yield Input(id="reason")
            yield Static("", id="dialog-error")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.confirm_label, variant="error" if self.danger else "primary", id="confirm")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        first = self.query("Input").first() if self.query("Input") else self.query_one("#cancel", Button)
        first.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        amount: int | None = None
        if self.amount is not None:
            text = self.query_one("#amount", Input).value.strip()
            if not text.isdigit() or not 0 < int(text) <= self.amount.maximum:
                self.query_one("#dialog-error", Static).update(f"Enter an amount from 1 to {self.amount.maximum:,}.")
                return
            amount = int(text)
        reason = self.query_one("#reason", Input).value.strip() if self.reason_label is not None else ""
        if self.reason_label is not None and self.reason_required and not reason:
            self.query_one("#dialog-error", Static).update("A reason is required: it goes into the audit log.")
            return
        self.dismiss(Confirmation(reason=reason, amount=amount))
