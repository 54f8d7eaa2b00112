"""The hub's readiness probe and the start-up handshake, against a real server process."""

from __future__ import annotations

from commonroom import JUPYTERHUB_COMPAT_VERSION

from .singleuserprocess import SingleUserProcess


def test_probe_answers_without_credentials(server: SingleUserProcess) -> None:
    import httpx

    response = httpx.get(server.url + "api", timeout=5)
    assert response.status_code == 200
    assert response.headers["X-JupyterHub-Version"] == JUPYTERHUB_COMPAT_VERSION
    assert "version" in response.json()
