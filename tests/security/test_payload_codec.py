"""The payload codec and its keys: round trip, rotation, unknown keys, malformed settings."""

from __future__ import annotations

import base64
import os

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from security.payload_codec import (
    ENCODING,
    KEY_ID_METADATA,
    AesGcmCodec,
    PayloadDecryptionError,
    PayloadKeyError,
    PayloadKeys,
    new_key_line,
)
from ticketflow.temporal import data_converter

SECRET_TEXT = "Ana Pérez's disk died"


def _key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


def _plain(text: str = SECRET_TEXT) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_payload_round_trips_and_is_sealed_in_between() -> None:
    codec = AesGcmCodec(PayloadKeys.parse(_key("k1")))
    [sealed] = await codec.encode([_plain()])
    assert dict(sealed.metadata) == {"encoding": ENCODING, KEY_ID_METADATA: b"k1"}
    assert SECRET_TEXT.encode() not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()  # the metadata is sealed too
    [opened] = await codec.decode([sealed])
    assert opened == _plain()


async def test_the_same_payload_seals_differently_each_time() -> None:
    codec = AesGcmCodec(PayloadKeys.parse(_key("k1")))
    first, second = await codec.encode([_plain(), _plain()])
    assert first.data != second.data


async def test_rotation_the_old_key_still_decrypts_the_new_one_encrypts() -> None:
    old, new = _key("k1"), _key("k2")
    [sealed_before] = await AesGcmCodec(PayloadKeys.parse(old)).encode([_plain("before")])
    rotated = AesGcmCodec(PayloadKeys.parse(f"{new},{old}"))
    [sealed_after] = await rotated.encode([_plain("after")])
    assert sealed_after.metadata[KEY_ID_METADATA] == b"k2"
    assert await rotated.decode([sealed_before, sealed_after]) == [
        _plain("before"),
        _plain("after"),
    ]


async def test_a_payload_of_an_unknown_key_fails_naming_its_key_id() -> None:
    [sealed] = await AesGcmCodec(PayloadKeys.parse(_key("gone"))).encode([_plain()])
    codec = AesGcmCodec(PayloadKeys.parse(_key("k1")))
    with pytest.raises(PayloadDecryptionError, match=r"'gone'.*TICKETFLOW_PAYLOAD_KEYS: k1"):
        await codec.decode([sealed])


async def test_a_key_of_the_same_id_but_other_bytes_does_not_open_it() -> None:
    [sealed] = await AesGcmCodec(PayloadKeys.parse(_key("k1"))).encode([_plain()])
    with pytest.raises(PayloadDecryptionError, match="does not decrypt with key 'k1'"):
        await AesGcmCodec(PayloadKeys.parse(_key("k1"))).decode([sealed])


async def test_a_payload_relabelled_with_another_key_id_does_not_open() -> None:
    line = _key("k1")
    secret = line.partition(":")[2]
    [sealed] = await AesGcmCodec(PayloadKeys.parse(line)).encode([_plain()])
    sealed.metadata[KEY_ID_METADATA] = b"k2"
    both = AesGcmCodec(PayloadKeys.parse(f"k2:{secret},{line}"))  # the same bytes, as k2
    with pytest.raises(PayloadDecryptionError):
        await both.decode([sealed])


async def test_payloads_that_are_not_encrypted_pass_through_decode() -> None:
    # Histories recorded before encryption was switched on must still replay.
    codec = AesGcmCodec(PayloadKeys.parse(_key("k1")))
    assert await codec.decode([_plain()]) == [_plain()]


async def test_without_keys_nothing_is_encrypted() -> None:
    codec = AesGcmCodec(PayloadKeys.parse(None))
    assert await codec.encode([_plain()]) == [_plain()]


async def test_the_data_converter_seals_pydantic_json_and_failure_texts() -> None:
    converter = data_converter(PayloadKeys.parse(_key("k1")))
    [sealed] = await converter.encode([{"title": SECRET_TEXT}])
    assert sealed.metadata["encoding"] == ENCODING
    assert await converter.decode([sealed]) == [{"title": SECRET_TEXT}]

    failure = Failure()
    await converter.encode_failure(ApplicationError(SECRET_TEXT, type="Refused"), failure)
    assert SECRET_TEXT.encode() not in failure.SerializeToString()
    error = await converter.decode_failure(failure)
    assert isinstance(error, ApplicationError)
    assert (error.message, error.type) == (SECRET_TEXT, "Refused")


def test_keys_parse_in_order_from_commas_lines_and_comments() -> None:
    first, second = _key("k2"), _key("k1")
    keys = PayloadKeys.parse(f"# rotated in June\n {first} ,\n{second}\n")
    assert keys.ids == ("k2", "k1")
    assert keys.encrypting == "k2"


def test_url_safe_base64_is_accepted_too() -> None:
    raw = os.urandom(32)
    keys = PayloadKeys.parse(f"k1:{base64.urlsafe_b64encode(raw).decode()}")
    assert keys.secrets["k1"] == raw


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("no-colon-here", "entry 1 is not `key-id:base64-key`"),
        (":AAAA", "entry 1 has an invalid key id"),
        ("k 1:AAAA", "entry 1 has an invalid key id"),
        ("k1:not*base64!", "the key of 'k1' is not valid base64"),
        (f"k1:{base64.b64encode(b'x' * 16).decode()}", "is 16 bytes; AES-256 needs 32"),
        ("DUP,DUP", "key id 'k1' is given twice"),
    ],
)
def test_malformed_keys_are_refused_with_a_clear_message(value: str, problem: str) -> None:
    if value == "DUP,DUP":
        value = f"{_key('k1')},{_key('k1')}"
    with pytest.raises(PayloadKeyError) as raised:
        PayloadKeys.parse(value)
    message = str(raised.value)
    assert message.startswith("TICKETFLOW_PAYLOAD_KEYS: ")
    assert problem in message


def test_a_malformed_entry_never_echoes_the_key() -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    for value in (key, f"k1:{key[:-4]}", f"k1:{key}=="):
        with pytest.raises(PayloadKeyError) as raised:
            PayloadKeys.parse(value)
        assert key[:8] not in str(raised.value)


def test_a_key_never_shows_in_a_repr() -> None:
    line = _key("k1")
    assert line.partition(":")[2] not in repr(PayloadKeys.parse(line))


def test_new_key_lines_are_valid_and_fresh() -> None:
    first, second = new_key_line("k7"), new_key_line("k7")
    assert first != second
    assert PayloadKeys.parse(first).ids == ("k7",)
    with pytest.raises(PayloadKeyError):
        new_key_line("no spaces")
