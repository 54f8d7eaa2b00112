"""What a user name may be. Names become URL segments and (with OS accounts) parts of account names, so the
rule is deliberately narrow: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit."""

from __future__ import annotations

import re

MAX_LENGTH = 32
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
RESERVED = frozenset({"hub", "user", "users", "api", "admin", "root", "services", "static", "login", "logout"})


def normalize(name: str) -> str:
    return name.strip().lower()


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a user name, or None."""
    if not name:
        return "Enter a user name."
    if len(name) > MAX_LENGTH:
        return f"User names are at most {MAX_LENGTH} characters; this one has {len(name)}."
    if not _NAME.match(name):
        return (
            "User names may contain only lowercase letters, digits, '.', '_' and '-', "
            "and must start with a letter or digit."
        )
    if name in RESERVED:
        return f"'{name}' is reserved; choose another user name."
    return None
