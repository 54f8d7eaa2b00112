"""The README's configuration reference is a valid configuration and names every setting there is."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from commonroom.config import Config
from commonroom.config.loader import validate

# Settings whose value is itself a table of free-form keys.
DICT_SETTINGS = ("environment", "auth_state_env", "extra_params", "required_claims")
README = Path(__file__).resolve().parents[2] / "README.md"


def reference_block() -> dict[str, Any]:
    text = README.read_text()
    match = re.search(r"## Configuration.*?```toml\n(.*?)```", text, re.S)
    assert match, "README has no ```toml block under '## Configuration'"
    return tomllib.loads(match.group(1))


def keys_of(model: type[BaseModel], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found |= keys_of(kind, f"{prefix}{name}.")
        else:
            found.add(prefix + name)
    return found


def keys_in(tree: dict[str, Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for name, value in tree.items():
        if isinstance(value, dict) and name not in DICT_SETTINGS:
            found |= keys_in(value, f"{prefix}{name}.")
        else:
            found.add(prefix + name)
    return found


def test_reference_is_a_valid_configuration() -> None:
    assert validate(reference_block(), "README") == Config()


def test_reference_names_every_setting() -> None:
    missing = keys_of(Config) - keys_in(reference_block())
    assert not missing, f"settings missing from the README's reference: {sorted(missing)}"
