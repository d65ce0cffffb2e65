"""Attachments in a directory of this machine: `file:` URLs, written atomically.

The default, and what `ticketflow dev` uses. Only the machine that wrote a file can serve it,
so several API replicas need the S3 store instead (or a directory they all mount).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit
from uuid import UUID

from api.services.file_store.base import (
    CHUNK_BYTES,
    Download,
    Saved,
    Source,
    StorageUnavailable,
    within,
)

log = logging.getLogger(__name__)

_GONE = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


def path_of(url: str) -> Path | None:
    """The file behind a `file:` URL (None for any other URL)."""
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def _unavailable(action: str, error: OSError) -> StorageUnavailable:
    log.error("attachment store: could not %s: %s", action, error)
    return StorageUnavailable()


async def _chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


def _open(path: Path) -> tuple[BinaryIO, int]:
    handle = path.open("rb")
    try:
        return handle, os.fstat(handle.fileno()).st_size
    except BaseException:
        handle.close()
        raise


class LocalFileStore:
    """Files named by their id's hex in `directory`, each written to a hidden `.partial`
    file first and renamed into place, so a reader never sees half a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    def _paths(self, file_id: UUID) -> tuple[Path, Path]:
        return self.directory / file_id.hex, self.directory / f".{file_id.hex}.partial"

    async def check(self) -> None:
        try:
            await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        except OSError as error:
            raise StorageUnavailable(
                f"the attachments directory {self.directory} cannot be made: {error}"
            ) from error

    async def save_stream(self, file_id: UUID, source: Source, *, limit: int) -> Saved:
        target, partial = self._paths(file_id)
        size = 0
        try:
            await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
            out: BinaryIO = await asyncio.to_thread(partial.open, "wb")
        except OSError as error:
            raise _unavailable(f"write {partial}", error) from error
        try:
            async for chunk in within(source, limit):
                size += len(chunk)
                await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(out.close)
            await asyncio.to_thread(partial.replace, target)
        except BaseException as error:
            await asyncio.to_thread(out.close)
            await asyncio.to_thread(partial.unlink, missing_ok=True)
            if isinstance(error, OSError):
                raise _unavailable(f"write {partial}", error) from error
            raise
        return Saved(target.as_uri(), size)

    def _write(self, file_id: UUID, data: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        target, partial = self._paths(file_id)
        partial.write_bytes(data)
        partial.replace(target)
        return target

    async def save_bytes(self, file_id: UUID, data: bytes) -> str:
        try:
            target = await asyncio.to_thread(self._write, file_id, data)
        except OSError as error:
            raise _unavailable(f"write {file_id.hex}", error) from error
        return target.as_uri()

    async def open(self, url: str) -> Download | None:
        path = path_of(url)
        if path is None:
            log.warning("attachment %s is not a file: URL, which this store cannot read", url)
            return None
        try:
            handle, size = await asyncio.to_thread(_open, path)
        except _GONE:
            return None
        except OSError as error:
            raise _unavailable(f"read {path}", error) from error
        return Download(size, _chunks(handle))

    async def delete(self, url: str) -> None:
        path = path_of(url)
        if path is None:
            return
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as error:
            raise _unavailable(f"delete {path}", error) from error
