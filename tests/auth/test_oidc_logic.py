"""Pure parts of OpenID Connect sign-in: ID token validation, claim mapping, presets, PKCE."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from commonroom.auth.base import AuthenticationError
from commonroom.auth.oidc import OIDCAuthenticator, identity_from_claims, name_from_claim, pkce_pair, validate_id_token
from commonroom.auth.presets import (
    CILogonAuthenticator,
    EntraAuthenticator,
    GitHubAuthenticator,
    GitLabAuthenticator,
    GlobusAuthenticator,
    GoogleAuthenticator,
)
from commonroom.config.loader import ConfigError, validate
from commonroom.config.models import AuthConfig, OIDCConfig

ISSUER, CLIENT, NONCE = "https://op.example.org", "hub", "n-123"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())), "kid": "k1", "alg": "RS256", "use": "sig"}
JWKS = {"keys": [JWK]}


def token(**override: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "alice", "iat": now, "exp": now + 300, "nonce": NONCE, **override}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, KEY, algorithm="RS256", headers={"kid": "k1"})


def test_a_valid_id_token_gives_its_claims() -> None:
    assert validate_id_token(token(), JWKS, ISSUER, CLIENT, NONCE)["sub"] == "alice"


def _tampered() -> str:
    header, payload, signature = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _other_key() -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "aud": CLIENT, "sub": "a", "iat": now, "exp": now + 60, "nonce": NONCE}, other,
                      algorithm="RS256", headers={"kid": "k1"})  # fmt: skip


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(_tampered, id="payload-modified"),
        pytest.param(_other_key, id="signed-by-another-key"),
        pytest.param(lambda: token(iss="https://evil.example.org"), id="wrong-issuer"),
        pytest.param(lambda: token(aud="someone-else"), id="wrong-audience"),
        pytest.param(lambda: token(exp=int(time.time()) - 3600), id="expired"),
        pytest.param(lambda: token(nonce="replayed"), id="wrong-nonce"),
        pytest.param(lambda: token(nonce=None), id="no-nonce"),
        pytest.param(lambda: token(exp=None), id="no-exp"),
        pytest.param(lambda: jwt.encode({"iss": ISSUER, "aud": CLIENT, "nonce": NONCE}, "k" * 32, algorithm="HS256"),
                     id="hmac-not-accepted"),  # fmt: skip
    ],
)
def test_a_bad_id_token_is_refused(bad: Any) -> None:
    with pytest.raises(AuthenticationError, match="could not be verified"):
        validate_id_token(bad(), JWKS, ISSUER, CLIENT, NONCE)


def test_claims_map_to_name_and_groups() -> None:
    settings = OIDCConfig(username_claim="email", groups_claim="groups")
    identity = identity_from_claims({"email": "Ann.Lee@Example.org", "groups": ["a", "b"]}, settings,
                                    {"access_token": "at", "expires_in": 60, "refresh_token": "rt"})  # fmt: skip
    assert identity.name == "ann.lee-example.org"
    assert identity.groups == ("a", "b")
    assert identity.auth_state["access_token"] == "at" and identity.auth_state["expires_at"] > time.time()
    assert identity.auth_state["claims"]["email"] == "Ann.Lee@Example.org"


def test_a_single_group_string_and_no_groups_claim() -> None:
    assert identity_from_claims({"u": "x", "g": "solo"}, OIDCConfig(username_claim="u", groups_claim="g"), {}).groups == ("solo",)
    assert identity_from_claims({"u": "x", "g": ["a"]}, OIDCConfig(username_claim="u", groups_claim=""), {}).groups == ()


def test_missing_username_claim_and_required_claims_say_why() -> None:
    with pytest.raises(AuthenticationError, match="no 'login' claim"):
        identity_from_claims({"sub": "1"}, OIDCConfig(username_claim="login"), {})
    settings = OIDCConfig(username_claim="email", required_claims={"hd": "example.org"})
    with pytest.raises(AuthenticationError, match="hd must be 'example.org'"):
        identity_from_claims({"email": "a@gmail.com"}, settings, {})
    assert identity_from_claims({"email": "a@example.org", "hd": "example.org"}, settings, {}).name == "a-example.org"


def test_name_from_claim_keeps_only_name_characters() -> None:
    assert name_from_claim("  Bob ") == "bob"
    assert name_from_claim("*)(uid=*") == "---uid--", "then refused by the name rule (starts with -)"


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert len(verifier) >= 43
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def settings_of(cls: type[OIDCAuthenticator], **oidc: Any) -> OIDCConfig:
    return cls(AuthConfig(oidc=OIDCConfig(client_id="id", client_secret="secret", **oidc))).settings


def test_settings_an_authenticator_cannot_work_without_stop_the_start() -> None:
    with pytest.raises(ConfigError, match="auth.oidc.issuer and auth.oidc.client_id"):
        validate({"auth": {"authenticator": "oidc"}}, "hub.toml")
    with pytest.raises(ConfigError, match="bind_dn_template"):
        validate({"auth": {"authenticator": "ldap"}}, "hub.toml")


def test_presets_need_only_client_id_and_secret() -> None:
    assert settings_of(GoogleAuthenticator).issuer == "https://accounts.google.com"
    assert settings_of(GoogleAuthenticator).username_claim == "email"
    assert settings_of(GlobusAuthenticator).issuer == "https://auth.globus.org"
    cilogon = settings_of(CILogonAuthenticator)
    assert (cilogon.issuer, cilogon.username_claim, cilogon.groups_claim) == ("https://cilogon.org", "eppn", "isMemberOf")
    assert "org.cilogon.userinfo" in cilogon.scopes
    gitlab = settings_of(GitLabAuthenticator)
    assert (gitlab.issuer, gitlab.username_claim, gitlab.groups_claim) == ("https://gitlab.com", "nickname", "groups")
    github = settings_of(GitHubAuthenticator)
    assert (github.username_claim, github.scopes) == ("login", ["read:user", "read:org"])
    endpoints = GitHubAuthenticator.fixed_endpoints
    assert endpoints is not None and endpoints.token == "https://github.com/login/oauth/access_token"
    assert endpoints.jwks_uri == "", "GitHub has no ID token to verify"


def test_configuration_wins_over_a_preset() -> None:
    assert settings_of(GitLabAuthenticator, issuer="https://git.example.org").issuer == "https://git.example.org"
    assert settings_of(GoogleAuthenticator, username_claim="sub").username_claim == "sub"


def test_entra_needs_the_tenant_issuer() -> None:
    with pytest.raises(ConfigError, match="needs your tenant's issuer"):
        validate({"auth": {"authenticator": "entra", "oidc": {"client_id": "id"}}}, "hub.toml")
    entra = settings_of(EntraAuthenticator, issuer="https://login.microsoftonline.com/t-1/v2.0")
    assert (entra.username_claim, entra.groups_claim) == ("preferred_username", "groups")


async def test_a_stale_or_replayed_state_is_refused_before_any_request() -> None:
    authenticator = OIDCAuthenticator(AuthConfig(oidc=OIDCConfig(issuer="http://127.0.0.1:9", client_id="hub")))
    saved = {"state": "s1", "nonce": "n", "verifier": "v", "redirect_uri": "r"}
    for params, kept in (({"state": "s1", "code": "c"}, {}), ({"state": "other", "code": "c"}, saved)):
        with pytest.raises(AuthenticationError, match="expired or was already used"):
            await authenticator.callback(None, params, kept)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError, match="did not sign you in: access_denied"):
        await authenticator.callback(None, {"error": "access_denied"}, saved)  # type: ignore[arg-type]


def github(orgs: list[str], answers: dict[str, Any]) -> GitHubAuthenticator:
    authenticator = GitHubAuthenticator(AuthConfig(authenticator="github", oidc=OIDCConfig(client_id="id", github_orgs=orgs)))

    async def fake_get_json(url: str, token: str | None = None) -> Any:
        assert token == "gho_x"
        return answers[url.rsplit("/", 1)[-1]]

    authenticator._get_json = fake_get_json  # type: ignore[method-assign]
    return authenticator


async def test_github_organisations_and_teams_become_groups_and_gate_sign_in() -> None:
    answers = {"orgs": [{"login": "lab"}], "teams": [{"organization": {"login": "lab"}, "slug": "admins"}]}
    claims = await github(["lab:admins"], answers).extra_claims({"access_token": "gho_x"}, {"login": "Ann"})
    assert claims == {"login": "Ann", "groups": ["lab", "lab:admins"]}
    with pytest.raises(AuthenticationError, match="not a member of the GitHub organisation or team this hub requires: other"):
        await github(["other"], answers).extra_claims({"access_token": "gho_x"}, {"login": "Ann"})
    assert await github([], {}).extra_claims({"access_token": "gho_x"}, {"login": "Ann"}) == {"login": "Ann"}
