"""The guest tests write many answers from one test client (one visitor): the per-visitor
limit is raised here, and tested on its own in test_rate_limits.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mochung.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(guest_writes_per_visitor=10_000)
