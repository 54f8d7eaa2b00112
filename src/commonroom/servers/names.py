"""What a new named server may be called (JupyterHub 6's rule): 1-30 characters of [a-z0-9-], starting with
a letter, ending with a letter or digit, without "--". Names become URL segments and OAuth client ids."""

from __future__ import annotations

import re

MAX_LENGTH = 30
_NAME = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")


def server_name_problem(name: str) -> str | None:
    """Why `name` cannot name a new server, or None."""
    if not 1 <= len(name) <= MAX_LENGTH:
        return f"Server names have 1 to {MAX_LENGTH} characters; {name!r} has {len(name)}."
    if not _NAME.match(name) or "--" in name:
        return (
            f"Invalid server name {name!r}: use lowercase letters, digits and '-', start with a letter, "
            "end with a letter or digit, and do not use '--'."
        )
    return None
