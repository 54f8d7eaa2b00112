"""One real hub per API test module, with named servers allowed (two per person), and an admin token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.hubprocess import HubProcess, started

HUB_CONFIG = "[spawner]\npoll_interval = 1\nallow_named_servers = true\nnamed_server_limit_per_user = 2\n"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    process = HubProcess(tmp_path_factory.mktemp("apihub"), extra_config=HUB_CONFIG)
    with started(process):
        yield process


@pytest.fixture(scope="module")
def admin(hub: HubProcess) -> str:
    return hub.add_user("root-admin", admin=True)
