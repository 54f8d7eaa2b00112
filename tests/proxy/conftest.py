"""One backend and one proxy (with an error target) for the whole folder; tests use distinct route paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .processes import Backend, Proxy, backend, close_http, proxy


@pytest.fixture(scope="package")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with backend(tmp_path_factory.mktemp("backend") / "backend.log") as running:
        yield running


@pytest.fixture(scope="package")
def chp(upstream: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    log = tmp_path_factory.mktemp("proxy") / "proxy.log"
    with proxy(log, "--error-target", f"{upstream.http}/errors", "--log-level", "debug") as running:
        yield running


@pytest.fixture(scope="package", autouse=True)
def _shared_client() -> Iterator[None]:
    yield
    close_http()
