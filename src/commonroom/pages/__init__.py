"""Server-rendered pages (Jinja2): sign-in, sign-up, home, spawn progress, admin."""

from fastapi import APIRouter

from commonroom.pages import admin, home, login

router = APIRouter()
for module in (login, home, admin):
    router.include_router(module.router)
