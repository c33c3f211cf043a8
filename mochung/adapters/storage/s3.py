"""S3 (or any S3-compatible store) through aiobotocore: the distributed storage.

One client per process, opened by :func:`open_s3_storage` and closed when its ``async
with`` ends; the app's cleanup_ctx owns it. Clients get either ``{public base URL}/{key}``
(a CDN or a public bucket) or a presigned GET URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import BotoCoreError, ClientError

from mochung.adapters.storage import DEFAULT_CONTENT_TYPE, validate_key
from mochung.domain.ports import StorageData, StorageError, StorageUnavailable, StoredObjectNotFound
from mochung.settings import SettingsError

if TYPE_CHECKING:
    from mochung.settings import Settings

# A stream shorter than one part is a single PutObject; longer ones go up as a multipart
# upload, so memory stays at one part whatever the size. S3's minimum part is 5 MiB.
PART_BYTES = 8 * 1024 * 1024
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3FileStorage:
    name = "s3"

    def __init__(
        self,
        client: Any,  # an open aiobotocore S3 client (its type is generated at runtime)
        bucket: str,
        *,
        public_base_url: str | None = None,
        presign_seconds: int = 3600,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._presign_seconds = presign_seconds

    async def put(self, key: str, data: StorageData, content_type: str) -> None:
        validate_key(key)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        try:
            if isinstance(data, bytes | bytearray | memoryview):
                await self._put_object(key, bytes(data), content_type)
                return
            parts = _parts(data)
            first = await anext(parts, b"")
            second = await anext(parts, None)
            if second is None:
                await self._put_object(key, first, content_type)
            else:
                await self._put_multipart(key, content_type, first, second, parts)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"could not store {key!r} in S3: {_describe(exc)}") from None

    async def delete(self, key: str) -> None:
        validate_key(key)
        try:
            await self._client.delete_object(Bucket=self.bucket, Key=key)  # absent keys are fine in S3
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"could not delete {key!r} from S3: {_describe(exc)}") from None

    async def url(self, key: str) -> str:
        validate_key(key)
        if self._public_base_url:
            return f"{self._public_base_url}/{quote(key, safe='/')}"
        url: str = await self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self._presign_seconds
        )
        return url

    async def read(self, key: str) -> bytes:
        validate_key(key)
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=key)
            async with response["Body"] as body:
                content: bytes = await body.read()
                return content
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                raise StoredObjectNotFound(f"nothing is stored at {key!r}") from None
            raise StorageError(f"could not read {key!r} from S3: {_describe(exc)}") from None
        except BotoCoreError as exc:
            raise StorageError(f"could not read {key!r} from S3: {_describe(exc)}") from None

    async def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING_CODES:
                return False
            raise StorageError(f"could not look up {key!r} in S3: {_describe(exc)}") from None
        except BotoCoreError as exc:
            raise StorageError(f"could not look up {key!r} in S3: {_describe(exc)}") from None
        return True

    async def check(self) -> str:
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise StorageUnavailable(f"S3 bucket {self.bucket!r} is not reachable: {_describe(exc)}") from None
        return "ok"

    # -- internals ---------------------------------------------------------------------------

    async def _put_object(self, key: str, body: bytes, content_type: str) -> None:
        await self._client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    async def _put_multipart(
        self, key: str, content_type: str, first: bytes, second: bytes, rest: AsyncIterator[bytes]
    ) -> None:
        created = await self._client.create_multipart_upload(Bucket=self.bucket, Key=key, ContentType=content_type)
        upload_id = created["UploadId"]
        try:
            uploaded: list[dict[str, Any]] = []
            for part in (first, second):
                uploaded.append(await self._upload_part(key, upload_id, len(uploaded) + 1, part))
            async for part in rest:
                uploaded.append(await self._upload_part(key, upload_id, len(uploaded) + 1, part))
            await self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": uploaded}
            )
        except BaseException:
            # Unfinished uploads are billed storage: abort, whatever went wrong.
            try:
                await self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except (ClientError, BotoCoreError):
                pass
            raise

    async def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> dict[str, Any]:
        response = await self._client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"ETag": response["ETag"], "PartNumber": number}


async def _parts(data: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Regroup a stream of arbitrary chunks into PART_BYTES pieces (the last one shorter)."""
    pending = bytearray()
    async for chunk in data:
        pending += chunk
        while len(pending) >= PART_BYTES:
            yield bytes(pending[:PART_BYTES])
            del pending[:PART_BYTES]
    if pending:
        yield bytes(pending)


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _describe(exc: ClientError | BotoCoreError) -> str:
    """A short reason safe to log or show: the error code, never request details or keys."""
    if isinstance(exc, ClientError):
        return _error_code(exc) or "error"
    return type(exc).__name__


def _credentials(settings: Settings) -> dict[str, str]:
    key_id, secret = settings.s3_access_key_id, settings.s3_secret_access_key
    if key_id is None and secret is None:
        return {}  # botocore's default chain: environment, profile, instance role…
    if key_id is None or secret is None:
        raise SettingsError(
            "set both MOCHUNG_S3_ACCESS_KEY_ID and MOCHUNG_S3_SECRET_ACCESS_KEY, or neither "
            "to use the default AWS credential chain"
        )
    return {
        "aws_access_key_id": key_id.get_secret_value(),
        "aws_secret_access_key": secret.get_secret_value(),
    }


def client_config(endpoint_url: str | None, max_attempts: int = 3) -> AioConfig:
    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "warm_up_loader_caches": True,  # load botocore's JSON models off the event loop
        "retries": {"mode": "standard", "max_attempts": max_attempts},
    }
    if endpoint_url:
        # S3-compatible stores (MinIO, R2, moto…) want path-style URLs and often reject
        # the CRC checksums recent botocore adds to every request.
        options["s3"] = {"addressing_style": "path"}
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return AioConfig(**options)


@asynccontextmanager
async def open_s3_storage(
    settings: Settings, *, session: AioSession | None = None, max_attempts: int = 3
) -> AsyncIterator[S3FileStorage]:
    """An S3FileStorage on a fresh aiobotocore client, closed when the block ends.

    Pass ``session`` to reuse botocore's loaded service models across clients (tests open
    one client per test; a process opens one client in all). ``max_attempts`` counts the
    first try plus retries of throttled or failed requests.
    """
    if not settings.s3_bucket:
        raise SettingsError("MOCHUNG_S3_BUCKET is not set")
    session = session or get_session()
    async with session.create_client(
        "s3",
        region_name=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        config=client_config(settings.s3_endpoint_url, max_attempts),
        **_credentials(settings),
    ) as client:
        yield S3FileStorage(
            client,
            settings.s3_bucket,
            public_base_url=settings.s3_public_base_url,
            presign_seconds=settings.s3_presign_seconds,
        )
