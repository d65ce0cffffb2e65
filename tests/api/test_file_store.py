"""Both attachment stores, each against the real thing: a directory, and an S3 server (moto)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from api.services.file_store import (
    ContentTooLarge,
    Download,
    FileStore,
    LocalFileStore,
    StorageUnavailable,
    build_file_store,
)
from api.services.file_store.s3 import PART_BYTES, S3FileStore, s3_client
from tests.support.s3 import objects_in, unfinished_uploads, unreachable_endpoint
from ticketflow.settings import Settings

PREFIX = "files/"


class Chunks:
    """A source that yields `data` in reads of at most `size`, then fails if told to."""

    def __init__(self, data: bytes, fail: BaseException | None = None) -> None:
        self.stream = io.BytesIO(data)
        self.fail = fail

    async def read(self, size: int = -1, /) -> bytes:
        chunk = self.stream.read(size)
        if not chunk and self.fail is not None:
            raise self.fail
        return chunk


class Interrupted(Exception):
    """The client went away mid-upload."""


@pytest.fixture(params=["local", "s3"])
def kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def stored(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], list[str]]:
    """What the store under test holds, by name, and what it holds half-written."""
    if kind == "local":
        return lambda: sorted(p.name for p in tmp_path.iterdir()) if tmp_path.exists() else []
    bucket: str = request.getfixturevalue("s3_bucket")
    return lambda: sorted(objects_in(bucket)) + unfinished_uploads(bucket)


@pytest.fixture
def store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if kind == "local":
        return LocalFileStore(tmp_path)
    bucket: str = request.getfixturevalue("s3_bucket")  # first: it sets the AWS variables
    return S3FileStore(s3_client(), bucket, PREFIX)


def name_of(kind: str, file_id: UUID) -> str:
    return file_id.hex if kind == "local" else f"{PREFIX}{file_id.hex}"


async def read_all(download: Download | None) -> bytes:
    assert download is not None
    data = b"".join([chunk async for chunk in download.chunks])
    assert len(data) == download.size
    return data


async def test_a_stream_is_saved_under_its_id_and_read_back(
    store: FileStore, kind: str, stored: Callable[[], list[str]]
) -> None:
    file_id = uuid4()
    data = bytes(range(256)) * 4096  # 1 MiB: several chunks
    saved = await store.save_stream(file_id, Chunks(data), limit=len(data))
    assert saved.size == len(data)
    assert saved.url.startswith("file:///" if kind == "local" else "s3://tf-")
    assert saved.url.endswith(name_of(kind, file_id))
    assert stored() == [name_of(kind, file_id)]
    assert await read_all(await store.open(saved.url)) == data


async def test_a_stream_past_the_limit_is_refused_and_nothing_is_kept(
    store: FileStore, stored: Callable[[], list[str]]
) -> None:
    with pytest.raises(ContentTooLarge) as raised:
        await store.save_stream(uuid4(), Chunks(b"z" * 1001), limit=1000)
    assert raised.value.status == 413
    assert stored() == []


async def test_a_stream_larger_than_a_part_goes_up_in_parts(
    store: FileStore, stored: Callable[[], list[str]]
) -> None:
    data = b"p" * PART_BYTES + b"the last part"
    saved = await store.save_stream(uuid4(), Chunks(data), limit=len(data))
    assert await read_all(await store.open(saved.url)) == data
    assert len(stored()) == 1  # one object, no upload left open

    with pytest.raises(ContentTooLarge):  # refused after a part went up: the upload is aborted
        await store.save_stream(uuid4(), Chunks(data), limit=PART_BYTES + 1)
    assert len(stored()) == 1


async def test_a_stream_that_breaks_off_leaves_nothing(
    store: FileStore, stored: Callable[[], list[str]]
) -> None:
    for size in (10, PART_BYTES + 10):  # before any part went up, and after one did
        source = Chunks(b"b" * size, fail=Interrupted())
        with pytest.raises(Interrupted):
            await store.save_stream(uuid4(), source, limit=2 * PART_BYTES)
        assert stored() == []


async def test_saving_bytes_again_under_the_same_id_replaces_them(
    store: FileStore, kind: str, stored: Callable[[], list[str]]
) -> None:
    file_id = uuid4()
    first = await store.save_bytes(file_id, b"first delivery")
    again = await store.save_bytes(file_id, b"second delivery")
    assert first == again
    assert stored() == [name_of(kind, file_id)]
    assert await read_all(await store.open(again)) == b"second delivery"


async def test_a_deleted_or_unknown_file_opens_as_none(
    store: FileStore, kind: str, tmp_path: Path
) -> None:
    url = await store.save_bytes(uuid4(), b"short-lived")
    await store.delete(url)
    await store.delete(url)  # already gone: not an error
    assert await store.open(url) is None
    other = "s3://some-bucket/some-key" if kind == "local" else (tmp_path / "x").as_uri()
    assert await store.open(other) is None  # a URL of the other kind of store
    await store.delete(other)


async def test_a_local_file_is_read_wherever_its_url_points(tmp_path: Path) -> None:
    # Rows keep the absolute file: URL they were written with, so they still read after
    # TICKETFLOW_ATTACHMENTS_DIR moves, like rows from before the store existed.
    before = LocalFileStore(tmp_path / "old")
    url = await before.save_bytes(uuid4(), b"from before")
    assert url.startswith(f"file://{tmp_path}/old/")
    assert await read_all(await LocalFileStore(tmp_path / "new").open(url)) == b"from before"
    assert await LocalFileStore(tmp_path / "new").open(url + "-gone") is None
    assert await before.open(tmp_path.as_uri()) is None  # a directory is no file


async def test_a_local_directory_that_cannot_be_made_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "taken").write_bytes(b"a file where the directory should be")
    store = LocalFileStore(tmp_path / "taken" / "attachments")
    with pytest.raises(StorageUnavailable, match="cannot be made"):
        await store.check()
    with pytest.raises(StorageUnavailable) as raised:
        await store.save_stream(uuid4(), Chunks(b"data"), limit=100)
    assert raised.value.status == 503
    with pytest.raises(StorageUnavailable):
        await store.save_bytes(uuid4(), b"data")
    await LocalFileStore(tmp_path / "fine").check()
    assert (tmp_path / "fine").is_dir()


async def test_a_missing_bucket_fails_the_check_and_every_call(s3_bucket: str) -> None:
    await S3FileStore(s3_client(), s3_bucket).check()
    store = S3FileStore(s3_client(), f"{s3_bucket}-missing")
    with pytest.raises(StorageUnavailable, match=f"'{s3_bucket}-missing' cannot be used"):
        await store.check()
    with pytest.raises(StorageUnavailable) as raised:
        await store.save_bytes(uuid4(), b"data")
    assert raised.value.status == 503 and raised.value.code == "storage_unavailable"
    assert "missing" not in raised.value.detail  # the reason is logged, not told to clients
    with pytest.raises(StorageUnavailable):
        await store.save_stream(uuid4(), Chunks(b"data"), limit=100)
    with pytest.raises(StorageUnavailable):
        await store.open(f"s3://{s3_bucket}-missing/key")


async def test_an_unreachable_endpoint_is_unavailable(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", unreachable_endpoint())
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = S3FileStore(s3_client(), s3_bucket)
    with pytest.raises(StorageUnavailable, match="Could not connect"):
        await store.check()
    with pytest.raises(StorageUnavailable):
        await store.save_bytes(uuid4(), b"data")
    with pytest.raises(StorageUnavailable):
        await store.open(f"s3://{s3_bucket}/key")
    with pytest.raises(StorageUnavailable):
        await store.delete(f"s3://{s3_bucket}/key")


async def test_the_generic_endpoint_variable_and_path_addressing_are_honoured(
    s3_bucket: str, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    # `localhost`, unlike an IP address, would get virtual-host addressing by default.
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint.replace("127.0.0.1", "localhost"))
    client = s3_client("path")
    assert client.meta.config.s3 == {"addressing_style": "path"}
    url = await S3FileStore(client, s3_bucket).save_bytes(uuid4(), b"through localhost")
    assert url.startswith(f"s3://{s3_bucket}/")
    assert list(objects_in(s3_bucket).values()) == [b"through localhost"]


async def test_the_settings_choose_the_store(s3_bucket: str, tmp_path: Path) -> None:
    local = build_file_store(Settings(TICKETFLOW_ATTACHMENTS_DIR=tmp_path))
    assert isinstance(local, LocalFileStore) and local.directory == tmp_path
    assert isinstance(build_file_store(Settings(TICKETFLOW_S3_BUCKET="")), LocalFileStore)
    chosen = build_file_store(
        Settings(TICKETFLOW_S3_BUCKET=s3_bucket, TICKETFLOW_S3_PREFIX="tf/attachments/")
    )
    assert isinstance(chosen, S3FileStore)
    url = await chosen.save_bytes(uuid4(), b"chosen")
    assert url.startswith(f"s3://{s3_bucket}/tf/attachments/")


@pytest.mark.parametrize(
    "variables",
    [
        {"TICKETFLOW_S3_BUCKET": "Not_A_Bucket"},
        {"TICKETFLOW_S3_BUCKET": "ab"},
        {"TICKETFLOW_S3_BUCKET": "tickets", "TICKETFLOW_S3_PREFIX": "bad prefix?"},
        {"TICKETFLOW_S3_BUCKET": "tickets", "TICKETFLOW_S3_ADDRESSING_STYLE": "sideways"},
    ],
)
def test_bad_s3_settings_are_refused(variables: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(**variables)  # type: ignore[arg-type]
