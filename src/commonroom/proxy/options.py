"""The proxy's settings, typed, as the command line (configurable-http-proxy's flags) gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    """Key, certificate and trust settings for one side (public, API, or backends) as CHP names them."""

    key: Path | None = None
    cert: Path | None = None
    ca: Path | None = None
    request_cert: bool = False
    reject_unauthorized: bool = False


@dataclass(frozen=True)
class ProxyOptions:
    """Everything the proxy process needs; durations are in seconds (CHP's flags take milliseconds)."""

    ip: str = ""
    port: int = 8000
    api_ip: str = "localhost"
    api_port: int = 8001
    socket: Path | None = None
    api_socket: Path | None = None
    default_target: str | None = None
    error_target: str | None = None
    error_path: Path | None = None
    x_forward: bool = True
    host_routing: bool = False
    include_prefix: bool = True
    prepend_path: bool = True
    change_origin: bool = False
    custom_headers: tuple[tuple[str, str], ...] = ()
    keep_alive_timeout: float = 5.0
    timeout: float | None = None
    proxy_timeout: float | None = None
    ssl: TlsFiles | None = None
    api_ssl: TlsFiles | None = None
    client_ssl: TlsFiles = field(default_factory=TlsFiles)
    insecure: bool = False
    pid_file: Path | None = None
    log_level: str = "info"
