"""Start a single-user server from the hub's environment: check the hub, then run jupyter_server.

Settings that keep the server safe and reachable through the hub (who signs people in, where it listens, no
token of jupyter's own) are passed as ServerApp's constructor config, which traitlets ranks above config
files; command-line arguments a spawner appends still rank above both. jupyter_server is imported only once
the hub has answered, so a misconfigured spawn fails fast.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from commonroom.singleuser.environment import HubEnvironment, HubEnvironmentError, current
from commonroom.singleuser.handshake import HubUnreachable, check_hub

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

EXTENSION = "commonroom.singleuser"


def server_config(env: HubEnvironment) -> dict[str, Any]:
    """ServerApp configuration for this environment."""
    app: dict[str, Any] = {
        "base_url": env.prefix,
        "default_url": env.default_url,
        "port_retries": 0,  # the hub waits on exactly this port
        "open_browser": False,
        "allow_remote_access": True,  # requests arrive through the proxy under the public host name
        "trust_xheaders": True,
        "quit_button": False,  # stopping goes through the hub, which would otherwise think the server crashed
        "identity_provider_class": "commonroom.singleuser.identity.HubIdentityProvider",
        "authorizer_class": "commonroom.singleuser.identity.HubAuthorizer",
        "kernel_websocket_connection_class": "commonroom.singleuser.nodelay.NoDelayKernelConnection",
    }
    if env.bind_host is not None:
        app["ip"] = env.bind_host
    if env.bind_port is not None:
        app["port"] = env.bind_port
    if env.root_dir is not None:
        app["root_dir"] = env.root_dir
    if env.hub_host:
        app["allow_origin"] = env.hub_host
    if env.debug:
        app["log_level"] = "DEBUG"
    return {"ServerApp": app}


def hub_page_settings(env: HubEnvironment) -> dict[str, str]:
    """The tornado settings JupyterLab reads to show its Hub menu (control panel, log out, restart)."""
    return {"hub_prefix": env.hub_prefix, "hub_host": env.hub_host, "user": env.user}


def main(argv: list[str] | None = None) -> None:
    """Entry point of `commonroom-singleuser` and `python -m commonroom.singleuser`."""
    try:
        env = current()
        check_hub(env.api_url, warn=_say)
    except (HubEnvironmentError, HubUnreachable) as exc:
        _say(str(exc))
        sys.exit(1)
    app = _server_app(env)
    app.initialize(argv)
    _refuse_unprotected(app)
    app.start()


def _server_app(env: HubEnvironment) -> ServerApp:
    skip_iri_validator()
    from jupyter_server.serverapp import ServerApp
    from traitlets.config import Config

    config = Config(server_config(env))
    config.ServerApp.tornado_settings.update(hub_page_settings(env))
    app: ServerApp = ServerApp.instance(
        config=config, jpserver_extensions={"jupyterlab": True, EXTENSION: True}
    )
    # JupyterLab's Hub menu looks for this attribute to restart a named server rather than the default one
    setattr(app, "server_name", env.server_name)  # noqa: B010
    return app


def skip_iri_validator() -> None:
    """Keep jsonschema from importing rfc3987_syntax, whose import takes 2 s of a 3.5 s start.

    jupyter_events loads jsonschema's format checkers, which import every optional format backend, and
    rfc3987_syntax builds ~35 Earley parsers to check the "iri" formats that no Jupyter schema uses
    (jupyter_server issue 1559, jsonschema issue 1428). A None in sys.modules makes the import fail, and
    jsonschema then goes without those two formats.
    """
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _refuse_unprotected(app: ServerApp) -> None:
    """Exit rather than serve without hub sign-in, which a config file or argument could have switched off."""
    from commonroom.singleuser.extension import REPORTER_SETTING
    from commonroom.singleuser.identity import HubIdentityProvider

    if not isinstance(app.identity_provider, HubIdentityProvider):
        _say(
            f"ServerApp.identity_provider_class was overridden ({type(app.identity_provider).__name__}); "
            "refusing to start a server the hub cannot protect."
        )
        sys.exit(1)
    if REPORTER_SETTING not in app.web_app.settings:
        _say(
            f"The {EXTENSION} server extension did not load (see the log above); refusing to start without it."
        )
        sys.exit(1)


def _say(message: str) -> None:
    print(f"[commonroom-singleuser] {message}", file=sys.stderr, flush=True)
