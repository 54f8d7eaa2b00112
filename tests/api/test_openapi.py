"""The OpenAPI document, checked against the real hub by schemathesis: a few generated requests per operation
with an admin token; no 5xx, and every reply's status, content type and body match the document."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.checks import not_a_server_error

from tests.support.hubprocess import HubProcess

# Left out: shutdown ends the hub; starts and progress streams spawn or wait for real servers (covered by the
# server tests); the OAuth provider has its own tests.
UNFUZZED = r"/shutdown|/progress$|/oauth2/|/server$|/servers/\{server\}$"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api_schema(hub: HubProcess) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(hub.url("hub/api/openapi.json")).exclude(path_regex=UNFUZZED)


def test_document_is_served_and_uses_the_error_shape(hub: HubProcess) -> None:
    document = httpx.get(hub.url("hub/api/openapi.json")).json()
    assert document["components"]["schemas"]["Error"]["required"] == ["status", "message"]
    users = document["paths"]["/hub/api/users"]
    assert "422" not in users["get"]["responses"] and "400" in users["get"]["responses"]
    assert "NewUsers" in str(users["post"]["requestBody"])


def test_api_matches_its_document(api_schema: schemathesis.BaseSchema, hub: HubProcess, admin: str) -> None:
    """Each operation on its own, so one report lists every operation that strays from the document."""
    headers = {"Authorization": f"token {admin}"}
    failures = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def conforms(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=hub.origin, headers=headers, checks=CHECKS, timeout=30)

        try:
            conforms()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - hypothesis raises exception groups; all are reported below
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
