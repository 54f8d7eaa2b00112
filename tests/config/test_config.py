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
