"""`commonroom proxy` / `python -m commonroom.proxy`: configurable-http-proxy's command line.

JupyterHub's ConfigurableHTTPProxy starts its proxy with CHP's flags, so we take the same ones and read the
token from CONFIGPROXY_AUTH_TOKEN. Flags that only tune things we do not have (metrics, TLS cipher lists)
are accepted with a warning; flags whose behaviour we do not implement stop the start, so nobody relies on
a rewrite or redirect that silently does not happen.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .options import ProxyOptions, TlsFiles
from .server import run

log = logging.getLogger("commonroom.proxy")

IGNORED = {
    "--ssl-protocol": "TLS versions follow Python's defaults",
    "--ssl-ciphers": "ciphers follow Python's defaults",
    "--ssl-dhparam": "ciphers follow Python's defaults",
    "--ssl-allow-rc4": "RC4 is never allowed",
    "--metrics-ip": "there is no metrics endpoint",
    "--metrics-port": "there is no metrics endpoint",
    "--statsd-host": "there is no statsd support",
    "--statsd-port": "there is no statsd support",
    "--statsd-prefix": "there is no statsd support",
}
IGNORED_SWITCHES = {"--ssl-allow-rc4"}
UNSUPPORTED = ("--redirect-port", "--redirect-to", "--auto-rewrite", "--protocol-rewrite", "--storage-backend")
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}


def _tls_flags(parser: argparse.ArgumentParser, prefix: str, side: str) -> None:
    parser.add_argument(f"--{prefix}key", type=Path, help=f"TLS key for {side}")
    parser.add_argument(f"--{prefix}cert", type=Path, help=f"TLS certificate for {side}")
    parser.add_argument(f"--{prefix}ca", type=Path, help=f"CA bundle for {side}")
    parser.add_argument(f"--{prefix}request-cert", action="store_true", help="request a client certificate")
    parser.add_argument(
        f"--{prefix}reject-unauthorized", action="store_true", help="refuse peers whose certificate fails"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commonroom proxy",
        description="A configurable-http-proxy compatible proxy. The API token is read from CONFIGPROXY_AUTH_TOKEN.",
    )
    add = parser.add_argument
    add("--ip", default="", help="public-facing IP (default: all interfaces)")
    add("--port", type=int, default=8000, help="public-facing port (default: 8000)")
    add("--socket", type=Path, help="listen on this unix socket instead of --ip/--port")
    add("--api-ip", default="localhost", help="IP for the REST API (default: localhost)")
    add("--api-port", type=int, help="port for the REST API (default: --port + 1)")
    add("--api-socket", type=Path, help="unix socket for the REST API")
    add("--default-target", help="route / to this URL")
    add("--error-target", help="fetch error pages from <URL>/<code>?url=<path>")
    add("--error-path", type=Path, help="serve <code>.html or error.html from this directory on errors")
    add("--no-x-forward", dest="x_forward", action="store_false", help="do not add X-Forwarded-* headers")
    add("--no-prepend-path", dest="prepend_path", action="store_false", help="ignore a target URL's path")
    add("--no-include-prefix", dest="include_prefix", action="store_false", help="strip the route prefix")
    add("--change-origin", action="store_true", help="send the target's host as Host")
    add("--custom-header", action="append", default=[], metavar="NAME: VALUE", help="add to every request")
    add("--host-routing", action="store_true", help="the first path segment of a route is a host name")
    add("--insecure", action="store_true", help="do not verify https backends' certificates")
    add("--pid-file", type=Path, help="write the process id here")
    add("--log-level", default="info", type=str.lower, choices=sorted(LOG_LEVELS), help="default: info")
    add("--timeout", type=int, metavar="MS", help="drop a request whose client has been silent this long")
    add("--proxy-timeout", type=int, metavar="MS", help="503 when a backend has not answered within this")
    add("--keep-alive-timeout", type=int, default=5000, metavar="MS", help="idle keep-alive (default 5000)")
    _tls_flags(parser, "ssl-", "the public port")
    _tls_flags(parser, "api-ssl-", "the REST API")
    _tls_flags(parser, "client-ssl-", "connections to backends")
    for flag in IGNORED:
        if flag in IGNORED_SWITCHES:
            add(flag, action="store_true", help=argparse.SUPPRESS)
        else:
            add(flag, help=argparse.SUPPRESS)
    for flag in UNSUPPORTED:
        add(flag, nargs="?", const=True, help=argparse.SUPPRESS)
    return parser


def _tls(args: argparse.Namespace, prefix: str) -> TlsFiles:
    return TlsFiles(
        key=getattr(args, f"{prefix}key"),
        cert=getattr(args, f"{prefix}cert"),
        ca=getattr(args, f"{prefix}ca"),
        request_cert=getattr(args, f"{prefix}request_cert"),
        reject_unauthorized=getattr(args, f"{prefix}reject_unauthorized"),
    )


def _header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not name.strip():
        raise ValueError(f"--custom-header {text!r} is not 'Name: value'")
    return name.strip(), value.strip()


def _seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def options_from(args: argparse.Namespace) -> ProxyOptions:
    """Validated options; raises ValueError with the flag to fix."""
    for flag in UNSUPPORTED:
        if getattr(args, flag[2:].replace("-", "_")) is not None:
            raise ValueError(f"{flag} is not supported by this proxy; put a redirecting or rewriting proxy in front")
    ssl_files = _tls(args, "ssl_")
    api_files = _tls(args, "api_ssl_")
    return ProxyOptions(
        ip=args.ip,
        port=args.port,
        api_ip=args.api_ip,
        api_port=args.api_port if args.api_port is not None else args.port + 1,
        socket=args.socket,
        api_socket=args.api_socket,
        default_target=args.default_target,
        error_target=args.error_target,
        error_path=args.error_path,
        x_forward=args.x_forward,
        host_routing=args.host_routing,
        include_prefix=args.include_prefix,
        prepend_path=args.prepend_path,
        change_origin=args.change_origin,
        custom_headers=tuple(_header(text) for text in args.custom_header),
        keep_alive_timeout=args.keep_alive_timeout / 1000,
        timeout=_seconds(args.timeout),
        proxy_timeout=_seconds(args.proxy_timeout),
        ssl=ssl_files if ssl_files.key or ssl_files.cert else None,
        api_ssl=api_files if api_files.key or api_files.cert else None,
        client_ssl=_tls(args, "client_ssl_"),
        insecure=args.insecure,
        pid_file=args.pid_file,
        log_level=args.log_level,
    )


def ignored(args: argparse.Namespace) -> list[str]:
    """A warning for each given flag that is accepted for compatibility but has no effect."""
    given = [(flag, why) for flag, why in IGNORED.items() if getattr(args, flag[2:].replace("-", "_"))]
    return [f"Ignoring {flag}: {why}" for flag, why in given]


def main(argv: list[str] | None = None) -> int:
    """Parse CHP's flags and run the proxy until SIGTERM/SIGINT; returns the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=LOG_LEVELS[args.log_level],
        format="%(asctime)s.%(msecs)03d [CommonroomProxy] %(levelname)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    try:
        options = options_from(args)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    for warning in ignored(args):
        log.warning("%s", warning)
    token = os.environ.get("CONFIGPROXY_AUTH_TOKEN", "")
    if not token:
        log.warning("REST API is not authenticated: set CONFIGPROXY_AUTH_TOKEN to require a token.")
    return run(options, token)
