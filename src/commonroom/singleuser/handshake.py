"""The start-up handshake: make sure the hub answers before this server starts listening.

A server that cannot reach its hub can sign nobody in and report no activity, so it is better to exit at once
with a message that names the URL than to start and fail every request. The check runs before jupyter_server
is imported, so a misconfigured spawn fails in well under a second of CPU rather than after the import.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from commonroom import JUPYTERHUB_COMPAT_VERSION

RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)
"""Seconds to wait between the five tries: enough to ride out a hub restart, short enough for the spawn timeout."""
TRY_TIMEOUT = 5.0


class HubUnreachable(Exception):
    """The hub did not answer; the message says where we looked and what to check."""


def check_hub(
    api_url: str,
    delays: Sequence[float] = RETRY_DELAYS,
    warn: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """GET the hub's API root until it answers; return its X-JupyterHub-Version header.

    Each failed try is reported through `warn`; after the last one HubUnreachable is raised.
    """
    tries = len(delays) + 1
    for attempt in range(1, tries + 1):
        try:
            with urllib.request.urlopen(api_url, timeout=TRY_TIMEOUT) as response:
                version: str | None = response.headers.get("X-JupyterHub-Version")
        except (OSError, ValueError) as exc:
            warn(f"Hub API at {api_url} did not answer (try {attempt} of {tries}): {_reason(exc)}")
            if attempt < tries:
                sleep(delays[attempt - 1])
            continue
        _check_version(version, warn)
        return version
    raise HubUnreachable(
        f"Could not reach the hub at {api_url} after {tries} tries. Check that the hub is running and that "
        "JUPYTERHUB_API_URL is an address this machine can reach (the hub's hub_connect_url)."
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _check_version(version: str | None, warn: Callable[[str], None]) -> None:
    """Warn when the hub speaks another major.minor of the protocol; patch releases never differ on the wire."""
    if version is None:
        warn("The hub sent no X-JupyterHub-Version header; is JUPYTERHUB_API_URL really a hub?")
    elif version.split(".")[:2] != JUPYTERHUB_COMPAT_VERSION.split(".")[:2]:
        warn(f"The hub speaks JupyterHub {version}; this server speaks {JUPYTERHUB_COMPAT_VERSION}.")
