"""`ticketflow dev`'s payload key: made once in the data dir, private, reused on every start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ticketflow.devstack import DevStackError, TemporalDevServer
from ticketflow.devstack.payload_keys import KEYS_FILE, dev_payload_keys


def test_the_first_start_makes_a_private_key_and_later_starts_reuse_it(tmp_path: Path) -> None:
    keys, text = dev_payload_keys(tmp_path)
    path = tmp_path / KEYS_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.encrypting is not None
    again, text_again = dev_payload_keys(tmp_path)
    assert (again, text_again) == (keys, text)


def test_a_damaged_key_file_stops_the_start_with_a_way_out(tmp_path: Path) -> None:
    (tmp_path / KEYS_FILE).write_text("dev1:not-a-key\n")
    with pytest.raises(DevStackError, match="--fresh"):
        dev_payload_keys(tmp_path)


def test_the_dev_server_points_its_web_ui_at_the_codec_endpoint(tmp_path: Path) -> None:
    endpoint = "http://127.0.0.1:8000/codec"
    command = TemporalDevServer(tmp_path, ui_codec_endpoint=endpoint).command()
    assert command[command.index("--ui-codec-endpoint") + 1] == endpoint
    headless = TemporalDevServer(tmp_path, headless=True, ui_codec_endpoint=endpoint).command()
    assert "--ui-codec-endpoint" not in headless
