"""The browser sign-in's own state: PKCE pairs, pending logins, and the URLs that start and end them.

No I/O here. A pending login lives in memory for ten minutes, keyed by the `state` the hub hands back; the
browser holds the same state in a signed cookie, so a callback is only accepted from the browser that
started it, and the PKCE verifier never leaves this process until the code is exchanged.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from urllib.parse import urlencode

from commonroom.singleuser.environment import HubEnvironment

STATE_LIFETIME = 600.0
MAX_PENDING = 1000
"""Pending logins kept at most; the oldest go first, so a flood of unfinished logins cannot grow memory."""


@dataclass(frozen=True)
class PendingLogin:
    state: str
    next_url: str
    verifier: str
    cookie_name: str
    expires_at: float


def code_challenge(verifier: str) -> str:
    """The S256 challenge of a PKCE verifier (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class PendingLogins:
    """Logins that went to the hub and have not come back yet."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pending: dict[str, PendingLogin] = {}

    def start(self, next_url: str, cookie_name: str) -> PendingLogin:
        """Remember a new login that will return to next_url."""
        now = self._clock()
        self._forget_expired(now)
        while len(self._pending) >= MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        login = PendingLogin(
            state=secrets.token_urlsafe(16),
            next_url=next_url,
            verifier=secrets.token_urlsafe(48),
            cookie_name=cookie_name,
            expires_at=now + STATE_LIFETIME,
        )
        self._pending[login.state] = login
        return login

    def find(self, state: str) -> PendingLogin | None:
        """The login this state belongs to; None when it is unknown, finished or older than ten minutes."""
        login = self._pending.get(state)
        if login is None or login.expires_at <= self._clock():
            return None
        return login

    def finish(self, state: str) -> None:
        """Forget a login, so its state cannot be used twice."""
        self._pending.pop(state, None)

    def _forget_expired(self, now: float) -> None:
        for state in [s for s, login in self._pending.items() if login.expires_at <= now]:
            del self._pending[state]


def authorize_url(env: HubEnvironment, login: PendingLogin) -> str:
    """Where the browser goes to ask the hub for a code."""
    query = urlencode(
        {
            "client_id": env.client_id,
            "redirect_uri": env.callback_url,
            "response_type": "code",
            "state": login.state,
            "code_challenge": code_challenge(login.verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{env.hub_host}{env.hub_prefix}api/oauth2/authorize?{query}"


def state_cookie_name(client_id: str, present: Container[str]) -> str:
    """The state cookie's name; with a random suffix while another tab's login is pending, so both finish."""
    name = f"{client_id}-oauth-state"
    if name in present:
        name += "-" + "".join(secrets.choice(string.ascii_letters) for _ in range(8))
    return name


def safe_next_url(candidate: str, env: HubEnvironment) -> str:
    """candidate when it is a path on this server, else the default page, so a login never leaves the server."""
    if candidate.startswith(env.prefix) and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return env.prefix + env.default_url.lstrip("/")
