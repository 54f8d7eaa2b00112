"""One real hub per API test module and database (SQLite, and a real PostgreSQL server), with named servers
allowed (two per person), and an admin token. So the whole JupyterHub-compatible API runs on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.hubprocess import HubProcess, started

CONFIG_SERVICE_TOKEN = "from-config-token-5d1e0c"
READER_SERVICE_TOKEN = "reader-token-77a1c0ffee"

HUB_CONFIG = (
    "[spawner]\npoll_interval = 1\nallow_named_servers = true\nnamed_server_limit_per_user = 2\n"
    # An external service from the config (it never runs: nothing listens at its url) and one that only reads.
    f"[[services]]\nname = \"from-config\"\nurl = \"http://127.0.0.1:9\"\napi_token = \"{CONFIG_SERVICE_TOKEN}\"\n"
    f"[[services]]\nname = \"reader\"\napi_token = \"{READER_SERVICE_TOKEN}\"\n"
    "[[roles]]\nname = \"service-reader\"\nscopes = [\"list:services\", \"read:services!service=from-config\"]\n"
    "services = [\"reader\"]\n"
    "[[roles]]\nname = \"service-managers\"\nscopes = [\"admin:services\"]\nusers = [\"svc-manager\"]\n"
)


@pytest.fixture(scope="module")
def hub(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path_factory.mktemp("apihub"), extra_config=HUB_CONFIG, database_url=database_url)
    with started(process):
        yield process


@pytest.fixture(scope="module")
def admin(hub: HubProcess) -> str:
    return hub.add_user("root-admin", admin=True)
