"""Server-rendered pages (Jinja2): sign-in, sign-up, home, spawn progress, admin."""

from fastapi import APIRouter

from commonroom.pages import admin, home, login, mfa, oidc_login

router = APIRouter()
for module in (login, oidc_login, mfa, home, admin):
    router.include_router(module.router)
