"""Where the bytes of ticket attachments live. The API builds one store from the settings
and keeps it for its lifetime."""

from __future__ import annotations

from api.services.file_store.base import (
    ContentTooLarge,
    Download,
    FileStore,
    Saved,
    Source,
    StorageUnavailable,
)
from api.services.file_store.local import LocalFileStore
from ticketflow.settings import Settings

__all__ = [
    "ContentTooLarge",
    "Download",
    "FileStore",
    "LocalFileStore",
    "Saved",
    "Source",
    "StorageUnavailable",
    "build_file_store",
]


def build_file_store(settings: Settings) -> FileStore:
    """The store the settings describe: the local attachments directory."""
    return LocalFileStore(settings.attachments_dir)
