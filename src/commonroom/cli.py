"""The `commonroom` command: serve, proxy, shutdown, user add, token issue, db copy, config check."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from commonroom import __version__
from commonroom.config import Config, ConfigError, load_config
from commonroom.config.models import split_hostport


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML configuration file (default: built-in defaults)")
    parser.add_argument("--data-dir", type=Path, help="overrides [hub] data_dir")


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    hub = config.hub
    updates: dict[str, object] = {}
    if getattr(args, "data_dir", None):
        updates["data_dir"] = args.data_dir
    if getattr(args, "bind", None):
        split_hostport(args.bind)
        updates["bind"] = args.bind
    return config.model_copy(update={"hub": hub.model_copy(update=updates)}) if updates else config


async def _serve(config: Config, log_level: str) -> int:
    """Start the hub's duties, serve HTTP until a signal, then stop the duties (servers and proxy go on)."""
    import uvicorn

    from commonroom.app import create_app
    from commonroom.hub import Hub, HubStartError

    hub = Hub(config)
    host, port = split_hostport(config.hub.internal_bind)
    print(f"Commonroom {__version__}: open {hub.public_origin}{config.hub.base_url} (data in {hub.data_dir})", flush=True)
    try:
        await hub.start()
    except HubStartError as exc:
        print(f"commonroom serve: {exc}", file=sys.stderr)
        await hub.stop()
        return 1
    server = uvicorn.Server(
        uvicorn.Config(create_app(hub), host=host, port=port, log_level=log_level, access_log=False, lifespan="off")
    )
    # What start-up made (modules, config, the app) lives as long as the hub: frozen, it is no longer walked by
    # every full garbage collection, which took ~50 ms each and fell on whichever requests were running.
    gc.collect()
    gc.freeze()
    hub.request_exit = lambda: setattr(server, "should_exit", True)
    try:
        await server.serve()
    finally:
        await hub.stop()
    if hub.exit_reason:
        print(f"commonroom serve: {hub.exit_reason}", file=sys.stderr)
        return 1
    return 0 if server.started else 1


def cmd_serve(args: argparse.Namespace) -> int:
    config = _load(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        import uvloop

        return uvloop.run(_serve(config, args.log_level))
    except ImportError:
        return asyncio.run(_serve(config, args.log_level))


async def _user_add(config: Config, name: str, admin: bool, password: str | None) -> str:
    from commonroom.auth.native import NativeAuthenticator, SignupError, add_user
    from commonroom.db.engine import migrate
    from commonroom.hub import Hub

    hub = Hub(config)
    try:
        await migrate(hub.engine)
        async with hub.sessions() as db:
            if password is None:
                user = await add_user(db, name, admin=admin)
            elif isinstance(hub.authenticator, NativeAuthenticator):
                user = await hub.authenticator.sign_up(db, name, password, admin=admin)
                user.approved = True
            else:
                raise SignupError("passwords are kept only by the native authenticator; leave out --password-stdin")
            await db.commit()
            return user.name
    finally:
        await hub.engine.dispose()


def cmd_user_add(args: argparse.Namespace) -> int:
    from commonroom.auth.native import SignupError

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    try:
        name = asyncio.run(_user_add(_load(args), args.name, args.admin, password))
    except SignupError as exc:
        print(f"commonroom user add: {exc}", file=sys.stderr)
        return 1
    print(f"created {'administrator' if args.admin else 'user'} {name}")
    return 0


async def _token_issue(config: Config, name: str, scopes: list[str], expires_in: int | None, note: str) -> str:
    from sqlalchemy import select

    from commonroom.auth import tokens
    from commonroom.db.engine import migrate
    from commonroom.db.models import User
    from commonroom.hub import Hub

    hub = Hub(config)
    try:
        await migrate(hub.engine)
        async with hub.sessions() as db:
            user = (await db.execute(select(User).where(User.name == name))).scalar_one_or_none()
            if user is None:
                raise LookupError(f"no user named {name!r}; create it with `commonroom user add {name}`")
            _, token = await tokens.issue(db, user, scopes or ["inherit"], note=note, expires_in=expires_in)
            await db.commit()
            return token
    finally:
        await hub.engine.dispose()


def cmd_token_issue(args: argparse.Namespace) -> int:
    from commonroom.auth.scopes import ScopeError

    try:
        token = asyncio.run(_token_issue(_load(args), args.name, args.scope, args.expires_in, args.note))
    except (LookupError, ScopeError) as exc:
        print(f"commonroom token issue: {exc}", file=sys.stderr)
        return 1
    print(token)
    return 0


async def _shutdown(config: Config) -> int:
    from commonroom.db.engine import migrate
    from commonroom.hub import Hub

    hub = Hub(config)
    try:
        await migrate(hub.engine)
        return await hub.stop_everything()
    finally:
        await hub.servers.aclose()
        await hub.proxy.aclose()
        await hub.engine.dispose()


def cmd_shutdown(args: argparse.Namespace) -> int:
    stopped = asyncio.run(_shutdown(_load(args)))
    print(f"stopped {stopped} server(s), the managed services and the proxy; stop `commonroom serve` itself with "
          "Ctrl-C or SIGTERM")  # fmt: skip
    return 0


async def _answers(url: str) -> bool:
    """Whether a hub answers at url (its replies carry X-JupyterHub-Version)."""
    import httpx

    async with httpx.AsyncClient(timeout=2) as client:
        try:
            return "x-jupyterhub-version" in (await client.get(url)).headers
        except httpx.HTTPError:
            return False


async def _db_copy(config: Config, to: str) -> dict[str, int]:
    from commonroom.db.copy import CopyRefused, copy
    from commonroom.db.engine import make_engine
    from commonroom.hub import Hub

    hub = Hub(config)
    target = make_engine(to)
    try:
        if await _answers(f"{hub.hub_target}{config.hub.base_url}hub/api/"):
            raise CopyRefused(f"the hub is running (it answers at {hub.hub_target}); stop it first, or rows it "
                              "writes during the copy would be missed.")  # fmt: skip
        return await copy(hub.engine, target)
    finally:
        await hub.servers.aclose()
        await hub.proxy.aclose()
        await hub.engine.dispose()
        await target.dispose()


def cmd_db_copy(args: argparse.Namespace) -> int:
    from commonroom.config.models import database_url
    from commonroom.db.copy import CopyRefused

    try:
        to = database_url(args.to)
    except ValueError as exc:
        print(f"commonroom db copy: --to {exc}", file=sys.stderr)
        return 2
    config = _load(args)
    try:
        copied = asyncio.run(_db_copy(config, to))
    except CopyRefused as exc:
        print(f"commonroom db copy: {exc}", file=sys.stderr)
        return 1
    for table, rows in copied.items():
        print(f"{table}: {rows} row(s)")
    print("copied. To run on it, set [hub] database_url to that URL and keep data_dir: it holds the keys that "
          "sign-in states and secrets are encrypted with.")  # fmt: skip
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    load_config(args.file)
    print(f"{args.file}: OK")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commonroom", description="A multi-user notebook hub.")
    parser.add_argument("--version", action="version", version=f"commonroom {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the hub (and its proxy)")
    _config_args(serve)
    serve.add_argument("--bind", help="public HOST:PORT (overrides [hub] bind; default 127.0.0.1:8000)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("proxy", help="run the proxy (configurable-http-proxy's flags)", add_help=False)

    shutdown = commands.add_parser("shutdown", help="stop every server, managed service and the hub's proxy")
    _config_args(shutdown)
    shutdown.set_defaults(func=cmd_shutdown)

    user = commands.add_parser("user", help="manage users").add_subparsers(dest="action", required=True, metavar="ACTION")
    add = user.add_parser("add", help="create a user (approved)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="make the user an administrator")
    add.add_argument("--password-stdin", action="store_true", help="read a password from standard input")
    _config_args(add)
    add.set_defaults(func=cmd_user_add)

    token = commands.add_parser("token", help="manage API tokens").add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = token.add_parser("issue", help="print a new API token for a user")
    issue.add_argument("name")
    issue.add_argument("--scope", action="append", default=[], help="a scope the token gets (repeatable; default: all of the user's)")
    issue.add_argument("--expires-in", type=int, metavar="SECONDS", help="lifetime in seconds (default: no expiry)")
    issue.add_argument("--note", default="issued from the command line")
    _config_args(issue)
    issue.set_defaults(func=cmd_token_issue)

    db = commands.add_parser("db", help="the hub's database").add_subparsers(dest="action", required=True, metavar="ACTION")
    copy = db.add_parser("copy", help="copy every row into another, empty database (stop the hub first)")
    copy.add_argument("--to", required=True, metavar="URL", help="the new database, e.g. postgresql://USER:PASSWORD@HOST/DB")
    _config_args(copy)
    copy.set_defaults(func=cmd_db_copy)

    config = commands.add_parser("config", help="configuration").add_subparsers(dest="action", required=True, metavar="ACTION")
    check = config.add_parser("check", help="validate a configuration file")
    check.add_argument("file", type=Path)
    check.set_defaults(func=cmd_config_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["proxy"]:
        from commonroom.proxy.cli import main as proxy_main

        return int(proxy_main(argv[1:]))
    args = build_parser().parse_args(argv)
    from commonroom.db.engine import DatabaseUnavailable

    try:
        result: int = args.func(args)
    except (ConfigError, LookupError) as exc:
        print(f"Configuration error:\n{exc}", file=sys.stderr)
        return 2
    except DatabaseUnavailable as exc:
        command = " ".join(filter(None, [args.command, getattr(args, "action", None)]))
        print(f"commonroom {command}: {exc}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
