"""Attachments in an S3 bucket (AWS or any S3-compatible server): `s3://bucket/key` URLs.

Every API replica configured with the same bucket serves every file. boto3 finds the endpoint,
region and credentials itself (`AWS_ENDPOINT_URL_S3`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`…);
its calls block, so each runs on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from uuid import UUID

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from api.services.file_store.base import (
    CHUNK_BYTES,
    Download,
    Saved,
    Source,
    StorageUnavailable,
    within,
)

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger(__name__)

AddressingStyle = Literal["auto", "path", "virtual"]
# A file larger than this goes up in parts of this size (S3 wants at least 5 MiB a part but
# the last); a smaller one in a single PUT. Either way an upload holds a part or two in memory,
# never the whole file.
PART_BYTES = 8 * 1024 * 1024
# A black-holed endpoint fails a request in seconds rather than after botocore's 60 s.
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30
_MISSING = frozenset({"NoSuchKey", "NotFound", "404"})
_STORAGE_ERRORS = (BotoCoreError, ClientError)
T = TypeVar("T")


def s3_client(addressing_style: AddressingStyle | None = None) -> S3Client:
    """A client configured by the standard AWS variables and files; `addressing_style`
    overrides theirs (boto3 reads it only from `~/.aws/config`, never the environment)."""
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        # None leaves the choice to boto3 (and `~/.aws/config`).
        s3={"addressing_style": addressing_style} if addressing_style else None,
    )
    # A session of its own: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client("s3", config=config)


def _reason(error: BotoCoreError | ClientError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'error')}: {details.get('Message', error)}"
    return str(error)


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _MISSING


def _unavailable(action: str, error: BotoCoreError | ClientError) -> StorageUnavailable:
    log.error("attachment store: could not %s: %s", action, _reason(error))
    return StorageUnavailable()


async def _chunks(body: StreamingBody) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(body.read, CHUNK_BYTES):
            yield chunk
    finally:
        body.close()


class _PartsUpload:
    """One object written as it streams in: a single PUT if it fits in one part, else a
    multipart upload. Nothing is visible before `finish`; `abort` leaves nothing behind."""

    def __init__(self, store: S3FileStore, key: str) -> None:
        self.store = store
        self.key = key
        self.buffer = bytearray()
        self.upload_id: str | None = None
        self.parts: list[CompletedPartTypeDef] = []

    async def write(self, chunk: bytes) -> None:
        self.buffer += chunk
        while len(self.buffer) >= PART_BYTES:
            part = bytes(self.buffer[:PART_BYTES])
            del self.buffer[:PART_BYTES]
            await self._send_part(part)

    async def _send_part(self, data: bytes) -> None:
        client, bucket = self.store.client, self.store.bucket
        if self.upload_id is None:
            created = await self.store.call(
                client.create_multipart_upload, Bucket=bucket, Key=self.key
            )
            self.upload_id = created["UploadId"]
        number = len(self.parts) + 1
        sent = await self.store.call(
            client.upload_part,
            Bucket=bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=data,
        )
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})

    async def finish(self) -> None:
        client, bucket = self.store.client, self.store.bucket
        if self.upload_id is None:
            data = bytes(self.buffer)
            await self.store.call(client.put_object, Bucket=bucket, Key=self.key, Body=data)
            return
        if self.buffer:
            await self._send_part(bytes(self.buffer))
        await self.store.call(
            client.complete_multipart_upload,
            Bucket=bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    async def abort(self) -> None:
        if self.upload_id is None:
            return
        try:
            await self.store.call(
                self.store.client.abort_multipart_upload,
                Bucket=self.store.bucket,
                Key=self.key,
                UploadId=self.upload_id,
            )
        except StorageUnavailable:
            # The bucket's lifecycle rule for incomplete uploads removes what is left.
            log.warning("multipart upload %s of %s was not aborted", self.upload_id, self.key)


class S3FileStore:
    """Files named `<prefix><id hex>` in `bucket`. A URL names its own bucket and key, so
    rows keep working after the prefix changes."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    async def call(self, method: Callable[..., T], **params: Any) -> T:
        """`method(**params)` on a worker thread; storage failures become `StorageUnavailable`."""
        try:
            return await asyncio.to_thread(method, **params)
        except _STORAGE_ERRORS as error:
            raise _unavailable(method.__name__, error) from error

    def _key(self, file_id: UUID) -> str:
        return f"{self.prefix}{file_id.hex}"

    def _url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    async def check(self) -> None:
        try:
            await asyncio.to_thread(self.client.head_bucket, Bucket=self.bucket)
        except _STORAGE_ERRORS as error:
            raise StorageUnavailable(
                f"the attachment bucket {self.bucket!r} cannot be used: {_reason(error)}"
            ) from error

    async def save_stream(self, file_id: UUID, source: Source, *, limit: int) -> Saved:
        upload = _PartsUpload(self, self._key(file_id))
        size = 0
        try:
            async for chunk in within(source, limit):
                size += len(chunk)
                await upload.write(chunk)
            await upload.finish()
        except BaseException:
            await upload.abort()
            raise
        return Saved(self._url(upload.key), size)

    async def save_bytes(self, file_id: UUID, data: bytes) -> str:
        key = self._key(file_id)
        await self.call(self.client.put_object, Bucket=self.bucket, Key=key, Body=data)
        return self._url(key)

    async def open(self, url: str) -> Download | None:
        location = _location(url)
        if location is None:
            log.warning("attachment %s is not an s3:// URL, which this store cannot read", url)
            return None
        bucket, key = location
        try:
            found = await asyncio.to_thread(self.client.get_object, Bucket=bucket, Key=key)
        except ClientError as error:
            if _is_missing(error):
                return None
            raise _unavailable(f"read {url}", error) from error
        except BotoCoreError as error:
            raise _unavailable(f"read {url}", error) from error
        return Download(found["ContentLength"], _chunks(found["Body"]))

    async def delete(self, url: str) -> None:
        location = _location(url)
        if location is not None:
            bucket, key = location
            await self.call(self.client.delete_object, Bucket=bucket, Key=key)


def _location(url: str) -> tuple[str, str] | None:
    """The bucket and key of an `s3://bucket/key` URL (None for any other URL)."""
    scheme, _, rest = url.partition("://")
    bucket, _, key = rest.partition("/")
    return (bucket, key) if scheme == "s3" and bucket and key else None
