"""Moving a hub from SQLite to PostgreSQL with `commonroom db copy`, as an operator would: stop the hub, copy
its rows, point the config at the new database, start it again. People, groups, tokens and passwords carry
over, new rows get new ids, and a copy into a database that already holds data is refused; the same command
copies back into a SQLite file."""

from __future__ import annotations

import signal
import sqlite3

import pytest

from tests.support.browserless import Person
from tests.support.hubprocess import HubProcess, started
from tests.support.postgres import Postgres

PASSWORD = "velvet-otter-carries-lanterns"


def _people(hub: HubProcess, token: str) -> list[dict[str, object]]:
    with hub.api(token) as api:
        people = api.get("/users").json()
    return [{key: value for key, value in person.items() if key != "last_activity"} for person in people]


def test_a_hub_moves_from_sqlite_to_postgresql(tmp_path_factory: pytest.TempPathFactory, postgres: Postgres) -> None:
    with started(HubProcess(tmp_path_factory.mktemp("moving"))) as hub:
        admin = hub.add_user("root-admin", admin=True)
        assert hub.cli("user", "add", "cy", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
        with hub.api(admin) as api:
            assert api.post("/users", json={"usernames": ["ann", "bob"]}).status_code == 201
            assert api.post("/groups/team", json={"users": ["ann", "bob"]}).status_code == 201
            kept = api.post("/users/ann/tokens", json={"note": "made before the move"}).json()["token"]
        before = _people(hub, admin)
        url = postgres.new_database("moved")
        live = hub.cli("db", "copy", "--to", url)
        assert live.returncode == 1 and "the hub is running" in live.stderr and "stop it first" in live.stderr
        hub.kill_hub(signal.SIGTERM)

        copied = hub.cli("db", "copy", "--to", url.replace("+asyncpg", ""))
        assert copied.returncode == 0, copied.stderr
        assert "users: 4 row(s)" in copied.stdout and "group_members: 2 row(s)" in copied.stdout, copied.stdout
        again = hub.cli("db", "copy", "--to", url)
        assert again.returncode == 1 and "already holds data (in " in again.stderr, again.stderr

        hub.config_path.write_text(hub.config_path.read_text().replace('database_url = ""', f'database_url = "{url}"'))
        hub.database_url = url
        hub.start()
        assert _people(hub, admin) == before
        assert hub.sql("SELECT count(*) FROM users") == [(4,)], "the hub runs on PostgreSQL now"
        with hub.api(kept) as api:
            assert api.get("/user").json()["name"] == "ann"
        with hub.api(admin) as api:
            assert api.get("/groups/team").json()["users"] == ["ann", "bob"]
            assert api.post("/users/dee").status_code == 201, "new rows must get ids past the copied ones"
            assert api.post("/users/dee/tokens", json={}).status_code == 201
        person = Person(hub.origin)
        try:
            assert person.sign_in("cy", PASSWORD).status_code == 302, "the password carried over"
            home = person.client.get("/hub/home")
            assert home.status_code == 200 and "cy" in home.text
        finally:
            person.close()

        hub.kill_hub(signal.SIGTERM)
        back = hub.workdir / "snapshot.sqlite"
        assert hub.cli("db", "copy", "--to", f"sqlite:///{back}").returncode == 0, "and back into a SQLite file"
        with sqlite3.connect(back) as snapshot:
            assert snapshot.execute("SELECT name FROM users ORDER BY name").fetchall() == [
                ("ann",), ("bob",), ("cy",), ("dee",), ("root-admin",)
            ]  # fmt: skip
