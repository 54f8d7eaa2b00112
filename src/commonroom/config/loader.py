"""Read the TOML file, apply COMMONROOM_* environment overrides, validate, and explain any mistake.

An override names a key path with double underscores: COMMONROOM_HUB__BIND=0.0.0.0:8000 sets [hub] bind.
Its value is read as a TOML value when it parses as one (numbers, booleans, arrays) and as a string otherwise.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from commonroom.config.models import Config

ENV_PREFIX = "COMMONROOM_"


class ConfigError(Exception):
    """The configuration cannot be used; the message lists every problem and how to fix it."""


def _parse_env_value(raw: str) -> Any:
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Nested dict of the overrides found in environ."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _parse_env_value(raw)
    return tree


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: Any, source: str) -> str:
    path = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        section = ".".join(str(p) for p in error["loc"][:-1]) or "top level"
        return f"{source}: unknown key '{path}' (not a setting of {section}; check the spelling in the reference)"
    given = error.get("input")
    return f"{source}: '{path}' = {given!r} is invalid: {error['msg']}"


def validate(data: dict[str, Any], source: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(err, source) for err in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (give an existing TOML file, or none for the defaults)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """The effective configuration: defaults < file < environment."""
    data = read_toml(path) if path else {}
    overrides = env_overrides(os.environ if environ is None else environ)
    source = str(path) if path else "defaults"
    if overrides:
        source += " + environment"
    return validate(_merge(data, overrides), source)
