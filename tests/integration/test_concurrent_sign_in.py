"""A class arriving in the same instant: 20 people sign up at once, then sign in at once, and every one of
them gets in (no "database is locked" 500s). A real hub; the requests are released together by a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, started

PEOPLE = 20
PASSWORD = "a quiet lighthouse at dawn 42"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    with started(HubProcess(tmp_path_factory.mktemp("crowd"), extra_config="[auth]\nopen_signup = true\n")) as process:
        yield process


def _all_at_once(people: list[Person], send: Callable[[int, Person], httpx.Response]) -> list[int]:
    barrier = threading.Barrier(len(people))
    statuses: list[int] = [0] * len(people)

    def one(i: int) -> None:
        barrier.wait()
        statuses[i] = send(i, people[i]).status_code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_twenty_sign_ups_then_twenty_sign_ins_at_once(hub: HubProcess) -> None:
    people = [Person(hub.origin, hub.base_url) for _ in range(PEOPLE)]
    try:
        xsrf = [person.xsrf_from("/hub/signup") for person in people]
        signed_up = _all_at_once(people, lambda i, p: p.client.post(
            "/hub/signup", data={"username": f"pupil{i}", "password": PASSWORD, "password2": PASSWORD, "_xsrf": xsrf[i]},
        ))  # fmt: skip
        assert signed_up == [302] * PEOPLE, hub.log_text()

        for person in people:
            person.client.cookies.clear()
        xsrf = [person.xsrf_from("/hub/login") for person in people]
        signed_in = _all_at_once(people, lambda i, p: p.client.post(
            "/hub/login", data={"username": f"pupil{i}", "password": PASSWORD, "_xsrf": xsrf[i]},
        ))  # fmt: skip
        assert signed_in == [302] * PEOPLE, hub.log_text()
        for i, person in enumerate(people):
            assert person.client.get("/hub/api/user").json()["name"] == f"pupil{i}"
    finally:
        for person in people:
            person.close()
