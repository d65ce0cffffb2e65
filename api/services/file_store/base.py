"""What every attachment store offers, and the two ways it can fail a request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from api.errors import ApiError

# The size of each read and write: large enough to keep thread hops rare, small enough that
# concurrent transfers hold little memory.
CHUNK_BYTES = 256 * 1024


class ContentTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"an attachment may be at most {limit} bytes", code="content_too_large"
        )


class StorageUnavailable(ApiError):
    """The store cannot be reached (or refuses us): the request may succeed later."""

    def __init__(self, detail: str = "the attachment store is unavailable; retry shortly") -> None:
        super().__init__(503, detail, code="storage_unavailable", headers={"Retry-After": "5"})


class Source(Protocol):
    """Bytes read a chunk at a time, as from an `UploadFile`."""

    async def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Saved:
    url: str
    size: int


@dataclass(frozen=True)
class Download:
    """A stored file being read: its size, and its bytes as they come."""

    size: int
    chunks: AsyncIterator[bytes]


class FileStore(Protocol):
    """Where attachment bytes live. A file is named by the URL its save returns, which the
    `attachments` row keeps; `open` and `delete` take that URL back."""

    async def check(self) -> None:
        """Raise `StorageUnavailable` (saying why) if the store cannot be used."""
        ...

    async def save_stream(self, file_id: UUID, source: Source, *, limit: int) -> Saved:
        """Store `source` under `file_id`, whole or not at all; `ContentTooLarge` (nothing
        kept) once it passes `limit` bytes."""
        ...

    async def save_bytes(self, file_id: UUID, data: bytes) -> str:
        """Store `data` under `file_id`, replacing what was there; its URL."""
        ...

    async def open(self, url: str) -> Download | None:
        """The file at `url` for reading, or None if its bytes are gone."""
        ...

    async def delete(self, url: str) -> None:
        """Remove the file at `url`; a file already gone is not an error."""
        ...


async def within(source: Source, limit: int) -> AsyncIterator[bytes]:
    """The chunks of `source`, raising `ContentTooLarge` as soon as they pass `limit` bytes."""
    size = 0
    while chunk := await source.read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise ContentTooLarge(limit)
        yield chunk
