"""Reading the JUPYTERHUB_* environment: defaults, the hub's usual values, and mistakes named clearly."""

from __future__ import annotations

import pytest

from commonroom.singleuser.environment import HubEnvironment, HubEnvironmentError

MINIMAL = {
    "JUPYTERHUB_API_URL": "http://hub:8081/hub/api/",
    "JUPYTERHUB_API_TOKEN": "t",
    "JUPYTERHUB_USER": "alice",
}


def read(**extra: str) -> HubEnvironment:
    return HubEnvironment.from_environ({**MINIMAL, **extra})


def test_defaults_follow_jupyterhub() -> None:
    env = read()
    assert env.api_url == "http://hub:8081/hub/api"
    assert env.client_id == "jupyterhub-user-alice"
    assert env.access_scopes == {"access:servers!server=alice/", "access:servers!user=alice"}
    assert (env.prefix, env.base_url, env.hub_prefix, env.default_url) == ("/", "/", "/hub/", "/lab")
    assert (env.bind_host, env.bind_port, env.root_dir) == (None, None, None)
    assert env.activity_interval == 300


def test_a_named_server_of_a_hostile_name() -> None:
    env = read(
        JUPYTERHUB_USER="zoë x",
        JUPYTERHUB_SERVER_NAME="gpu 1",
        JUPYTERHUB_SERVICE_PREFIX="/user/zo%C3%AB%20x/gpu%201",
        JUPYTERHUB_SERVICE_URL="http://0.0.0.0:8888/user/zo%C3%AB%20x/gpu%201/",
    )
    assert env.client_id == "jupyterhub-user-zo%C3%AB%20x-gpu%201"
    assert env.prefix == "/user/zo%C3%AB%20x/gpu%201/"
    assert env.callback_url == env.prefix + "oauth_callback"
    assert (env.bind_host, env.bind_port) == ("0.0.0.0", 8888)


def test_an_empty_host_means_all_interfaces() -> None:
    assert read(JUPYTERHUB_SERVICE_URL="http://:8888/user/alice/").bind_host == ""


def test_legacy_names_are_read() -> None:
    env = HubEnvironment.from_environ(
        {**{k: v for k, v in MINIMAL.items() if k != "JUPYTERHUB_API_TOKEN"}, "JPY_API_TOKEN": "old",
         "JUPYTERHUB_OAUTH_SCOPES": '["access:servers!user=alice"]'}
    )  # fmt: skip
    assert env.api_token == "old"
    assert env.access_scopes == {"access:servers!user=alice"}


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("JUPYTERHUB_API_URL", "", "JUPYTERHUB_API_URL is not set"),
        ("JUPYTERHUB_API_TOKEN", "", "JUPYTERHUB_API_TOKEN is not set"),
        ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "access:servers", "expected a non-empty JSON list"),
        ("JUPYTERHUB_OAUTH_ACCESS_SCOPES", "[]", "expected a non-empty JSON list"),
        ("JUPYTERHUB_ACTIVITY_INTERVAL", "5m", "expected whole seconds"),
        ("JUPYTERHUB_SERVICE_URL", "127.0.0.1:8888", "expected http[s]://HOST:PORT/PREFIX/"),
        ("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:port/", "expected http[s]://HOST:PORT/PREFIX/"),
        ("JUPYTERHUB_COOKIE_OPTIONS", "[1]", "expected a JSON object"),
    ],
)
def test_mistakes_name_the_variable_and_what_is_expected(name: str, value: str, hint: str) -> None:
    with pytest.raises(HubEnvironmentError, match=name) as caught:
        read(**{name: value})
    assert hint in str(caught.value)
