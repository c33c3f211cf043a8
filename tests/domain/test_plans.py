"""Which plan a payment is for: the server's price decides, never the client's."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mochung.domain.errors import Invalid
from mochung.domain.plans import choose_plan


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    amount: int
    currency: str = "KRW"


PLANS = [Plan("basic", "기본", 9900), Plan("premium", "프리미엄", 19900)]


def test_the_named_plan_at_its_price_is_chosen() -> None:
    assert choose_plan(PLANS, "premium", 19900) == PLANS[1]


def test_without_a_name_the_plan_at_that_price_is_chosen() -> None:
    assert choose_plan(PLANS, None, 9900) == PLANS[0]


def test_a_named_plan_at_another_price_is_refused_with_its_real_price() -> None:
    with pytest.raises(Invalid) as refused:
        choose_plan(PLANS, "premium", 100)

    assert (refused.value.field, refused.value.message) == ("amount", "the premium plan costs 19900 KRW")


def test_an_unknown_plan_is_refused_naming_the_plans_there_are() -> None:
    with pytest.raises(Invalid) as refused:
        choose_plan(PLANS, "gold", 9900)

    assert (refused.value.field, refused.value.message) == ("planId", "no such plan; choose one of basic, premium")


def test_a_price_no_plan_has_is_refused_listing_the_prices() -> None:
    with pytest.raises(Invalid) as refused:
        choose_plan(PLANS, None, 5000)

    assert refused.value.field == "amount"
    assert refused.value.message == "amount must be the price of a plan (basic 9900, premium 19900)"
