"""One behaviour, two implementations: every test here runs on the local folder and on S3 (moto).

What a client sees is checked over HTTP: the URL ``url()`` hands out is fetched with aiohttp
and must return the stored bytes with the stored Content-Type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from mochung.domain.ports import FileStorage, InvalidStorageKey, StoredObjectNotFound
from tests.support.images import PNG

MARKDOWN = "---\ntitle: 우리 결혼합니다\n---\n\n```yaml\ntype: cover\n```\n".encode()


async def fetch(url: str) -> tuple[int, str, bytes]:
    """GET the URL exactly as given (presigned query strings must not be re-encoded)."""
    async with aiohttp.ClientSession() as session, session.get(URL(url, encoded=True)) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_put_then_read_exists_and_fetch_by_url(storage: FileStorage) -> None:
    key = "files/42/0b7c6c3e-2f7a-4a36-9d3c-2d1f4f0a9e11.png"

    await storage.put(key, PNG, "image/png")

    assert await storage.exists(key)
    assert await storage.read(key) == PNG
    status, content_type, body = await fetch(await storage.url(key))
    assert (status, content_type, body) == (200, "image/png", PNG)


async def test_markdown_snapshot_round_trips_with_its_content_type(storage: FileStorage) -> None:
    key = "pages/42/page-7.md"

    await storage.put(key, MARKDOWN, "text/markdown; charset=utf-8")

    status, content_type, body = await fetch(await storage.url(key))
    assert status == 200
    assert content_type.startswith("text/markdown")
    assert body.decode() == MARKDOWN.decode()


async def test_streamed_put_stores_every_chunk(storage: FileStorage) -> None:
    key = "files/42/streamed.pdf"
    data = b"%PDF-1.7\n" + bytes(range(256)) * 400

    await storage.put(key, chunks(data, 1000), "application/pdf")

    assert await storage.read(key) == data


async def test_large_stream_goes_up_whole(storage: FileStorage) -> None:
    # Over one S3 part (8 MiB): a multipart upload on S3, a chunked write locally.
    key = "files/42/large.jpg"
    data = b"\xff\xd8\xff" + b"\x5a" * (9 * 1024 * 1024)

    await storage.put(key, chunks(data, 64 * 1024), "image/jpeg")

    status, content_type, body = await fetch(await storage.url(key))
    assert (status, content_type, len(body)) == (200, "image/jpeg", len(data))
    assert body == data


async def test_empty_object(storage: FileStorage) -> None:
    await storage.put("files/42/empty.png", chunks(b"", 10), "image/png")

    assert await storage.exists("files/42/empty.png")
    assert await storage.read("files/42/empty.png") == b""


async def test_put_replaces_content_and_type(storage: FileStorage) -> None:
    key = "pages/42/page-1.md"
    await storage.put(key, b"first", "text/plain")

    await storage.put(key, MARKDOWN, "text/markdown; charset=utf-8")

    status, content_type, body = await fetch(await storage.url(key))
    assert (status, body) == (200, MARKDOWN)
    assert content_type.startswith("text/markdown")


async def test_failed_stream_keeps_the_previous_object(storage: FileStorage) -> None:
    key = "files/42/replaced.png"
    await storage.put(key, PNG, "image/png")

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(2):  # past two S3 parts, so a multipart upload is under way
            yield b"\x00" * (9 * 1024 * 1024)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put(key, broken(), "image/png")

    assert await storage.read(key) == PNG


async def test_delete_removes_and_is_idempotent(storage: FileStorage) -> None:
    key = "files/42/gone.webp"
    await storage.put(key, b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp")
    url = await storage.url(key)

    await storage.delete(key)
    await storage.delete(key)
    await storage.delete("files/42/never-existed.png")

    assert not await storage.exists(key)
    with pytest.raises(StoredObjectNotFound):
        await storage.read(key)
    status, _, _ = await fetch(url)
    assert status in (403, 404)  # S3 answers 403 or 404 for a missing object depending on rights


async def test_missing_key(storage: FileStorage) -> None:
    assert not await storage.exists("files/42/nothing.png")
    with pytest.raises(StoredObjectNotFound, match="nothing is stored"):
        await storage.read("files/42/nothing.png")


async def test_a_folder_is_not_an_object(storage: FileStorage) -> None:
    await storage.put("files/42/inside.png", PNG, "image/png")

    assert not await storage.exists("files/42")
    with pytest.raises(StoredObjectNotFound):
        await storage.read("files/42")
    await storage.delete("files/42")  # nothing to delete, and the file inside survives
    assert await storage.exists("files/42/inside.png")


async def test_check_and_name(storage: FileStorage) -> None:
    assert await storage.check() == "ok"
    assert storage.name in ("local", "s3")


BAD_KEYS = [
    ("", "empty"),
    ("../etc/passwd", "'..' segment"),
    ("files/../../etc/passwd", "'..' segment"),
    ("files/./x.png", "'.' segment"),
    ("/etc/passwd", "relative"),
    ("C:/Windows/x.png", "relative"),
    ("files\\42\\x.png", "backslash"),
    ("files/42/x\x00.png", "control character"),
    ("files/42/x\n.png", "control character"),
    ("files/42/\x7f.png", "control character"),
    ("files//x.png", "empty segment"),
    ("files/42/", "empty segment"),
    (".meta/files/42/x.png.json", "may not start with '.'"),
    ("files/42/.hidden", "may not start with '.'"),
    ("files/42/사진.png", "ASCII"),
    ("files/42/my photo.png", "ASCII"),
    ("files/" + "a" * 1100, "longer than 1024 bytes"),
]


@pytest.mark.parametrize(("key", "reason"), BAD_KEYS, ids=[repr(key[:30]) for key, _ in BAD_KEYS])
async def test_bad_keys_are_refused_before_any_io(storage: FileStorage, key: str, reason: str) -> None:
    for attempt in (
        storage.put(key, b"x", "image/png"),
        storage.read(key),
        storage.exists(key),
        storage.delete(key),
        storage.url(key),
    ):
        with pytest.raises(InvalidStorageKey, match=reason.replace(".", r"\.")):
            await attempt


async def test_nothing_escapes_the_local_root(tmp_path: Path, storage: FileStorage) -> None:
    with pytest.raises(InvalidStorageKey):
        await storage.put("../outside.png", PNG, "image/png")
    assert not (tmp_path / "outside.png").exists()
