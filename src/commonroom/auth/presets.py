"""Well-known providers as small data on top of the OIDC authenticator: only client_id and client_secret (and
for Microsoft Entra ID the tenant's issuer) need configuring. Anything set in [auth.oidc] wins over a preset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commonroom.auth.base import AuthenticationError
from commonroom.auth.oidc import Endpoints, OIDCAuthenticator

GITHUB_API = "https://api.github.com"


class GitHubAuthenticator(OIDCAuthenticator):
    """GitHub speaks OAuth2, not OpenID Connect: no ID token; the user comes from its API, and organisation and
    team memberships become groups ("org" and "org:team")."""

    display_name = "GitHub"
    preset = {"scopes": ["read:user", "read:org"], "username_claim": "login", "groups_claim": "groups"}
    fixed_endpoints = Endpoints(
        authorization="https://github.com/login/oauth/authorize",
        token="https://github.com/login/oauth/access_token",
        userinfo=f"{GITHUB_API}/user",
    )

    async def extra_claims(self, tokens: Mapping[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        if not self.settings.github_orgs:
            return claims
        token = tokens["access_token"]
        orgs = [o["login"] for o in await self._get_json(f"{GITHUB_API}/user/orgs", token)]
        teams = [f"{t['organization']['login']}:{t['slug']}" for t in await self._get_json(f"{GITHUB_API}/user/teams", token)]
        groups = sorted(set(orgs) | set(teams))
        if not set(groups) & set(self.settings.github_orgs):
            raise AuthenticationError(
                "You are not a member of the GitHub organisation or team this hub requires: "
                + ", ".join(self.settings.github_orgs)
                + ". Ask its administrators, or grant the hub access to your organisation on GitHub."
            )
        return {**claims, "groups": groups}


class GoogleAuthenticator(OIDCAuthenticator):
    """Google accounts; set required_claims = {hd = "example.org"} (and extra_params hd) for one Workspace domain."""

    display_name = "Google"
    preset = {"issuer": "https://accounts.google.com", "username_claim": "email", "groups_claim": ""}


class GlobusAuthenticator(OIDCAuthenticator):
    display_name = "Globus"
    preset = {"issuer": "https://auth.globus.org", "username_claim": "preferred_username", "groups_claim": ""}


class CILogonAuthenticator(OIDCAuthenticator):
    display_name = "CILogon"
    preset = {
        "issuer": "https://cilogon.org",
        "scopes": ["openid", "email", "profile", "org.cilogon.userinfo"],
        "username_claim": "eppn",
        "groups_claim": "isMemberOf",
    }


class EntraAuthenticator(OIDCAuthenticator):
    """Microsoft Entra ID (Azure AD): issuer must name the tenant, https://login.microsoftonline.com/<tenant>/v2.0
    (checked with the configuration)."""

    display_name = "Microsoft"
    preset = {"username_claim": "preferred_username", "groups_claim": "groups"}


class GitLabAuthenticator(OIDCAuthenticator):
    """gitlab.com by default; set issuer for a self-managed GitLab."""

    display_name = "GitLab"
    preset = {"issuer": "https://gitlab.com", "username_claim": "nickname", "groups_claim": "groups"}
