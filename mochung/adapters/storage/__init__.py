"""File storage (the ``FileStorage`` port): a local folder (``local``, embedded) or S3 (``s3``).

Keys are chosen by the server, never by clients (``files/{userId}/{uuid}.png``,
``pages/{userId}/{pageId}.md``), so they are held to a strict, portable shape that is
safe both as a relative filesystem path and as an S3 key: ASCII letters, digits, ``.``,
``_`` and ``-`` in segments joined by ``/``. Segments starting with a dot are refused,
which rules out ``..`` and leaves the local implementation room for its own
bookkeeping folders.

Pick an implementation with :func:`open_storage`; it owns the S3 client's lifetime.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from mochung.domain.ports import FileStorage, InvalidStorageKey

if TYPE_CHECKING:
    from mochung.settings import Settings

MAX_KEY_BYTES = 1024  # the S3 limit; the database column is shorter anyway
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# What a stored object is served as when nothing was recorded at upload time
# (a file dropped into the local folder by hand, say).
CONTENT_TYPES_BY_EXTENSION = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "json": "application/json",
}

_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

def validate_key(key: object) -> str:
    """Return ``key`` unchanged when it is a safe storage key, else raise InvalidStorageKey."""
    if not isinstance(key, str):
        raise InvalidStorageKey(f"storage key must be a string, not {type(key).__name__}")
    shown = repr(key[:80])
    if not key:
        raise InvalidStorageKey("storage key is empty")
    if _CONTROL.search(key):
        raise InvalidStorageKey(f"storage key contains a control character: {shown}")
    if "\\" in key:
        raise InvalidStorageKey(f"storage key contains a backslash: {shown}")
    if key.startswith("/") or re.match(r"[A-Za-z]:", key):
        raise InvalidStorageKey(f"storage key must be relative, not absolute: {shown}")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidStorageKey(f"storage key is longer than {MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        if segment in ("..", "."):
            raise InvalidStorageKey(f"storage key contains a '{segment}' segment: {shown}")
        if not segment:
            raise InvalidStorageKey(f"storage key has an empty segment (leading, trailing or '//'): {shown}")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidStorageKey(
                "storage key segments may hold only ASCII letters, digits, '.', '_' and '-', "
                f"and may not start with '.': {shown}"
            )
    return key


def content_type_for_key(key: str) -> str:
    """A fallback Content-Type from the key's extension (``application/octet-stream`` if unknown)."""
    _, dot, extension = key.rpartition(".")
    if not dot or "/" in extension:
        return DEFAULT_CONTENT_TYPE
    return CONTENT_TYPES_BY_EXTENSION.get(extension.lower(), DEFAULT_CONTENT_TYPE)


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[FileStorage]:
    """The storage the settings ask for, open for the duration of the ``async with``.

    S3 when ``settings.uses_s3`` (one aiobotocore client, closed on exit); otherwise a local
    folder under ``settings.files_dir`` served by this app at ``{settings.base_url}/files/…``.
    """
    # Imported here so the embedded default never loads aiobotocore.
    if settings.uses_s3:
        from mochung.adapters.storage.s3 import open_s3_storage

        async with open_s3_storage(settings) as s3:
            yield s3
    else:
        from mochung.adapters.storage.local import LocalFileStorage

        yield LocalFileStorage(settings.files_dir, settings.base_url)
