"""The /files handler of the local storage, over real HTTP: types, headers, and no way out of the root.

Traversal attempts are sent as raw request lines on a socket, because HTTP clients (aiohttp,
browsers) normalise ``..`` away before sending; an attacker's client does not.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from mochung.adapters.storage.local import LocalFileStorage
from mochung.domain.ports import StorageUnavailable
from tests.support.images import PNG


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def local(root: Path, local_files_server: TestServer) -> LocalFileStorage:
    return LocalFileStorage(root, str(local_files_server.make_url("")).rstrip("/"))


async def raw_get(server: TestServer, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Send ``target`` byte for byte as the request line and return (status, headers, body)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


async def test_serves_with_recorded_type_and_nosniff(local: LocalFileStorage, local_files_server: TestServer) -> None:
    await local.put("files/7/photo.png", PNG, "image/png")

    status, headers, body = await raw_get(local_files_server, "/files/files/7/photo.png")

    assert (status, body) == (200, PNG)
    assert headers["content-type"] == "image/png"
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-disposition" not in headers
    assert headers["etag"]


async def test_recorded_type_wins_over_the_extension(local: LocalFileStorage, local_files_server: TestServer) -> None:
    # The upload route decides the type from the bytes; the stored name cannot change it.
    await local.put("files/7/report.png", b"%PDF-1.7\n", "application/pdf")

    status, headers, _ = await raw_get(local_files_server, "/files/files/7/report.png")

    assert (status, headers["content-type"]) == (200, "application/pdf")


async def test_file_placed_by_hand_gets_a_type_from_its_extension(root: Path, local_files_server: TestServer) -> None:
    (root / "pages" / "7").mkdir(parents=True)
    (root / "pages" / "7" / "p.md").write_text("# 청첩장")
    (root / "pages" / "7" / "blob.xyz").write_bytes(b"?")

    status, headers, body = await raw_get(local_files_server, "/files/pages/7/p.md")
    assert (status, headers["content-type"], body.decode()) == (200, "text/markdown; charset=utf-8", "# 청첩장")
    status, headers, _ = await raw_get(local_files_server, "/files/pages/7/blob.xyz")
    assert (status, headers["content-type"]) == (200, "application/octet-stream")
    assert headers["content-disposition"] == "attachment"


async def test_active_content_is_only_ever_a_download(local: LocalFileStorage, local_files_server: TestServer) -> None:
    await local.put("files/7/x.html", b"<script>alert(1)</script>", "text/html")

    status, headers, _ = await raw_get(local_files_server, "/files/files/7/x.html")

    assert status == 200
    assert headers["content-disposition"] == "attachment"
    assert headers["x-content-type-options"] == "nosniff"


async def test_head_and_conditional_get(local: LocalFileStorage, local_files_server: TestServer) -> None:
    await local.put("files/7/photo.png", PNG, "image/png")

    status, headers, body = await raw_get(local_files_server, "/files/files/7/photo.png", method="HEAD")
    assert (status, headers["content-type"], headers["content-length"], body) == (
        200,
        "image/png",
        str(len(PNG)),
        b"",
    )

    reader, writer = await asyncio.open_connection(local_files_server.host, local_files_server.port)
    writer.write(
        b"GET /files/files/7/photo.png HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        + f"If-None-Match: {headers['etag']}\r\n\r\n".encode()
    )
    response = await reader.read()
    writer.close()
    assert response.startswith(b"HTTP/1.1 304")


@pytest.mark.parametrize(
    "target",
    [
        "/files/files",  # a folder
        "/files/files/7",
        "/files/files/7/",
        "/files/files/7/missing.png",
        "/files/../secret.txt",
        "/files/files/../../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E%2Fsecret.txt",
        "/files/..%2fsecret.txt",
        "/files/files%2f..%2f..%2fsecret.txt",
        "/files/..%5csecret.txt",
        "/files/%2fetc%2fpasswd",
        "/files//etc/passwd",
        "/files/files/7/photo.png%00.txt",
        "/files/.meta/files/7/photo.png.json",  # the bookkeeping folders are never served
        "/files/.tmp",
        "/files/files/7/escape.png",  # a symlink leading out of the root
    ],
)
async def test_nothing_but_stored_files_is_served(
    tmp_path: Path, root: Path, local: LocalFileStorage, local_files_server: TestServer, target: str
) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    await local.put("files/7/photo.png", PNG, "image/png")
    os.symlink(tmp_path / "secret.txt", root / "files" / "7" / "escape.png")

    status, _, body = await raw_get(local_files_server, target)

    assert status == 404
    assert b"top secret" not in body


async def test_symlink_escape_is_invisible_to_the_storage_api_too(tmp_path: Path, local: LocalFileStorage) -> None:
    (tmp_path / "secret.txt").write_text("top secret")
    (local.root / "files").mkdir(parents=True)
    os.symlink(tmp_path / "secret.txt", local.root / "files" / "escape.png")

    assert not await local.exists("files/escape.png")


async def test_url_points_at_the_files_route(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path, "https://mochung.example/")

    assert await storage.url("files/7/a.png") == "https://mochung.example/files/files/7/a.png"


async def test_failed_put_leaves_no_partial_file(local: LocalFileStorage) -> None:
    async def broken():  # type: ignore[no-untyped-def]
        yield b"half"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await local.put("files/7/half.png", broken(), "image/png")

    assert not await local.exists("files/7/half.png")
    assert list((local.root / ".tmp").iterdir()) == []


async def test_check_reports_an_unwritable_root(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    storage = LocalFileStorage(tmp_path / "not-a-folder", "http://localhost")

    with pytest.raises(StorageUnavailable, match="not writable"):
        await storage.check()
