"""PKCE, pending logins and the URLs around them: pure logic, no server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from commonroom.singleuser.environment import HubEnvironment
from commonroom.singleuser.oauth import (
    STATE_LIFETIME,
    PendingLogins,
    authorize_url,
    code_challenge,
    safe_next_url,
    state_cookie_name,
)

ENV = HubEnvironment.from_environ(
    {"JUPYTERHUB_API_URL": "http://hub/hub/api", "JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_USER": "a b",
     "JUPYTERHUB_SERVICE_PREFIX": "/base/user/a%20b/", "JUPYTERHUB_BASE_URL": "/base/",
     "JUPYTERHUB_HOST": "https://hub.example.org"}
)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_code_challenge_matches_rfc7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_authorize_url_carries_the_pkce_challenge() -> None:
    login = PendingLogins().start("/base/user/a%20b/lab", "cookie")
    url = urlsplit(authorize_url(ENV, login))
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://hub.example.org/base/hub/api/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query == {
        "client_id": "jupyterhub-user-a%20b",
        "redirect_uri": "/base/user/a%20b/oauth_callback",
        "response_type": "code",
        "state": login.state,
        "code_challenge": code_challenge(login.verifier),
        "code_challenge_method": "S256",
    }


def test_a_login_is_found_until_it_expires_or_finishes() -> None:
    clock = Clock()
    logins = PendingLogins(clock)
    first, second = logins.start("/next", "c"), logins.start("/next", "c")
    assert first.state != second.state and first.verifier != second.verifier
    assert logins.find(first.state) == first
    logins.finish(first.state)
    assert logins.find(first.state) is None
    clock.now += STATE_LIFETIME
    assert logins.find(second.state) is None
    assert logins.find("never-issued") is None


def test_next_url_stays_on_this_server() -> None:
    assert (
        safe_next_url("/base/user/a%20b/lab/tree/x.ipynb?reset", ENV)
        == "/base/user/a%20b/lab/tree/x.ipynb?reset"
    )
    for elsewhere in ("https://evil.example/", "//evil.example/base/user/a%20b/", "/base/user/bob/", ""):
        assert safe_next_url(elsewhere, ENV) == "/base/user/a%20b/lab"


def test_a_second_tab_gets_its_own_state_cookie() -> None:
    plain = state_cookie_name("client", present=set())
    assert plain == "client-oauth-state"
    other = state_cookie_name("client", present={plain})
    assert other.startswith("client-oauth-state-") and len(other) == len(plain) + 9
