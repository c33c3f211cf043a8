"""Uploaded files: what a type is (decided from the bytes), how names and keys are made,
and the records that tie an object in storage to its owner."""

from __future__ import annotations

import logging
import unicodedata
import uuid
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from mochung.domain import audit
from mochung.domain.errors import DependencyDown, NotFound
from mochung.domain.models import Page, StoredFile, User
from mochung.domain.ports import FileStorage, StorageError

log = logging.getLogger("mochung.files")
SNIFF_BYTES = 12  # enough for every signature below
MAX_FILENAME = 255


@dataclass(frozen=True)
class FileType:
    mime_type: str
    extension: str


JPEG = FileType("image/jpeg", "jpg")
PNG = FileType("image/png", "png")
WEBP = FileType("image/webp", "webp")
PDF = FileType("application/pdf", "pdf")


def sniff_file_type(head: bytes) -> FileType | None:
    """The accepted type these first bytes begin, or None. Names and client headers are never asked."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def clean_filename(name: str | None) -> str:
    """The client's filename made safe to keep and show: last path part only, no control
    characters, at most 255 characters. It is metadata; it never reaches a storage key."""
    if not name:
        return "file"
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if name in ("", ".", ".."):
        return "file"
    if len(name) <= MAX_FILENAME:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and 0 < len(extension) <= 10:
        return stem[: MAX_FILENAME - len(extension) - 1] + "." + extension
    return name[:MAX_FILENAME]


def new_file_key(user_id: uuid.UUID, file_type: FileType) -> tuple[uuid.UUID, str]:
    file_id = uuid.uuid4()
    return file_id, f"files/{user_id}/{file_id}.{file_type.extension}"


async def record_file(
    file_id: uuid.UUID, user: User, key: str, filename: str, file_type: FileType, size: int, storage: FileStorage
) -> StoredFile:
    """Record a stored object; if that fails the object is removed so nothing is orphaned."""
    try:
        return await StoredFile.create(
            id=file_id, user=user, key=key, filename=filename, mime_type=file_type.mime_type, size=size
        )
    except BaseException:
        try:
            await storage.delete(key)
        except StorageError:
            log.warning("could not remove the object of a failed upload: %s", key)
        raise


async def files_of(user: User) -> list[StoredFile]:
    return await StoredFile.filter(user_id=user.id).order_by("-created_at", "-id")


async def delete_file(file_id: str, user: User, storage: FileStorage) -> None:
    """Remove a file the user owns (any file for an admin). Someone else's file is NotFound.

    The object goes first: a delete that fails half-way leaves the record, so the owner
    can simply try again (deleting an absent object is not an error).
    """
    query = StoredFile.filter(id=file_id)
    if not user.is_admin:
        query = query.filter(user_id=user.id)
    stored = await query.first()
    if stored is None:
        raise NotFound("file not found")
    details = {"filename": stored.filename, "key": stored.key}
    await delete_with_object(stored, stored.key, user, storage, "file.delete", f"file:{stored.id}", details)


async def delete_with_object(
    row: Page | StoredFile,
    key: str,
    user: User,
    storage: FileStorage,
    action: str,
    target: str,
    details: dict[str, str],
) -> None:
    """Delete ``row``'s stored object ``key``, then ``row``. An admin removing someone else's
    is audited (``action`` on ``target``: ``details`` and the owner's id) with the delete.
    The object goes first, so a failure half-way leaves the row to delete again."""
    try:
        await storage.delete(key)
    except StorageError as error:
        raise DependencyDown("file storage is unavailable; try again") from error
    async with in_transaction() as connection:
        await row.delete(using_db=connection)
        if row.user_id != user.id:  # an admin removing someone's
            await audit.record(user.id, action, target, {**details, "ownerId": str(row.user_id)}, connection)
