"""The Socket.IO Admin UI: behind its credentials when configured, off by default.

python-socketio's instrumentation patches Engine.IO for the whole process, once, so the
instrumented server runs as its own ``mochung serve`` process (embedded mode) here.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.e2e.stack import START_SECONDS, Process, free_port
from tests.support.waiting import wait_until

USER, PASSWORD = "ops", "a-long-admin-password"


@pytest.fixture
def instrumented_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCHUNG_")}
    env.update(
        {
            "MOCHUNG_DATA_DIR": str(tmp_path / "data"),
            "MOCHUNG_SOCKETIO_ADMIN_USER": USER,
            "MOCHUNG_SOCKETIO_ADMIN_PASSWORD": PASSWORD,
            "MOCHUNG_LOG_FORMAT": "text",
        }
    )
    process = Process("serve", [sys.executable, "-m", "mochung", "serve", "--port", str(port)], env, tmp_path)
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        process.check_alive()
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                return json.loads(response.read())["status"] == "ok"
        except (urllib.error.URLError, OSError):
            return False

    try:
        wait_until(healthy, "the instrumented server to be healthy", within=START_SECONDS)
        yield url
    finally:
        process.stop()


async def _connect_admin_ui(url: str, auth: dict[str, str]) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, namespaces=["/admin"], auth=auth, transports=["websocket"], wait_timeout=10)
    return client


async def test_admin_ui_needs_its_credentials(instrumented_server: str) -> None:
    ui = await _connect_admin_ui(instrumented_server, {"username": USER, "password": PASSWORD})
    assert ui.connected
    await ui.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _connect_admin_ui(instrumented_server, {"username": USER, "password": "wrong"})


async def test_admin_ui_is_off_by_default(client: Any) -> None:
    url = str(client.make_url("")).rstrip("/")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _connect_admin_ui(url, {"username": "admin", "password": "admin"})
