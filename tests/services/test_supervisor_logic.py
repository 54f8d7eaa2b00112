"""A managed service's environment, when a running one must be restarted, and the restart back-off."""

from __future__ import annotations

import json

import pytest

from commonroom.config.loader import validate
from commonroom.config.models import Config
from commonroom.services.supervisor import (
    RESTART_DELAYS,
    ServiceStartError,
    account_for,
    fingerprint,
    restart_delay,
    service_env,
)


def hub(**service: object) -> Config:
    return validate({
        "hub": {"internal_bind": "127.0.0.1:9081", "base_url": "/jü pyter/"},
        "services": [{"name": "whoami", **service}],
    }, "test")  # fmt: skip


def test_environment_has_the_service_contract_and_no_activity_url() -> None:
    config = hub(url="http://127.0.0.1:10101", command=["whoami"], user="")
    env = service_env(config, config.services[0], "tok-123456")
    assert env["JUPYTERHUB_API_TOKEN"] == env["JPY_API_TOKEN"] == "tok-123456"
    assert env["JUPYTERHUB_API_URL"] == "http://127.0.0.1:9081/j%C3%BC%20pyter/hub/api"
    assert env["JUPYTERHUB_SERVICE_NAME"] == "whoami"
    assert env["JUPYTERHUB_CLIENT_ID"] == "service-whoami"
    assert env["JUPYTERHUB_SERVICE_URL"] == "http://127.0.0.1:10101"
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/j%C3%BC%20pyter/services/whoami/"
    assert env["JUPYTERHUB_OAUTH_CALLBACK_URL"] == "/j%C3%BC%20pyter/services/whoami/oauth_callback"
    assert json.loads(env["JUPYTERHUB_OAUTH_ACCESS_SCOPES"]) == ["access:services", "access:services!service=whoami"]
    assert env["JUPYTERHUB_USER"] == ""
    assert "JUPYTERHUB_ACTIVITY_URL" not in env


def test_without_a_url_there_is_no_service_url_or_prefix() -> None:
    config = hub(command=["culler"])
    env = service_env(config, config.services[0], "tok-123456")
    assert "JUPYTERHUB_SERVICE_URL" not in env and "JUPYTERHUB_SERVICE_PREFIX" not in env


def test_a_changed_command_environment_or_token_means_a_new_process_but_info_does_not() -> None:
    base = hub(command=["a"]).services[0]
    assert fingerprint(base) == fingerprint(hub(command=["a"], info={"x": "y"}, display=False).services[0])
    for changed in ({"command": ["b"]}, {"environment": {"K": "v"}}, {"api_token": "t" * 10}, {"user": "nobody"}):
        assert fingerprint(base) != fingerprint(hub(**{"command": ["a"], **changed}).services[0]), changed


def test_restart_delay_grows_then_stays_at_the_longest() -> None:
    delays = [restart_delay(n) for n in range(10)]
    assert delays[: len(RESTART_DELAYS)] == list(RESTART_DELAYS)
    assert delays == sorted(delays) and delays[-1] == RESTART_DELAYS[-1]


def test_an_os_account_that_does_not_exist_is_a_clear_error() -> None:
    config = hub(command=["a"], user="no-such-account-here")
    with pytest.raises(ServiceStartError, match="services.whoami.user: there is no OS account 'no-such-account-here'"):
        account_for(config.services[0])
