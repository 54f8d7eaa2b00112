"""TLS on the public port (--ssl-key/--ssl-cert) and to https backends (--client-ssl-ca)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from .processes import Backend, http, proxy

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate"),
]


def self_signed(directory: Path) -> tuple[Path, Path]:
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


def test_https_public_port_and_https_backend(upstream: Backend, tmp_path: Path) -> None:
    key, cert = self_signed(tmp_path)
    with proxy(tmp_path / "inner.log", "--ssl-key", str(key), "--ssl-cert", str(cert)) as inner:
        inner.add("/", upstream.http)
        verify = ssl.create_default_context(cafile=str(cert))
        direct = httpx.get(f"https://127.0.0.1:{inner.port}/over/tls", verify=verify).json()
        assert ["x-forwarded-proto", "https"] in direct["headers"]

        with proxy(tmp_path / "outer.log", "--client-ssl-ca", str(cert)) as outer:
            outer.add("/", f"https://127.0.0.1:{inner.port}")
            chained = http().get(f"{outer.public}/through/both").json()
            assert chained["raw_path"] == "/through/both"
            assert ["x-forwarded-proto", "http,https"] in chained["headers"]

        with proxy(tmp_path / "untrusting.log") as untrusting:
            untrusting.add("/", f"https://127.0.0.1:{inner.port}")
            assert http().get(f"{untrusting.public}/x").status_code == 503
