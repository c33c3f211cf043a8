"""The Socket.IO Admin UI: off by default, and behind its credentials when configured."""

from __future__ import annotations

from typing import Any

import pytest
import socketio

from mochung.server.app import create_app


async def _connect_admin_ui(url: str, auth: dict[str, str]) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, namespaces=["/admin"], auth=auth, transports=["websocket"], wait_timeout=10)
    return client


async def test_admin_ui_needs_its_credentials(aiohttp_client: Any, make_settings: Any) -> None:
    settings = make_settings(socketio_admin_user="ops", socketio_admin_password="a-long-admin-password")
    client = await aiohttp_client(create_app(settings))
    url = str(client.make_url("")).rstrip("/")

    ui = await _connect_admin_ui(url, {"username": "ops", "password": "a-long-admin-password"})
    assert ui.connected
    await ui.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _connect_admin_ui(url, {"username": "ops", "password": "wrong"})


async def test_admin_ui_is_off_by_default(client: Any) -> None:
    url = str(client.make_url("")).rstrip("/")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _connect_admin_ui(url, {"username": "admin", "password": "admin"})
