"""[[services]] in the config: what is accepted, what is refused and how the refusal reads."""

from __future__ import annotations

from typing import Any

import pytest

from commonroom.config import ConfigError
from commonroom.config.loader import validate


def services(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"services": list(entries)}


def test_a_managed_and_an_external_service_are_accepted() -> None:
    config = validate(services(
        {"name": "idle-culler", "command": ["jupyterhub-idle-culler", "--timeout=3600"]},
        {"name": "whoami", "url": "http://127.0.0.1:10101", "api_token": "a" * 32, "info": {"team": "infra"}},
    ), "test")  # fmt: skip
    culler, whoami = config.services
    assert culler.command and culler.client_id == "service-idle-culler" and culler.cwd is None
    assert whoami.client_id == "service-whoami" and not whoami.command


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"name": "a/b"}, "'services.0.name' = 'a/b' is invalid: Value error, a service name uses only letters"),
        ({"name": ".."}, "a service name uses only letters"),
        ({"name": ""}, "a service name uses only letters"),
        ({"name": "x", "url": "ftp://host:21"}, "must be an http:// or https:// URL"),
        ({"name": "x", "url": "127.0.0.1:8000"}, "must be an http:// or https:// URL"),
        ({"name": "x", "api_token": "short"}, "must have 8 to 255 characters"),
        ({"name": "x", "oauth_client_id": "x-client"}, "must start with 'service-', e.g. 'service-x-client'"),
        ({"name": "x", "comand": ["typo"]}, "unknown key 'services.0.comand'"),
        ({"name": "x", "command": "not a list"}, "'services.0.command'"),
    ],
)
def test_bad_service_settings_say_what_to_fix(entry: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate(services(entry), "hub.toml")
    assert expected in str(caught.value)


def test_names_and_client_ids_are_used_once() -> None:
    with pytest.raises(ConfigError, match="each name must be used once; repeated: twin"):
        validate(services({"name": "twin"}, {"name": "twin"}), "hub.toml")
    with pytest.raises(ConfigError, match="each oauth_client_id must be used once; repeated: service-a"):
        validate(services({"name": "a"}, {"name": "b", "oauth_client_id": "service-a"}), "hub.toml")
