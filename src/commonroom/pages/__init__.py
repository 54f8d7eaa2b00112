"""Server-rendered pages (Jinja2): sign-in, sign-up, sign-in codes, home, spawn progress, admin, tokens."""

from fastapi import APIRouter

from commonroom.pages import admin, home, login, mfa, oidc_login, tokens

router = APIRouter()
for module in (login, oidc_login, mfa, home, admin, tokens):
    router.include_router(module.router)
