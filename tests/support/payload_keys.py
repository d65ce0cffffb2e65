"""The tests' payload key and the production data converter on it.

The key is a test key, committed on purpose beside the history corpus (whose encrypted
histories were recorded with it): never use it anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from security.payload_codec import PayloadKeys
from ticketflow.temporal import data_converter

TEST_KEYS_FILE = Path(__file__).parents[1] / "workflows" / "histories" / "test-payload-keys"
TEST_KEYS = PayloadKeys.read(TEST_KEYS_FILE)
# The entry as `TICKETFLOW_PAYLOAD_KEYS` takes it, for `ticketflow` subprocesses.
TEST_KEYS_SETTING = next(
    line.strip()
    for line in TEST_KEYS_FILE.read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
)
TEST_CONVERTER = data_converter(TEST_KEYS)
