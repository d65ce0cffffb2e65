"""The dev stack's payload key: made on the first start, kept in the data dir, reused after.

Restarts must keep decrypting the tickets already in the dev server's history, so the key is
written once (mode 0600, readable by its owner only) and read on every later start.
"""

from __future__ import annotations

import os
from pathlib import Path

from security.payload_codec import PayloadKeyError, PayloadKeys, new_key_line
from ticketflow.devstack.errors import DevStackError

KEYS_FILE = "payload-keys"
_HEADER = (
    "# TICKETFLOW_PAYLOAD_KEYS of this `ticketflow dev` data dir: the Temporal history here\n"
    "# is encrypted with it. Keep it as long as you keep the data dir.\n"
)


def dev_payload_keys(data_dir: Path) -> tuple[PayloadKeys, str]:
    """The keys in `data_dir/payload-keys`, made first if missing; and their text."""
    path = data_dir / KEYS_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(_HEADER + new_key_line("dev1") + "\n")
    text = path.read_text()
    try:
        keys = PayloadKeys.parse(text, source=str(path))
    except PayloadKeyError as err:
        raise DevStackError(f"{err}; fix the file, or start afresh with --fresh") from None
    if not keys:
        raise DevStackError(f"{path} holds no key; delete it, or start afresh with --fresh")
    return keys, text
