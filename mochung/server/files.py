"""File storage for the app (its cleanup context and the local /files route) and the
upload, my-files and delete routes of PROTOCOL.md "Files (S3)"."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import AsyncIterator
from urllib.parse import unquote

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from mochung.adapters.storage import open_storage
from mochung.adapters.storage.local import LOCAL_FILES_ROUTE, LocalFileStorage, local_files_handler
from mochung.domain import files
from mochung.domain.errors import DependencyDown, Invalid, NotFound, TooLarge, UnsupportedMediaType
from mochung.domain.models import StoredFile, User
from mochung.domain.ports import FileStorage, StorageError
from mochung.server import keys
from mochung.server.http.replies import filled, with_storage
from mochung.server.http.wire import UtcDatetime, WireModel, endpoint, respond

log = logging.getLogger("mochung.files")
routes = web.RouteTableDef()
_users_endpoint = functools.partial(endpoint, tag="files", auth="user")  # every file route is a user's
CHUNK_BYTES = 64 * 1024
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_SLACK = 16 * 1024
TEMP_GRACE_SECONDS = 3600.0  # distributed: a .tmp file this old belongs to no live upload


class UploadedFile(WireModel):
    id: str
    filename: str
    url: str
    mime_type: str
    size: int
    created_at: UtcDatetime


async def storage_context(app: web.Application) -> AsyncIterator[None]:
    """Open the configured storage for the app's lifetime and register its health check."""
    settings = app[keys.SETTINGS]
    async with open_storage(settings) as storage:
        if isinstance(storage, LocalFileStorage):
            # Uploads cut short by a crash leave their half-written file in .tmp/. An embedded
            # server is the only writer of its folder; processes sharing one keep the recent.
            removed = await storage.sweep_temp(TEMP_GRACE_SECONDS if settings.distributed else 0.0)
            if removed:
                log.info("removed %d half-written upload(s) from the file storage", removed)
        app[keys.STORAGE] = storage
        app[keys.HEALTH_CHECKS]["storage"] = storage.check
        yield


async def serve_local_file(request: web.Request) -> web.StreamResponse:
    storage = request.app[keys.STORAGE]
    if not isinstance(storage, LocalFileStorage):  # S3 mode: clients get S3 URLs, nothing is served here
        raise NotFound("File not found")
    return await local_files_handler(storage)(request)


def attach(app: web.Application) -> None:
    """Storage in the cleanup contexts; ``GET /files/…`` when files are kept locally."""
    app.cleanup_ctx.append(storage_context)
    if not app[keys.SETTINGS].uses_s3:
        app.router.add_get(LOCAL_FILES_ROUTE, serve_local_file, name="stored-file")
    app.router.add_routes(routes)


async def _file_response(stored: StoredFile, storage: FileStorage) -> UploadedFile:
    return filled(UploadedFile, stored, id=str(stored.id), url=await storage.url(stored.key))


_MALFORMED = (ValueError, AssertionError, HttpProcessingError)  # what aiohttp raises on a malformed body


async def _file_part(request: web.Request) -> tuple[MultipartReader, BodyPartReader]:
    if not request.content_type.startswith("multipart/"):
        raise Invalid("send the file as multipart/form-data in a field named 'file'", field="file")
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "file":
                return reader, part
            await part.release()  # another field: skipped, never kept
    except _MALFORMED as error:
        raise Invalid("malformed multipart body", field="file") from error
    raise Invalid("the multipart field 'file' is required", field="file")


async def _rest(reader: MultipartReader) -> None:
    """The fields after the file, skipped like those before it: a malformed one is refused
    the same way (400), before the file is kept."""
    try:
        while (part := await reader.next()) is not None:
            await part.release()
    except _MALFORMED as error:
        raise Invalid("malformed multipart body", field="file") from error


def _client_filename(part: BodyPartReader) -> str | None:
    """The filename as the user saw it. Browsers send UTF-8 with ``"``, CR and LF as %22, %0D,
    %0A; some clients (aiohttp, some mobile SDKs) percent-encode the whole name."""
    name = part.filename
    if name and "%" in name:
        try:
            return unquote(name, errors="strict")
        except UnicodeDecodeError:
            return name
    return name


@routes.post("/api/file/upload")
@_users_endpoint(
    summary="Upload a photo or PDF (JPEG, PNG, WebP, PDF; at most 10 MiB)",
    response=UploadedFile,
    status=201,
    errors=(400, 413, 415, 503),
    extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        # other fields are skipped, but each name is a header's text: no control
                        # character but tab, or the body cannot be read (400)
                        "propertyNames": {"pattern": "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f]*$"},
                    }
                }
            },
        }
    },
)
async def upload(request: web.Request, caller: User) -> web.Response:
    limit = request.app[keys.SETTINGS].max_upload_bytes
    too_large = TooLarge(f"the file is larger than {limit // (1024 * 1024)} MiB")
    if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
        raise too_large  # refused before reading any of it
    reader, part = await _file_part(request)
    head = b""
    while len(head) < files.SNIFF_BYTES and (chunk := await part.read_chunk(CHUNK_BYTES)):
        head += chunk
    file_type = files.sniff_file_type(head)
    if file_type is None:
        raise UnsupportedMediaType("only JPEG, PNG, WebP and PDF files are accepted")
    file_id, key = files.new_file_key(caller.id, file_type)
    size = 0

    async def body() -> AsyncIterator[bytes]:
        # Counted while streaming: the upload stops at the limit, it is never read to the end.
        nonlocal size
        chunk = head
        while chunk:
            size += len(chunk)
            if size > limit:
                raise too_large
            yield chunk
            chunk = await part.read_chunk(CHUNK_BYTES)
        await _rest(reader)

    storage = request.app[keys.STORAGE]
    try:
        await storage.put(key, body(), file_type.mime_type)
    except StorageError as error:
        log.warning("upload could not be stored: %s", error)
        raise DependencyDown("file storage is unavailable; try again") from None
    filename = files.clean_filename(_client_filename(part))
    stored = await files.record_file(file_id, caller, key, filename, file_type, size, storage)
    return respond(await _file_response(stored, storage), status=201)


@routes.get("/api/file/my-files")
@_users_endpoint(summary="My uploaded files, newest first", response=list[UploadedFile])
async def my_files(request: web.Request, caller: User) -> web.Response:
    return respond(await with_storage(request, await files.files_of(caller), _file_response))


@routes.delete("/api/file/{id}")
@_users_endpoint(summary="Delete a file and its stored object", status=204, errors=(404, 503))
async def delete(request: web.Request, caller: User, path_id: uuid.UUID) -> web.Response:
    await files.delete_file(str(path_id), caller, request.app[keys.STORAGE])
    return web.Response(status=204)
