"""What only the S3 side has: URL modes, settings handling and health, against moto's server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiobotocore.session import AioSession
from yarl import URL

from mochung.adapters.storage import open_storage
from mochung.adapters.storage.local import LocalFileStorage
from mochung.adapters.storage.s3 import S3FileStorage, open_s3_storage
from mochung.domain.ports import StorageUnavailable
from mochung.settings import Settings, SettingsError
from tests.support.fakes.moto_server import MotoServer, create_bucket, s3_settings, unique_bucket_name

JPEG = b"\xff\xd8\xff\xe0" + b"\x10" * 100


async def fetch(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as session, session.get(URL(url, encoded=True)) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def test_factory_picks_s3_when_a_bucket_is_set(moto: MotoServer, bucket: str, tmp_path: Path) -> None:
    async with open_storage(s3_settings(moto, bucket, tmp_path, s3_presign_seconds=600)) as storage:
        assert isinstance(storage, S3FileStorage)
        assert storage.name == "s3"
        assert await storage.check() == "ok"
        await storage.put("files/1/a.jpg", JPEG, "image/jpeg")

        url = await storage.url("files/1/a.jpg")

    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{moto.endpoint_url}/{bucket}/files/1/a.jpg?")
    assert query["X-Amz-Expires"] == ["600"]
    assert "X-Amz-Signature" in query
    assert moto.secret_access_key not in url
    assert await fetch(url) == (200, "image/jpeg", JPEG)


async def test_factory_picks_local_otherwise(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, public_url="https://mochung.example")  # type: ignore[call-arg]

    async with open_storage(settings) as storage:
        assert isinstance(storage, LocalFileStorage)
        assert storage.name == "local"
        assert await storage.check() == "ok"
        await storage.put("files/1/a.jpg", JPEG, "image/jpeg")
        assert await storage.url("files/1/a.jpg") == "https://mochung.example/files/files/1/a.jpg"

    assert (tmp_path / "files" / "files" / "1" / "a.jpg").read_bytes() == JPEG


async def test_public_base_url_mode(moto: MotoServer, botocore_session: AioSession, tmp_path: Path) -> None:
    # A public bucket (or a CDN in front of it): plain, stable URLs instead of signed ones.
    bucket = unique_bucket_name("public")
    await create_bucket(moto, bucket, botocore_session, public_read=True)
    public = f"{moto.endpoint_url}/{bucket}/"
    async with open_storage(s3_settings(moto, bucket, tmp_path, s3_public_base_url=public)) as storage:
        await storage.put("pages/1/p.md", "# 초대합니다".encode(), "text/markdown; charset=utf-8")

        url = await storage.url("pages/1/p.md")

    assert url == f"{moto.endpoint_url}/{bucket}/pages/1/p.md"
    status, content_type, body = await fetch(url)
    assert (status, content_type, body.decode()) == (200, "text/markdown; charset=utf-8", "# 초대합니다")


async def test_check_fails_clearly_for_a_missing_bucket(moto: MotoServer, tmp_path: Path) -> None:
    async with open_storage(s3_settings(moto, unique_bucket_name("absent"), tmp_path)) as storage:
        with pytest.raises(StorageUnavailable, match="is not reachable") as raised:
            await storage.check()

    assert moto.secret_access_key not in str(raised.value)


async def test_check_fails_clearly_when_the_endpoint_is_down(tmp_path: Path, unused_tcp_port: int) -> None:
    down = MotoServer(endpoint_url=f"http://127.0.0.1:{unused_tcp_port}")
    settings = s3_settings(down, "some-bucket", tmp_path)

    async with open_s3_storage(settings, max_attempts=1) as storage:  # no retry back-off in tests
        with pytest.raises(StorageUnavailable, match="'some-bucket' is not reachable"):
            await storage.check()


@pytest.mark.parametrize("missing", ["s3_access_key_id", "s3_secret_access_key"])
async def test_half_configured_credentials_are_refused(moto: MotoServer, tmp_path: Path, missing: str) -> None:
    settings = s3_settings(moto, "any-bucket", tmp_path, **{missing: None})

    with pytest.raises(SettingsError, match="set both MOCHUNG_S3_ACCESS_KEY_ID and MOCHUNG_S3_SECRET_ACCESS_KEY"):
        async with open_storage(settings):
            pass
