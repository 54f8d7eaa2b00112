"""The `commonroom` command line, run as a person would run it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.postgres import Postgres


def commonroom(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "commonroom.cli", *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin, timeout=60)  # fmt: skip


@pytest.mark.parametrize("args", [[], ["serve"], ["user", "add"], ["token", "issue"], ["config", "check"], ["shutdown"], ["db", "copy"]])
def test_every_command_has_help(args: list[str], tmp_path: Path) -> None:
    result = commonroom(*args, "--help", cwd=tmp_path)
    assert result.returncode == 0 and "usage: commonroom" in result.stdout


def test_proxy_help(tmp_path: Path) -> None:
    result = commonroom("proxy", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "--api-port" in result.stdout


def test_config_check(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[hub]\nbind = "127.0.0.1:9000"\n')
    assert commonroom("config", "check", str(good), cwd=tmp_path).stdout.strip().endswith("OK")
    bad = tmp_path / "bad.toml"
    bad.write_text('[hub]\nbind = "127.0.0.1:9000"\ncolour = "blue"\n[auth]\nopen_signup = "maybe"\n')
    result = commonroom("config", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown key 'hub.colour'" in result.stderr
    assert "'auth.open_signup' = 'maybe'" in result.stderr


def test_serve_refuses_a_bad_config_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[spawner]\nkind = 'kubernetes-typo'\n")
    result = commonroom("serve", "--config", str(bad), "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert result.returncode != 0
    assert "kubernetes-typo" in result.stderr and "is not an installed Spawner" in result.stderr


def test_user_add_and_token_issue(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    created = commonroom("user", "add", "zoe", "--admin", *data, cwd=tmp_path)
    assert created.returncode == 0 and "administrator zoe" in created.stdout
    duplicate = commonroom("user", "add", "zoe", *data, cwd=tmp_path)
    assert duplicate.returncode == 1 and "taken" in duplicate.stderr
    odd = commonroom("user", "add", "Zoë Smith", *data, cwd=tmp_path)
    assert odd.returncode == 1 and "lowercase letters" in odd.stderr
    weak = commonroom("user", "add", "yan", "--password-stdin", *data, cwd=tmp_path, stdin="password\n")
    assert weak.returncode == 1 and "at least 10" in weak.stderr
    token = commonroom("token", "issue", "zoe", "--scope", "read:users", "--expires-in", "3600", *data, cwd=tmp_path)
    assert token.returncode == 0 and len(token.stdout.strip()) == 32
    unknown = commonroom("token", "issue", "nobody", *data, cwd=tmp_path)
    assert unknown.returncode == 1 and "no user named 'nobody'" in unknown.stderr
    badscope = commonroom("token", "issue", "zoe", "--scope", "root:everything", *data, cwd=tmp_path)
    assert badscope.returncode == 1 and "not a known scope" in badscope.stderr


def test_a_database_that_cannot_be_opened_is_explained_without_its_password(tmp_path: Path, postgres: Postgres) -> None:
    config = tmp_path / "hub.toml"
    nobody_listens = f"postgresql://hub:s3cret-pw@127.0.0.1:{free_port()}/hub"
    missing = postgres.url("no_such_db").replace("+asyncpg", "")
    commands = {"serve": ["serve", "--bind", f"127.0.0.1:{free_port()}"], "user add": ["user", "add", "zoe"]}
    for url, reason in ((nobody_listens, "[Errno 111]"), (missing, 'database "no_such_db" does not exist')):
        config.write_text(f'[hub]\ninternal_bind = "127.0.0.1:{free_port()}"\ndatabase_url = "{url}"\n'
                          f'[proxy]\napi_url = "http://127.0.0.1:{free_port()}"\n')  # fmt: skip
        for name, args in commands.items():
            result = commonroom(*args, "--config", str(config), "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
            said = result.stderr
            assert result.returncode == 1, said
            assert f"commonroom {name}: cannot open the database postgresql+asyncpg://" in said and reason in said, said
            assert "Check [hub] database_url" in said and "Traceback" not in said, said
            assert "s3cret-pw" not in said + result.stdout


def test_db_copy_refuses_a_target_it_cannot_use_before_reading_anything(tmp_path: Path) -> None:
    result = commonroom("db", "copy", "--to", "mysql://hub@db/hub", "--data-dir", str(tmp_path / "d"), cwd=tmp_path)
    assert result.returncode == 2 and "--to 'mysql' is not supported" in result.stderr, result.stderr
    assert not (tmp_path / "d").exists()


def test_serve_explains_a_public_port_in_use(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = {**os.environ, "COMMONROOM_HUB__INTERNAL_BIND": f"127.0.0.1:{free_port()}",
               "COMMONROOM_PROXY__API_URL": f"http://127.0.0.1:{free_port()}"}  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-m", "commonroom.cli", "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "d")],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert "The proxy could not start" in result.stderr and "address already in use" in result.stderr
