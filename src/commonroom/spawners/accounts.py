"""One OS account per person, so that servers cannot read each other's files or the hub's.

Accounts Commonroom creates carry the person's Commonroom name in their comment field. That is how a shortened
name that happens to equal another person's account name is caught instead of sharing the account, and it is
why an account someone else made is only used when it is not a system account.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import re
import subprocess
import weakref
from dataclasses import dataclass
from pathlib import Path

from commonroom.spawners.base import SpawnError

MAX_NAME_LENGTH = 32
"""Longest account name useradd and most tools handle."""
_HASH_CHARS = 8
_VALID_NAME = re.compile(r"[a-z_][a-z0-9._-]*")
_COMMENT_PREFIX = "Commonroom user "
FIRST_PERSON_UID = 1000
_NOBODY_UID = 65534
DEFAULT_UIDS = range(FIRST_PERSON_UID, 60001)
"""Debian's login.defs range for people; spawner.local.uid_min and uid_max replace it."""
_USERADD_NO_FREE_UID = 4
_USERADD_TIMEOUT_SECONDS = 30.0

_creation_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
"""One lock per event loop: useradd runs one at a time, which keeps two first spawns of one person from
racing and keeps concurrent useradds off each other's /etc/passwd lock (useradd fails rather than waits)."""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    """Every group the account is in, its primary group included, as login would set them."""
    home: Path
    shell: str


def account_name(prefix: str, user: str) -> str:
    """The OS account name of a Commonroom user: prefix + user, shortened with a hash past 32 characters."""
    name = prefix + user
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_CHARS]
        name = f"{name[: MAX_NAME_LENGTH - _HASH_CHARS - 1]}-{digest}"
    if not _VALID_NAME.fullmatch(name):
        raise SpawnError(
            f"{name!r} is not a usable OS account name (it must start with a lowercase letter or _). "
            "An administrator can set spawner.local.account_prefix, e.g. to 'cr-'."
        )
    return name


def _find(name: str, user: str, uids: range) -> Account | None:
    """The account `name`, if it exists and may serve `user`; blocking (NSS may ask a directory server)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_gecos.startswith(_COMMENT_PREFIX) and entry.pw_gecos != _COMMENT_PREFIX + user:
        raise SpawnError(
            f"The OS account {name!r} was made for Commonroom user {entry.pw_gecos[len(_COMMENT_PREFIX):]!r}, "
            "not for you. An administrator must rename one of the two users."
        )
    if entry.pw_uid < FIRST_PERSON_UID or entry.pw_uid == _NOBODY_UID:
        raise SpawnError(
            f"{name!r} is a system account (uid {entry.pw_uid}); Commonroom does not run servers as system "
            "accounts. An administrator can set spawner.local.account_prefix so people get accounts of their own."
        )
    if entry.pw_uid not in uids:
        raise SpawnError(
            f"The OS account {name!r} already exists with uid {entry.pw_uid}, outside the range Commonroom gives "
            f"people ({_describe(uids)}), so it is not yours to use. An administrator can remove or rename that "
            "account, or widen spawner.local.uid_min / uid_max to include it."
        )
    return Account(
        name=name,
        uid=entry.pw_uid,
        gid=entry.pw_gid,
        groups=tuple(os.getgrouplist(name, entry.pw_gid)),
        home=Path(entry.pw_dir),
        shell=entry.pw_shell,
    )


def _describe(uids: range) -> str:
    return f"uids {uids.start}-{uids.stop - 1}"


async def find_account(name: str, user: str, uids: range = DEFAULT_UIDS) -> Account | None:
    """The OS account `name` of Commonroom user `user`, or None when there is none yet.

    Raises SpawnError when the account exists but belongs to another person, is a system account, or has a
    uid outside `uids` (an account someone else made that only shares the name).
    """
    return await asyncio.to_thread(_find, name, user, uids)


async def create_account(name: str, user: str, home_root: Path, uids: range = DEFAULT_UIDS) -> Account:
    """Make the account (home <home_root>/<name>, /bin/bash, no password, a uid from `uids`) unless it exists;
    SpawnError on failure.

    The home directory itself is left to homes.prepare_home, which makes and seeds it for both kinds of spawn.
    """
    lock = _creation_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        found = await find_account(name, user, uids)
        if found is None:
            await _useradd(name, user, home_root / name, uids)
            found = await find_account(name, user, uids)
    if found is None:
        raise SpawnError(f"useradd reported success, yet the OS account {name!r} cannot be found.")
    return found


async def _useradd(name: str, user: str, home: Path, uids: range) -> None:
    argv = ["useradd", "--home-dir", str(home), "--no-create-home", "--shell", "/bin/bash", "--user-group"]
    argv += ["--key", f"UID_MIN={uids.start}", "--key", f"UID_MAX={uids.stop - 1}"]
    argv += ["--comment", _COMMENT_PREFIX + user, "--", name]
    hint = "An administrator can create it by hand, or set spawner.local.os_accounts = 'never'."
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
    except OSError as exc:
        raise SpawnError(f"Could not run useradd to create your OS account {name!r} ({exc}). {hint}") from None
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), _USERADD_TIMEOUT_SECONDS)
    except TimeoutError:
        raise SpawnError(
            f"useradd did not finish within {_USERADD_TIMEOUT_SECONDS:g} s creating your OS account {name!r}. {hint}"
        ) from None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if proc.returncode == _USERADD_NO_FREE_UID and b"unique UID" in output:
        raise SpawnError(
            f"Could not create your OS account {name!r}: every uid Commonroom may give people ({_describe(uids)}) "
            "is taken. An administrator can widen spawner.local.uid_min / uid_max, or remove unused accounts."
        )
    if proc.returncode != 0:
        said = output.decode(errors="replace").strip() or "nothing"
        raise SpawnError(
            f"Could not create your OS account {name!r}: useradd exited with status {proc.returncode} and said: "
            f"{said}. {hint}"
        )
