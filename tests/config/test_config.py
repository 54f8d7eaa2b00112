from pathlib import Path

import pytest

from commonroom.config import ConfigError, load_config


def test_defaults_bind_loopback() -> None:
    config = load_config(None, environ={})
    assert config.hub.bind == "127.0.0.1:8000"
    assert config.hub.internal_bind.startswith("127.0.0.1:")
    assert config.proxy.api_url.startswith("http://127.0.0.1:")


def test_unknown_key_names_its_path(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[spawner]\nstart_timeot = 5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "unknown key 'spawner.start_timeot'" in str(info.value)
    assert str(path) in str(info.value)


def test_bad_value_says_what_is_expected(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[hub]\nbind = "localhost"\n[spawner]\nstart_timeout = -3\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert "'hub.bind' = 'localhost'" in message and "HOST:PORT" in message
    assert "'spawner.start_timeout' = -3" in message and "greater than 0" in message


def test_malformed_toml(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[hub\nbind=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", environ={})


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[hub]\nbind = "127.0.0.1:9000"\n')
    env = {"COMMONROOM_HUB__BIND": "127.0.0.1:9100", "COMMONROOM_AUTH__OPEN_SIGNUP": "true",
           "COMMONROOM_SPAWNER__ARGS": '["--debug"]'}  # fmt: skip
    config = load_config(path, environ=env)
    assert config.hub.bind == "127.0.0.1:9100"
    assert config.auth.open_signup is True
    assert config.spawner.args == ["--debug"]


def test_environment_override_is_validated() -> None:
    with pytest.raises(ConfigError, match="'auth.min_password_length' = 3"):
        load_config(None, environ={"COMMONROOM_AUTH__MIN_PASSWORD_LENGTH": "3"})


def test_base_url_gets_trailing_slash(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[hub]\nbase_url = "/jupyter"\n')
    assert load_config(path, environ={}).hub.base_url == "/jupyter/"


def _with_database(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(f'[hub]\ndatabase_url = "{url}"\n')
    return path


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("", ""),
        ("postgresql://hub:p%40ss@db.example.org:5432/hub", "postgresql+asyncpg://hub:p%40ss@db.example.org:5432/hub"),
        ("postgres://hub@db/hub", "postgresql+asyncpg://hub@db/hub"),
        ("postgresql+asyncpg://hub@db/hub", "postgresql+asyncpg://hub@db/hub"),
        ("sqlite:////srv/hub/jupyterhub.sqlite", "sqlite+aiosqlite:////srv/hub/jupyterhub.sqlite"),
    ],
)
def test_database_urls_written_as_for_jupyterhub_get_the_async_driver(tmp_path: Path, given: str, used: str) -> None:
    assert load_config(_with_database(tmp_path, given), environ={}).hub.database_url == used


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("mysql://hub@db/hub", "'mysql' is not supported: Commonroom runs on SQLite (leave it empty) or PostgreSQL"),
        ("postgresql+psycopg2://hub@db/hub", "through asyncpg, not 'psycopg2': write postgresql://"),
        ("db.example.org/hub", "is not a database URL; write postgresql://USER:PASSWORD@HOST/DB"),
    ],
)
def test_database_urls_it_cannot_use_are_refused_with_what_to_write(tmp_path: Path, given: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_with_database(tmp_path, given), environ={})
    assert "'hub.database_url'" in str(info.value) and says in str(info.value), str(info.value)
