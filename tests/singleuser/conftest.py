"""One hub stand-in and one single-user server for the whole folder: starting JupyterLab takes seconds."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.support.ports import free_port

from .browser import Browser
from .hubstandin import HubStandIn
from .singleuserprocess import ACCESS_SCOPES, CLIENT_ID, USER, SingleUserProcess, hub_environment

API_TOKEN = secrets.token_hex(16)


@pytest.fixture(scope="package")
def hub() -> Iterator[HubStandIn]:
    standin = HubStandIn(api_token=API_TOKEN, client_id=CLIENT_ID).start()
    standin.state.browser_identity = {"kind": "user", "name": USER, "scopes": ACCESS_SCOPES}
    try:
        yield standin
    finally:
        standin.stop()


@pytest.fixture(scope="package")
def server(hub: HubStandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SingleUserProcess]:
    home = tmp_path_factory.mktemp("home")
    port = free_port()
    process = SingleUserProcess(hub_environment(hub, port, home, API_TOKEN), port, home.parent / "server.log")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture
def browser(hub: HubStandIn, server: SingleUserProcess) -> Iterator[Browser]:
    with Browser(
        hub_origin=f"http://127.0.0.1:{hub.port}", server_origin=f"http://127.0.0.1:{server.port}"
    ) as b:
        yield b


@pytest.fixture
def owner_token(hub: HubStandIn) -> str:
    return hub.add_token(USER, ACCESS_SCOPES)
