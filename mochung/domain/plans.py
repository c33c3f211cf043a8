"""Plans a couple can pay for. The list itself is configuration (``MOCHUNG_PLANS``); the
rules here accept any record with these fields, so the domain never imports the settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mochung.domain.errors import Invalid


class Plan(Protocol):
    """One plan: ``amount`` in the smallest unit of ``currency`` (won for KRW)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def amount(self) -> int: ...

    @property
    def currency(self) -> str: ...


def choose_plan(plans: Sequence[Plan], plan_id: str | None, amount: int) -> Plan:
    """The plan paid for: the named one, whose price must be ``amount`` (the price is the server's)."""
    if plan_id is not None:
        plan = next((p for p in plans if p.id == plan_id), None)
        if plan is None:
            raise Invalid(f"no such plan; choose one of {', '.join(p.id for p in plans)}", field="planId")
        if plan.amount != amount:
            raise Invalid(f"the {plan.id} plan costs {plan.amount} {plan.currency}", field="amount")
        return plan
    plan = next((p for p in plans if p.amount == amount), None)
    if plan is None:
        prices = ", ".join(f"{p.id} {p.amount}" for p in plans)
        raise Invalid(f"amount must be the price of a plan ({prices})", field="amount")
    return plan
