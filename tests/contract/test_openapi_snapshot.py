"""The OpenAPI document the server serves is the committed one, byte for byte.

The frontend and the admin app are built against ``tests/contract/openapi.json``; a change
to the wire (a path, a field, a status, an enum) must update it on purpose. After such a
change, rewrite it with::

    MOCHUNG_UPDATE_OPENAPI=1 .venv/bin/python -m pytest tests/contract/test_openapi_snapshot.py

and review the diff of ``tests/contract/openapi.json`` like any other wire change.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mochung.server.app import create_app
from mochung.settings import Settings

SNAPSHOT = Path(__file__).with_name("openapi.json")
UPDATE = "MOCHUNG_UPDATE_OPENAPI"


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The document does not depend on the database: SQLite only."""
    path = tmp_path / "mochung.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite://{path}"


def canonical(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def test_the_served_openapi_document_is_the_committed_one(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    client = await aiohttp_client(create_app(make_settings()))
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    served = canonical(await response.json())

    if os.environ.get(UPDATE) == "1":
        SNAPSHOT.write_text(served, encoding="utf-8")
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""

    if served != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                served.splitlines(keepends=True),
                "tests/contract/openapi.json (committed)",
                "/api/openapi.json (served)",
            )
        )
        shown = diff if len(diff) < 6000 else diff[:6000] + "\n… (diff cut)\n"
        pytest.fail(
            "the OpenAPI document the server serves differs from tests/contract/openapi.json. "
            "If the wire change is intended, rewrite the snapshot with "
            f"`{UPDATE}=1 .venv/bin/python -m pytest tests/contract/test_openapi_snapshot.py` "
            "and commit it with the change; otherwise put the wire back.\n" + shown,
            pytrace=False,
        )
