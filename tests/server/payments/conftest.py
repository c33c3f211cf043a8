"""Payments over HTTP: the real app against a fake PortOne (V1 or V2) on a local port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from mochung.server.app import create_app
from mochung.settings import Settings
from tests.server.payments.shop import WEBHOOK_SECRET, Shop, new_shop
from tests.support import Api
from tests.support.fakes.portone_server import FakePortOne


@pytest.fixture(params=["v2", "v1"])
def portone_api(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(make_settings: Callable[..., Settings], portone: FakePortOne, portone_api: str) -> Settings:
    if portone_api == "v1":
        return make_settings(
            portone_api="v1",
            portone_base_url=portone.v1_url,
            portone_imp_key=portone.imp_key,
            portone_imp_secret=portone.imp_secret,
            portone_timeout_seconds=10.0,
        )
    return make_settings(
        portone_api="v2",
        portone_base_url=portone.url,
        portone_api_secret=portone.api_secret,
        portone_webhook_secret=WEBHOOK_SECRET,
        portone_timeout_seconds=10.0,
    )


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


@pytest.fixture
async def shop(api: Api, portone: FakePortOne, portone_api: str) -> Shop:
    return await new_shop(api, portone, portone_api)
