"""Secrets the hub needs (cookie secret, proxy token, encryption key): generated on first start into files of
mode 0600 in the data directory, unless the configuration gives them."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (mode 0700) if needed and tighten an existing one: it holds the database and secrets."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def load_or_create(path: Path, nbytes: int = 32) -> str:
    """The secret stored at `path`, creating it (random, hex) with mode 0600 the first time."""
    try:
        value = path.read_text().strip()
        if value:
            os.chmod(path, 0o600)
            return value
    except FileNotFoundError:
        pass
    value = secrets.token_hex(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value
