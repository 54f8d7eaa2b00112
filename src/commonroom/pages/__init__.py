"""Server-rendered pages (Jinja2): sign-in, sign-up, sign-in codes, home, spawn progress, admin, tokens,
accepting a share."""

from fastapi import APIRouter

from commonroom.pages import admin, home, login, mfa, oidc_login, shares, tokens

router = APIRouter()
for module in (login, oidc_login, mfa, home, admin, tokens, shares):
    router.include_router(module.router)
