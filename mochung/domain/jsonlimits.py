"""What any JSON a client sends must be, wherever it is read (REST bodies, Socket.IO
packets, stored ``componentData`` on its way out): at most :data:`MAX_DEPTH` levels deep,
strictly JSON (no ``NaN``, no lone surrogates), and free of NUL characters (PostgreSQL text
cannot hold ``\\u0000``; SQLite could, so both refuse it to behave the same).

Parsing uses orjson, which never recurses in Python and stops at 1024 levels on its own;
the depth is then measured without recursion either, so no input can raise
``RecursionError``.
"""

from __future__ import annotations

from typing import Any

import orjson

from mochung.domain.errors import Invalid

# A page's body is ~7 levels deep ({componentData: {components: [{props: {transport: [{…}]}}]}});
# 32 leaves room for the builder's newer component types and stays far from every
# recursion limit (Python's, pydantic-core's serializer, YAML's).
MAX_DEPTH = 32
NUL = "\x00"
NUL_RULE = "must not contain NUL characters (\\u0000)"
TOO_DEEP = f"JSON is nested too deeply (at most {MAX_DEPTH} levels)"


class TooDeep(Invalid):
    """JSON nested deeper than :data:`MAX_DEPTH`."""

    def __init__(self) -> None:
        super().__init__(TOO_DEEP)


def depth(value: Any, stop_after: int = MAX_DEPTH) -> int:
    """How many levels of objects and arrays ``value`` has (a scalar: 0), counted without
    recursion; counting stops once ``stop_after`` is exceeded (the result is then larger)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > stop_after:
            return deepest
        pending.extend((child, level + 1) for child in children)
    return deepest


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    return depth(value, limit) > limit


# What ``str.strip`` removes (``str.isspace``), spelled out for a document's patterns:
# ``\s`` means this in Python's ``re`` but less in ECMA-262, the dialect of JSON Schema
# patterns, which fuzzers and clients may follow.
SPACES = (
    "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)


def parsed_too_deep(raw: bytes | str, value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value``, parsed from ``raw``, is nested deeper than ``limit``. It cannot be
    deeper than ``raw`` has opening brackets, which are counted in C: most packets and
    bodies are judged without walking them."""
    openers = raw.count("{") + raw.count("[") if isinstance(raw, str) else raw.count(b"{") + raw.count(b"[")
    return openers > limit and too_deep(value, limit)


def loads(raw: bytes | str) -> Any:
    """``raw`` parsed; :class:`TooDeep` past :data:`MAX_DEPTH` levels, :class:`Invalid` when it
    is not JSON."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):
            raise TooDeep() from None
        raise Invalid("request body must be JSON") from None
    if parsed_too_deep(raw, value):
        raise TooDeep()
    return value


def nul_path(value: Any, where: str = "") -> str | None:
    """The dotted path of the first string (value or object key) in ``value`` holding a NUL
    character; None when there is none. Iterative: safe on any depth."""
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and NUL in key:
                    return child_path.replace(NUL, "\\u0000")
                pending.append((child, child_path))
        elif isinstance(item, list | tuple):
            pending.extend((child, f"{path}.{index}" if path else str(index)) for index, child in enumerate(item))
    return None
