"""The depth limit of every JSON a client sends (``domain/jsonlimits.py``): judging a parsed
value by its text's brackets first gives the same verdict as walking it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mochung.domain import jsonlimits

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab{[]} "\\', max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=40,
)


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


@given(JSON, st.integers(min_value=0, max_value=6))
def test_the_bracket_count_never_changes_the_verdict(value: Any, limit: int) -> None:
    raw = json.dumps(value)
    assert jsonlimits.parsed_too_deep(raw, value, limit) == jsonlimits.too_deep(value, limit)
    assert jsonlimits.parsed_too_deep(raw.encode(), value, limit) == jsonlimits.too_deep(value, limit)


@pytest.mark.parametrize("levels", [jsonlimits.MAX_DEPTH, jsonlimits.MAX_DEPTH + 1])
def test_loads_refuses_only_past_the_limit(levels: int) -> None:
    raw = json.dumps(nested(levels))
    if levels > jsonlimits.MAX_DEPTH:
        with pytest.raises(jsonlimits.TooDeep):
            jsonlimits.loads(raw)
    else:
        assert jsonlimits.loads(raw) == nested(levels)
