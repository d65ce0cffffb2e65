"""Where the bytes of ticket attachments live: a local directory, or an S3 bucket that
several API replicas share. The API builds one store from the settings and keeps it."""

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
    """The S3 store when `TICKETFLOW_S3_BUCKET` is set, else the local directory."""
    if settings.s3_bucket is None:
        return LocalFileStore(settings.attachments_dir)
    # Imported here: a deployment on local disk never loads boto3.
    from api.services.file_store.s3 import S3FileStore, s3_client

    return S3FileStore(
        s3_client(settings.s3_addressing_style), settings.s3_bucket, settings.s3_prefix
    )
