"""A real hub per test module and database (hub, proxy and, when tests spawn, JupyterLab servers as real
processes): the people, servers and sharing tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hubprocess import HubProcess


def welcome_folder(root: Path) -> Path:
    folder = root / "welcome"
    folder.mkdir(exist_ok=True)
    (folder / "Welcome.ipynb").write_text(
        '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Welcome to Commonroom"]}],'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    return folder


@pytest.fixture(scope="module")
def hub(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    workdir = tmp_path_factory.mktemp("hub")
    welcome = welcome_folder(workdir)
    process = HubProcess(
        workdir,
        extra_config=f'[spawner]\nwelcome_dir = "{welcome}"\ndefault_url = "/lab/tree/Welcome.ipynb"\n'
        "poll_interval = 1\n",
        database_url=database_url,
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()
