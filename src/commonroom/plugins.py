"""Finding plugins by short name through entry points, as a third party's plugin would be found."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any


def load_plugin(group: str, name: str, base: type, setting: str) -> type[Any]:
    """The subclass of `base` registered as `name` in entry point `group`; `setting` names the config key
    that chose it, so the error says what to change."""
    found = {ep.name: ep for ep in entry_points(group=group)}
    if name not in found:
        choices = ", ".join(sorted(found)) or "none installed"
        raise LookupError(f"{setting} = {name!r} is not an installed {base.__name__} (choose one of: {choices})")
    cls: type[Any] = found[name].load()
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise LookupError(f"entry point {name!r} in {group} does not name a {base.__name__} subclass")
    return cls
