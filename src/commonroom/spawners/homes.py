"""Home directories: made once, seeded once from the welcome folder, never deleted.

A new home is assembled in a hidden staging folder next to it and renamed into place, so a home either exists
complete or not at all: a crash half-way through seeding cannot leave a home that would never be seeded, and
two servers of one person starting together cannot both seed it.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path


def prepare_home(home: Path, welcome: Path | None, owner: tuple[int, int] | None) -> bool:
    """Make `home` (mode 0700, owned by owner's (uid, gid)) with a copy of `welcome`, unless it exists.

    Returns whether the home was made now. Blocking; raises OSError when the home cannot be made.
    """
    if home.exists():
        return False
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{home.name}.", dir=home.parent))
    try:
        if welcome is not None:
            shutil.copytree(welcome, staging, symlinks=True, dirs_exist_ok=True)
        if owner is not None:
            _chown_tree(staging, *owner)
        staging.chmod(0o700)
        staging.rename(home)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and home.is_dir():
            return False
        raise
    return True


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            os.lchown(os.path.join(folder, name), uid, gid)
