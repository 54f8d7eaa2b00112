"""configurable-http-proxy's command line, as JupyterHub passes it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from commonroom.proxy.cli import build_parser, ignored, main, options_from
from commonroom.proxy.options import ProxyOptions, TlsFiles


def parse(*argv: str) -> ProxyOptions:
    return options_from(build_parser().parse_args(list(argv)))


def test_defaults_are_chps() -> None:
    options = parse()
    assert (options.ip, options.port, options.api_ip, options.api_port) == ("", 8000, "localhost", 8001)
    assert options.x_forward and options.include_prefix and options.prepend_path
    assert options.keep_alive_timeout == 5.0 and options.timeout is None and options.ssl is None


def test_jupyterhubs_command_line() -> None:
    options = parse(
        "--ip", "", "--port", "9000", "--api-ip", "127.0.0.1", "--api-port", "9001",
        "--error-target", "http://127.0.0.1:8081/hub/error", "--log-level", "debug",
        "--ssl-key", "k.pem", "--ssl-cert", "c.pem",
        "--api-ssl-key", "ak", "--api-ssl-cert", "ac", "--api-ssl-ca", "aca", "--api-ssl-request-cert",
        "--api-ssl-reject-unauthorized", "--client-ssl-key", "ck", "--client-ssl-cert", "cc", "--client-ssl-ca",
        "cca", "--client-ssl-request-cert", "--client-ssl-reject-unauthorized",
        "--statsd-host", "localhost", "--statsd-port", "8125", "--statsd-prefix", "jupyterhub.chp",
    )  # fmt: skip
    assert (options.ip, options.port, options.api_ip, options.api_port) == ("", 9000, "127.0.0.1", 9001)
    assert options.error_target == "http://127.0.0.1:8081/hub/error"
    assert options.ssl == TlsFiles(key=Path("k.pem"), cert=Path("c.pem"))
    assert options.api_ssl == TlsFiles(Path("ak"), Path("ac"), Path("aca"), True, True)
    assert options.client_ssl.ca == Path("cca")


def test_api_port_follows_port_and_durations_are_milliseconds() -> None:
    options = parse("--port", "9100", "--timeout", "1500", "--proxy-timeout", "250", "--keep-alive-timeout", "7000")
    assert options.api_port == 9101
    assert (options.timeout, options.proxy_timeout, options.keep_alive_timeout) == (1.5, 0.25, 7.0)


def test_switches_and_headers() -> None:
    options = parse(
        "--no-x-forward", "--no-include-prefix", "--no-prepend-path", "--host-routing", "--change-origin",
        "--insecure", "--custom-header", "X-A: 1", "--custom-header", "X-B:two words",
    )  # fmt: skip
    assert not (options.x_forward or options.include_prefix or options.prepend_path)
    assert options.host_routing and options.change_origin and options.insecure
    assert options.custom_headers == (("X-A", "1"), ("X-B", "two words"))


@pytest.mark.parametrize(
    "argv",
    [["--redirect-port", "80"], ["--auto-rewrite"], ["--storage-backend", "x"], ["--custom-header", "nocolon"]],
)
def test_unsupported_or_malformed_flags_stop_the_start(argv: list[str]) -> None:
    assert main(argv) == 2


def test_flags_that_tune_what_we_lack_are_accepted_with_a_warning() -> None:
    args = build_parser().parse_args(["--ssl-ciphers", "HIGH", "--ssl-allow-rc4", "--metrics-port", "9"])
    assert ignored(args) == [
        "Ignoring --ssl-ciphers: ciphers follow Python's defaults",
        "Ignoring --ssl-allow-rc4: RC4 is never allowed",
        "Ignoring --metrics-port: there is no metrics endpoint",
    ]
    assert ignored(build_parser().parse_args([])) == []


def test_a_taken_port_stops_the_start_with_the_reason() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        command = [sys.executable, "-m", "commonroom.proxy", "--ip", "127.0.0.1", "--port", str(taken.getsockname()[1])]
        result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "Cannot start the proxy" in result.stderr and "address already in use" in result.stderr
