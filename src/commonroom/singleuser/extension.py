"""The jupyter_server extension: hub headers on every response, secrets out of logs, the activity reporter,
the culler's warning banner.

Sign-in is not here: it is the IdentityProvider and Authorizer classes, which the launcher configures because
jupyter_server creates them before any extension loads.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from commonroom import JUPYTERHUB_COMPAT_VERSION
from commonroom.singleuser import cullbanner, logscrub
from commonroom.singleuser.activity import ActivityReporter
from commonroom.singleuser.identity import HubIdentityProvider

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

REPORTER_SETTING = "commonroom_activity_reporter"
"""web_app setting holding the ActivityReporter; the launcher checks it to know this extension loaded."""


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    settings = serverapp.web_app.settings
    settings.setdefault("headers", {})["X-JupyterHub-Version"] = JUPYTERHUB_COMPAT_VERSION
    logscrub.install()
    provider = serverapp.identity_provider
    if not isinstance(provider, HubIdentityProvider):
        raise TypeError(
            "commonroom.singleuser needs ServerApp.identity_provider_class = "
            "commonroom.singleuser.identity.HubIdentityProvider; start the server with "
            "`python -m commonroom.singleuser`, which sets it."
        )
    prefix = provider.env.prefix
    serverapp.web_app.add_handlers(".*$", cullbanner.handlers(prefix, provider.hub, provider.env))  # type: ignore[no-untyped-call]
    serverapp.web_app.transforms.insert(0, cullbanner.injector(prefix))
    if provider.env.activity_url and provider.env.activity_interval:
        settings[REPORTER_SETTING] = ActivityReporter(serverapp, provider.hub, provider.env)
    else:
        serverapp.log.warning("Activity reports are off: JUPYTERHUB_ACTIVITY_URL or _INTERVAL is empty")
        settings[REPORTER_SETTING] = None


async def _start_jupyter_server_extension(serverapp: ServerApp) -> None:
    reporter = serverapp.web_app.settings.get(REPORTER_SETTING)
    if reporter is not None:
        # the loop keeps only a weak reference to tasks; the settings dict holds this one
        serverapp.web_app.settings[REPORTER_SETTING + "_task"] = asyncio.create_task(reporter.run())
