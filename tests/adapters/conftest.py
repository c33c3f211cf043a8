"""Fixtures for the storage tests: both implementations, each reachable over real HTTP.

``storage`` is parametrised: "local" is a LocalFileStorage in a temp folder whose URLs point
at a real aiohttp server mounting the /files handler; "s3" is the S3FileStorage built by
``open_s3_storage`` against moto's standalone server, in a bucket of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiobotocore.session import AioSession, get_session
from aiohttp import web
from aiohttp.test_utils import TestServer

from mochung.adapters.storage.local import LocalFileStorage, add_local_files_route
from mochung.adapters.storage.s3 import open_s3_storage
from mochung.domain.ports import FileStorage
from tests.support.fakes.moto_server import MotoServer, create_bucket, moto_server, s3_settings, unique_bucket_name


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def botocore_session() -> AioSession:
    """Shared so botocore loads its S3 model once, not once per test (~0.5 s each)."""
    return get_session()


@pytest.fixture
async def bucket(moto: MotoServer, botocore_session: AioSession) -> str:
    name = unique_bucket_name()
    await create_bucket(moto, name, botocore_session)
    return name


@pytest.fixture
async def local_files_server(tmp_path: Path) -> AsyncIterator[TestServer]:
    """An aiohttp server mounting the /files handler over ``tmp_path / "files"``."""
    app = web.Application()
    add_local_files_route(app.router, LocalFileStorage(tmp_path / "files", "http://unused"))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture(params=["local", "s3"])
async def storage(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    moto: MotoServer,
    botocore_session: AioSession,
    local_files_server: TestServer,
) -> AsyncIterator[FileStorage]:
    if request.param == "local":
        yield LocalFileStorage(tmp_path / "files", str(local_files_server.make_url("")).rstrip("/"))
        return
    bucket_name = unique_bucket_name()
    await create_bucket(moto, bucket_name, botocore_session)
    settings = s3_settings(moto, bucket_name, tmp_path)
    async with open_s3_storage(settings, session=botocore_session) as s3:
        yield s3
