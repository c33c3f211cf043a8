"""``mochung serve`` in embedded mode starts its chat worker as soon as it is up, so the first
couple to write after a restart does not wait for Dramatiq's threads, the worker's
connections and the agents to load (the app alone starts the worker on the first turn;
tests/server builds apps that never chat)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import Stack, admin_system
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def test_the_embedded_worker_is_running_before_anyone_chats(tmp_path: Path) -> None:
    stack = Stack(tmp_path, "", "")  # nothing configured: SQLite, the in-process worker
    try:
        web = await asyncio.to_thread(stack.serve)
        token = await asyncio.to_thread(stack.admin_token, web)

        async def system() -> dict[str, Any]:
            return await admin_system(web, token)

        def with_worker(info: dict[str, Any]) -> bool:
            return sorted(p["kind"] for p in info["processes"]) == ["web", "worker"]

        # what the admin's System screen shows, with no chat turn ever sent
        info = await eventually(system, "the embedded worker to report itself", until=with_worker)
        worker = next(p for p in info["processes"] if p["kind"] == "worker")
        assert worker["mode"] == "embedded" and worker["inFlight"] == 0 and worker["concurrency"] == 256
        assert info["queueDepth"] == 0
    finally:
        stack.stop()
