"""moto's standalone S3-compatible server on a free localhost port, for tests of the S3 code.

The real aiobotocore client talks HTTP to it, so signing, retries and response parsing all
run. Start one per test session (:func:`moto_server` is a context manager; wrap it in a
session fixture) and give each test its own bucket name.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiobotocore.session import AioSession, get_session
from moto.server import ThreadedMotoServer

from mochung.settings import Settings

TEST_REGION = "ap-northeast-2"
# moto accepts any credentials; fixed fake ones keep the real AWS chain out of the tests.
TEST_ACCESS_KEY_ID = "moto-test-key-id"
TEST_SECRET_ACCESS_KEY = "moto-test-secret-access-key"


@dataclass(frozen=True)
class MotoServer:
    endpoint_url: str  # http://127.0.0.1:{port}
    region: str = TEST_REGION
    access_key_id: str = TEST_ACCESS_KEY_ID
    secret_access_key: str = TEST_SECRET_ACCESS_KEY


@contextmanager
def moto_server() -> Iterator[MotoServer]:
    """Run moto's server in a background thread on a port the OS picks; stop it on exit."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoServer(endpoint_url=f"http://{host}:{port}")
    finally:
        server.stop()


def unique_bucket_name(prefix: str = "mochung-test") -> str:
    """A valid, collision-free bucket name (lowercase, ≤ 63 characters)."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def s3_settings(moto: MotoServer, bucket: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings that make ``open_storage`` use this server (``.env`` is not read)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "s3_bucket": bucket,
        "s3_region": moto.region,
        "s3_endpoint_url": moto.endpoint_url,
        "s3_access_key_id": moto.access_key_id,
        "s3_secret_access_key": moto.secret_access_key,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def create_bucket(
    moto: MotoServer, bucket: str, session: AioSession | None = None, *, public_read: bool = False
) -> None:
    """Create ``bucket`` (tests own their buckets; the storage never creates one).

    ``public_read`` adds the bucket policy a public bucket behind ``s3_public_base_url`` has:
    anyone may GET objects.
    """
    async with (session or get_session()).create_client(
        "s3",
        region_name=moto.region,
        endpoint_url=moto.endpoint_url,
        aws_access_key_id=moto.access_key_id,
        aws_secret_access_key=moto.secret_access_key,
    ) as client:
        await client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": moto.region})
        if public_read:
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
            await client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
