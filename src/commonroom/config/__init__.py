"""Typed, validated configuration: one TOML file, overridden by COMMONROOM_* environment variables."""

from commonroom.config.loader import ConfigError, load_config
from commonroom.config.models import Config

__all__ = ["Config", "ConfigError", "load_config"]
