"""Upload, list and delete files over HTTP, on each database and with each storage.

``settings`` is overridden here: the tests marked BOTH_STORAGES run with the local folder
and with S3 (moto's server), on top of the SQLite/PostgreSQL parametrisation of
``database_url``; the others, about rules that do not depend on the storage, use the folder.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiobotocore.session import AioSession, get_session
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from yarl import URL

from mochung.domain.models import AuditEntry
from mochung.server.app import create_app
from mochung.settings import Settings
from tests.support import Api
from tests.support.fakes.moto_server import MotoServer, create_bucket, moto_server, unique_bucket_name
from tests.support.images import JPEG, PDF, PNG, WEBP

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


@pytest.fixture(scope="module")
def botocore_session() -> AioSession:
    return get_session()  # shared: botocore loads its S3 model once for the module


@pytest.fixture
def settings(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    moto: MotoServer,
    botocore_session: AioSession,
) -> Settings:
    """Local storage, or S3 on moto for the tests marked with BOTH_STORAGES."""
    if getattr(request, "param", "local") == "local":
        return make_settings()
    bucket = unique_bucket_name("files")
    asyncio.run(create_bucket(moto, bucket, botocore_session))
    return make_settings(
        s3_bucket=bucket,
        s3_region=moto.region,
        s3_endpoint_url=moto.endpoint_url,
        s3_access_key_id=moto.access_key_id,
        s3_secret_access_key=moto.secret_access_key,
    )


BOTH_STORAGES = pytest.mark.parametrize("settings", ["local", "s3"], indirect=True)


def form(data: bytes, filename: str = "photo.png", content_type: str = "image/png", field: str = "file") -> FormData:
    body = FormData()
    body.add_field(field, data, filename=filename, content_type=content_type)
    return body


async def upload(client: TestClient, headers: dict[str, str], data: bytes, **options: Any) -> aiohttp.ClientResponse:
    return await client.post("/api/file/upload", data=form(data, **options), headers=headers)


async def fetch(client: TestClient, url: str) -> tuple[int, str, bytes]:
    """What a browser gets from a file URL: our /files route locally, S3 itself otherwise."""
    if url.startswith("http://localhost:3002/files/"):
        response = await client.get(URL(url).path_qs)
        return response.status, response.headers.get("Content-Type", ""), await response.read()
    async with aiohttp.ClientSession() as session, session.get(URL(url, encoded=True)) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


@BOTH_STORAGES
async def test_upload_list_fetch_delete(client: TestClient, api: Api) -> None:
    user, headers = await api.user()

    response = await upload(client, headers, PNG, filename="우리 사진.png")

    assert response.status == 201, await response.text()
    created = await response.json()
    assert set(created) == {"id", "filename", "url", "mimeType", "size", "createdAt"}
    assert re.fullmatch(UUID, created["id"])
    assert (created["filename"], created["mimeType"], created["size"]) == ("우리 사진.png", "image/png", len(PNG))
    assert created["createdAt"].endswith("Z")
    assert f"files/{user['id']}/" in created["url"] and ".png" in created["url"]
    assert await fetch(client, created["url"]) == (200, "image/png", PNG)

    listed = await (await client.get("/api/file/my-files", headers=headers)).json()
    assert [item["id"] for item in listed] == [created["id"]]

    response = await client.delete(f"/api/file/{created['id']}", headers=headers)
    assert response.status == 204
    assert await (await client.get("/api/file/my-files", headers=headers)).json() == []
    status, _, _ = await fetch(client, created["url"])
    assert status in (403, 404)  # the object is gone (S3 says 403 or 404 depending on rights)


@BOTH_STORAGES
async def test_every_accepted_type_is_recognised_from_its_bytes(client: TestClient, api: Api) -> None:
    _, headers = await api.user()

    for data, mime_type in ((JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp"), (PDF, "application/pdf")):
        response = await upload(client, headers, data, filename="upload.bin", content_type="application/octet-stream")
        assert response.status == 201
        created = await response.json()
        assert created["mimeType"] == mime_type
        assert (await fetch(client, created["url"]))[1] == mime_type


@BOTH_STORAGES
async def test_a_png_named_pdf_is_stored_as_png(client: TestClient, api: Api) -> None:
    _, headers = await api.user()

    response = await upload(client, headers, PNG, filename="contract.pdf", content_type="application/pdf")

    created = await response.json()
    assert (response.status, created["mimeType"], created["filename"]) == (201, "image/png", "contract.pdf")
    assert re.search(rf"/{UUID}\.png", created["url"])
    assert (await fetch(client, created["url"]))[1] == "image/png"


async def test_anything_else_is_415(client: TestClient, api: Api) -> None:
    _, headers = await api.user()
    spoofs = [
        (b"just some text, honestly a photo", "photo.jpg", "image/jpeg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "a.png", "image/png"),
        (b"GIF89a" + bytes(20), "a.gif", "image/gif"),
        (b"", "empty.png", "image/png"),
    ]

    for data, filename, content_type in spoofs:
        response = await upload(client, headers, data, filename=filename, content_type=content_type)
        assert response.status == 415, filename
        body = await response.json()
        assert body["statusCode"] == 415 and "JPEG, PNG, WebP and PDF" in body["message"]

    assert await (await client.get("/api/file/my-files", headers=headers)).json() == []


@BOTH_STORAGES
async def test_an_11_mib_upload_is_refused_and_nothing_is_kept(
    client: TestClient, api: Api, settings: Settings
) -> None:
    _, headers = await api.user()
    big = PNG + bytes(11 * 1024 * 1024)

    response = await upload(client, headers, big)
    assert response.status == 413
    assert "10 MiB" in (await response.json())["message"]

    async def chunked() -> Any:  # no Content-Length: the limit is enforced while streaming
        boundary = "mochungboundary"
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        yield PNG
        for _ in range(11):
            yield bytes(1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        "/api/file/upload",
        data=chunked(),
        headers={**headers, "Content-Type": "multipart/form-data; boundary=mochungboundary"},
    )
    assert response.status == 413
    assert await (await client.get("/api/file/my-files", headers=headers)).json() == []
    if not settings.uses_s3:
        stored = (
            [p for p in (settings.files_dir / "files").rglob("*") if p.is_file()] if settings.files_dir.exists() else []
        )
        assert stored == []


def raw_multipart(data: bytes, filename_header: bytes) -> tuple[bytes, str]:
    """A multipart body written by hand: HTTP clients refuse to send some hostile names."""
    boundary = "mochungboundary"
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename_header
        + b'"\r\n'
        + b"Content-Type: image/png\r\n\r\n"
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


async def test_hostile_filenames_are_only_metadata(client: TestClient, api: Api) -> None:
    user, headers = await api.user()
    cases = [
        (b"../../etc/passwd", "passwd"),
        (b"..\\\\..\\\\boot.ini", "boot.ini"),  # backslashes escaped, as quoted-string wants
        ("사진%00%1B[31m%7F.png".encode(), "사진[31m.png"),  # control characters arrive percent-encoded
        (b"evil%0D%0AX-Injected: 1.png", "evilX-Injected: 1.png"),
        (b"a" * 1000 + b".png", "a" * 251 + ".png"),
        (b"..", "file"),
    ]

    for raw_name, expected in cases:
        body, content_type = raw_multipart(PNG, raw_name)
        response = await client.post("/api/file/upload", data=body, headers={**headers, "Content-Type": content_type})
        assert response.status == 201, (raw_name, await response.text())
        created = await response.json()
        assert created["filename"] == expected
        assert re.search(rf"/files/{user['id']}/{UUID}\.png", created["url"])
        assert (await fetch(client, created["url"]))[2] == PNG

    # Raw control characters in a part header are malformed multipart: a clear 400, not a crash.
    body, content_type = raw_multipart(PNG, b"x\x00.png")
    response = await client.post("/api/file/upload", data=body, headers={**headers, "Content-Type": content_type})
    assert response.status == 400
    assert (await response.json())["message"] == "malformed multipart body"


async def test_my_files_is_mine_only_and_newest_first(client: TestClient, api: Api) -> None:
    _, mine = await api.user()
    _, theirs = await api.user()
    first = await (await upload(client, mine, PNG, filename="1.png")).json()
    second = await (await upload(client, mine, JPEG, filename="2.jpg")).json()
    await upload(client, theirs, PNG, filename="other.png")

    listed = await (await client.get("/api/file/my-files", headers=mine)).json()

    assert [item["id"] for item in listed] == [second["id"], first["id"]]


async def test_owner_only_delete_and_admin_override(client: TestClient, api: Api) -> None:
    _, owner = await api.user()
    _, stranger = await api.user()
    _, admin = await api.admin()
    created = await (await upload(client, owner, PNG)).json()
    path = f"/api/file/{created['id']}"

    assert (await client.delete(path)).status == 401
    response = await client.delete(path, headers=stranger)
    assert response.status == 404
    assert (await response.json())["statusCode"] == 404
    assert (await client.delete("/api/file/not-a-uuid", headers=owner)).status == 404
    assert (await fetch(client, created["url"]))[0] == 200  # still there

    assert (await client.delete(path, headers=admin)).status == 204
    assert (await client.delete(path, headers=owner)).status == 404
    entry = await AuditEntry.get(action="file.delete", target=f"file:{created['id']}")
    assert entry.details["filename"] == "photo.png"


@BOTH_STORAGES
async def test_health_reports_the_storage(client: TestClient) -> None:
    health = await (await client.get("/api/health")).json()

    assert health["services"]["storage"] == "ok"


async def test_auth_and_bad_requests(client: TestClient, api: Api) -> None:
    _, headers = await api.user()

    assert (await client.post("/api/file/upload", data=form(PNG))).status == 401
    assert (await client.get("/api/file/my-files")).status == 401
    response = await client.post("/api/file/upload", json={"file": "x"}, headers=headers)
    assert response.status == 400
    response = await upload(client, headers, PNG, field="photo")
    assert response.status == 400
    assert "'file'" in (await response.json())["message"]


@BOTH_STORAGES
async def test_local_file_route_refuses_escapes_with_the_error_shape(client: TestClient, settings: Settings) -> None:
    if settings.uses_s3:
        assert (await client.get("/files/files/x.png")).status == 404  # nothing is served locally in S3 mode
        return
    Path(settings.data_dir / "secret.txt").parent.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "secret.txt").write_text("secret")

    for target in ("/files/%2e%2e/secret.txt", "/files/..%2fsecret.txt", "/files/files", "/files/nothing.png"):
        response = await client.get(URL(target, encoded=True))
        assert response.status == 404, target
        body = await response.json()
        assert body["statusCode"] == 404 and body["error"] == "Not Found" and body["requestId"]


async def test_storage_down_is_503_and_nothing_is_half_made(
    aiohttp_client: Any, make_settings: Callable[..., Settings], moto: MotoServer
) -> None:
    # A bucket that does not exist: every write fails the way an unreachable S3 would.
    settings = make_settings(
        s3_bucket=unique_bucket_name("missing"),
        s3_region=moto.region,
        s3_endpoint_url=moto.endpoint_url,
        s3_access_key_id=moto.access_key_id,
        s3_secret_access_key=moto.secret_access_key,
    )
    client = await aiohttp_client(create_app(settings))
    _, headers = await Api(client).user()

    response = await upload(client, headers, PNG)
    assert response.status == 503
    body = await response.json()
    assert body["statusCode"] == 503 and "storage" in body["message"]
    assert moto.secret_access_key not in json.dumps(body)
    response = await client.post("/api/page/publish", json={"title": "t", "componentData": {}}, headers=headers)
    assert response.status == 503
    assert await (await client.get("/api/page/my-pages", headers=headers)).json() == []
    assert await (await client.get("/api/file/my-files", headers=headers)).json() == []
    health = await client.get("/api/health")
    assert health.status == 503 and (await health.json())["services"]["storage"] == "down"
