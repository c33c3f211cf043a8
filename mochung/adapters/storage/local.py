"""Local-folder storage (the embedded default) and the aiohttp handler that serves it under /files.

Layout under ``root``::

    {key}                      the object itself
    .meta/{key}.json           {"contentType": …} recorded at put time
    .tmp/                      half-written objects, renamed into place when complete

Keys never start a segment with a dot (see :func:`validate_key`), so the bookkeeping
folders can neither be written through ``put`` nor served by the handler.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO
from urllib.parse import quote

from aiohttp import web

from mochung.adapters.storage import DEFAULT_CONTENT_TYPE, content_type_for_key, validate_key
from mochung.domain.ports import InvalidStorageKey, StorageData, StorageError, StorageUnavailable, StoredObjectNotFound

LOCAL_FILES_ROUTE = "/files/{key:.+}"
FLUSH_BYTES = 1024 * 1024  # streamed puts are written to disk in chunks of about this size

# Served inline; anything else is sent as a download so a stored HTML or SVG file can never
# run script in this origin.
INLINE_MEDIA_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf", "text/plain", "text/markdown"}
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LocalFileStorage:
    name = "local"

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = Path(root)
        self._base_url = base_url.rstrip("/")

    # -- FileStorage -------------------------------------------------------------------------

    async def put(self, key: str, data: StorageData, content_type: str) -> None:
        validate_key(key)
        temp_path, temp_file = await asyncio.to_thread(self._open_temp)
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                await asyncio.to_thread(temp_file.write, data)
            else:
                pending = bytearray()
                async for chunk in data:
                    pending += chunk
                    if len(pending) >= FLUSH_BYTES:
                        await asyncio.to_thread(temp_file.write, bytes(pending))
                        pending.clear()
                if pending:
                    await asyncio.to_thread(temp_file.write, bytes(pending))
            await asyncio.to_thread(self._commit, temp_file, temp_path, key, content_type)
        except BaseException:
            # Synchronous on purpose: it must also run when the task is being cancelled.
            _discard(temp_file, temp_path)
            raise

    async def delete(self, key: str) -> None:
        validate_key(key)
        await asyncio.to_thread(self._delete, key)

    async def url(self, key: str) -> str:
        return f"{self._base_url}/files/{quote(validate_key(key), safe='/')}"

    async def read(self, key: str) -> bytes:
        validate_key(key)
        path = await asyncio.to_thread(self.locate, key)
        if path is None:
            raise StoredObjectNotFound(f"nothing is stored at {key!r}")
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:  # deleted in between
            raise StoredObjectNotFound(f"nothing is stored at {key!r}") from None

    async def exists(self, key: str) -> bool:
        validate_key(key)
        return await asyncio.to_thread(self.locate, key) is not None

    async def sweep_temp(self, older_than_seconds: float = 0.0) -> int:
        """Remove half-written objects left in ``.tmp/`` by a process that died mid-upload
        (only those older than ``older_than_seconds``, when other processes may be writing);
        returns how many were removed."""
        return await asyncio.to_thread(self._sweep_temp, older_than_seconds)

    async def check(self) -> str:
        try:
            await asyncio.to_thread(self._probe)
        except OSError as exc:
            raise StorageUnavailable(
                f"local file storage at {self.root} is not writable: {exc.strerror or exc}"
            ) from None
        return "ok"

    # -- serving -----------------------------------------------------------------------------

    def locate(self, key: str) -> Path | None:
        """The regular file stored at ``key``, resolved inside the root; None for anything else.

        Invalid keys, folders, missing files and symlinks leading out of the root all give None.
        Blocking (filesystem calls): run it in a thread.
        """
        try:
            validate_key(key)
        except InvalidStorageKey:
            return None
        try:
            root = self.root.resolve(strict=True)
            path = (root / key).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, or a symlink loop
            return None
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path

    def content_type(self, key: str) -> str:
        """The Content-Type recorded at put time, else one guessed from the extension. Blocking."""
        try:
            recorded = json.loads(self._meta_path(key).read_text()).get("contentType")
        except (OSError, ValueError, AttributeError):
            recorded = None
        return recorded if isinstance(recorded, str) and recorded else content_type_for_key(key)

    # -- internals (blocking; called through asyncio.to_thread) ------------------------------

    def _meta_path(self, key: str) -> Path:
        return self.root / ".meta" / f"{key}.json"

    def _open_temp(self) -> tuple[Path, IO[bytes]]:
        temp_dir = self.root / ".tmp"  # inside root, so the final rename stays on one filesystem
        temp_dir.mkdir(parents=True, exist_ok=True)
        temp_path = temp_dir / f"{uuid.uuid4().hex}.part"
        return temp_path, temp_path.open("xb")

    def _commit(self, temp_file: IO[bytes], temp_path: Path, key: str, content_type: str) -> None:
        temp_file.flush()
        os.fsync(temp_file.fileno())
        temp_file.close()
        target = self.root / key
        meta_path = self._meta_path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            meta_temp = self.root / ".tmp" / f"{uuid.uuid4().hex}.meta"
            meta_temp.write_text(json.dumps({"contentType": content_type or DEFAULT_CONTENT_TYPE}))
            os.replace(meta_temp, meta_path)
            os.replace(temp_path, target)
        except OSError as exc:  # e.g. a folder already where the file should go
            raise StorageError(f"could not store {key!r}: {exc.strerror or exc}") from None

    def _delete(self, key: str) -> None:
        for path in (self.root / key, self._meta_path(key)):
            try:
                path.unlink(missing_ok=True)
            except IsADirectoryError:  # a folder is not an object: nothing to delete
                pass
            except PermissionError as exc:  # unlink of a folder on some platforms
                if not path.is_dir():
                    raise StorageError(f"could not delete {key!r}: {exc.strerror}") from None

    def _sweep_temp(self, older_than_seconds: float) -> int:
        temp_dir = self.root / ".tmp"
        if not temp_dir.is_dir():
            return 0
        horizon = time.time() - older_than_seconds
        removed = 0
        for path in temp_dir.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime <= horizon:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # finished (renamed) or removed in between
                continue
        return removed

    def _probe(self) -> None:
        temp_dir = self.root / ".tmp"
        temp_dir.mkdir(parents=True, exist_ok=True)
        probe = temp_dir / f"health-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()


def _discard(temp_file: IO[bytes], temp_path: Path) -> None:
    try:
        temp_file.close()
    finally:
        temp_path.unlink(missing_ok=True)


def local_files_handler(storage: LocalFileStorage) -> Handler:
    """A GET handler for :data:`LOCAL_FILES_ROUTE` serving what ``storage`` holds.

    Anything that is not a stored regular file inside the root (bad key, ``..``, folder,
    symlink out of the root) is a plain 404, formatted by the app's error middleware.
    """

    async def serve_stored_file(request: web.Request) -> web.StreamResponse:
        key = request.match_info.get("key", "")
        path = await asyncio.to_thread(storage.locate, key)
        if path is None:
            raise web.HTTPNotFound(text="File not found")
        content_type = await asyncio.to_thread(storage.content_type, key)
        headers = {
            "Content-Type": content_type,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",  # revalidate by ETag: page snapshots change in place
        }
        if content_type.split(";")[0].strip().lower() not in INLINE_MEDIA_TYPES:
            headers["Content-Disposition"] = "attachment"
        return web.FileResponse(path, headers=headers)

    return serve_stored_file


def add_local_files_route(router: web.UrlDispatcher, storage: LocalFileStorage) -> web.AbstractRoute:
    """Mount the handler at ``GET /files/{key}`` (HEAD included)."""
    return router.add_get(LOCAL_FILES_ROUTE, local_files_handler(storage), name="stored-file")
