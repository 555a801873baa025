"""What only the PostgreSQL engine has: a schema made by `crm init` and refused when newer, no
password in a URL, the login role as the user, the change feed across a lost connection, a
save that is never reported when it did not commit, and the NUL character it cannot store.
Real servers throughout: the session's, and one private server that this file stops."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from store.engine import public_location
from store.errors import NewerSchemaError, ServerUnavailable, StorageError
from store.model import ACCOUNTS, Change
from store.postgres import SCHEMA_VERSION, PostgresEngine
from store.service import CRM
from tests import postgres_server as server

DEADLINE = 5.0  # seconds a notification may take to arrive: a bound on a wait, not a measure


def _dump(url: str) -> tuple[list[Any], list[str]]:
    """The database's crm_meta rows and table names, to see that nothing was touched."""
    with psycopg.connect(url) as conn:
        meta = conn.execute("SELECT key, value FROM crm_meta ORDER BY key").fetchall()
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            " ORDER BY table_name"
        ).fetchall()
    return meta, [row[0] for row in tables]


def _cut_connections(url: str) -> int:
    """What a server restart or a network cut does to the app: end each of its connections
    to this database (not those of other tests on the server)."""
    with psycopg.connect(url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name ="
            " 'termcrm' AND pid <> pg_backend_pid() AND datname = current_database()"
        ).fetchall()
    return len(rows)


def _changes_until(crm: CRM, record_id: str) -> list[Change]:
    """refresh() until it brings a change of `record_id` (or DEADLINE passes): all it brought."""
    seen: list[Change] = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        seen += crm.refresh()
        if any(c.record_id == record_id for c in seen):
            break
        time.sleep(0.05)
    return seen


# ---------------------------------------------------------------- schema


def test_an_empty_database_is_refused_naming_crm_init(postgres_url: str) -> None:
    with pytest.raises(StorageError) as refused:
        CRM.open(postgres_url)
    message = str(refused.value)
    assert "crm init" in message and "\n" not in message
    assert not isinstance(refused.value, ServerUnavailable)
    PostgresEngine(postgres_url).create_schema()
    crm = CRM.open(postgres_url, user="ana")
    assert crm.count(ACCOUNTS) == 0
    crm.close()


def test_a_newer_schema_is_refused_and_left_untouched(postgres_crm_url: str) -> None:
    with psycopg.connect(postgres_crm_url) as conn:
        conn.execute(
            "UPDATE crm_meta SET value = to_jsonb(%s::int) WHERE key = 'schema_version'",
            (SCHEMA_VERSION + 1,),
        )
    before = _dump(postgres_crm_url)
    with pytest.raises(NewerSchemaError) as refused:
        CRM.open(postgres_crm_url)
    assert "newer" in str(refused.value)
    with pytest.raises(NewerSchemaError):
        PostgresEngine(postgres_crm_url).create_schema()
    assert _dump(postgres_crm_url) == before


# ---------------------------------------------------------------- no password in a URL


def test_a_url_with_a_password_is_refused_without_showing_it() -> None:
    url = "postgresql://ana:Secr3t-Pw@db.example:5433/crm"
    with pytest.raises(StorageError) as refused:
        CRM.open(url)
    assert "~/.pgpass" in str(refused.value) and "Secr3t-Pw" not in str(refused.value)
    assert public_location(url) == "postgresql://ana@db.example:5433/crm"
    assert public_location("postgresql://ana@db.example/crm") == "postgresql://ana@db.example/crm"


# ---------------------------------------------------------------- who saves


def test_saves_are_stamped_with_the_login_role_unless_users_may_name_themselves(
    postgres_url: str, postgres_crm_url: str
) -> None:
    PostgresEngine(postgres_url).create_schema()  # the default: the role decides
    crm = CRM.open(postgres_url, user="mallory")
    saved = crm.create(ACCOUNTS, {"name": "Acme"}).record
    again = crm.update(ACCOUNTS, saved["id"], {"phone": "+1 555 0100"}).record
    assert (saved["created_by"], again["modified_by"]) == ("postgres", "postgres")
    assert crm.user == "postgres"
    crm.close()

    named = CRM.open(postgres_crm_url, user="mallory")  # this schema lets users name themselves
    record = named.create(ACCOUNTS, {"name": "Acme"}).record
    assert (record["created_by"], record["modified_by"]) == ("mallory", "mallory")
    named.close()


# ---------------------------------------------------------------- live changes


def test_another_users_save_arrives_and_a_lost_listener_catches_up(postgres_crm_url: str) -> None:
    ana, bob = CRM.open(postgres_crm_url, user="ana"), CRM.open(postgres_crm_url, user="bob")
    bob.refresh()
    first = ana.create(ACCOUNTS, {"name": "Acme"}).record
    arrived = _changes_until(bob, first["id"])
    assert [c.new for c in arrived if c.record_id == first["id"]] == [first]

    assert _cut_connections(postgres_crm_url) >= 2  # bob's reader and listener at least
    second = ana.create(ACCOUNTS, {"name": "Globex"}).record  # while bob listens to nothing
    third = ana.update(ACCOUNTS, first["id"], {"phone": "+1 555 0100"}).record
    caught_up = _changes_until(bob, first["id"])
    assert {c.record_id: c.new for c in caught_up} == {second["id"]: second, first["id"]: third}
    assert bob.get(ACCOUNTS, first["id"]) == third
    ana.close()
    bob.close()


# ---------------------------------------------------------------- connection loss


def test_a_read_after_the_connection_was_cut_reconnects(postgres_crm_url: str) -> None:
    crm = CRM.open(postgres_crm_url, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    assert crm.get(ACCOUNTS, acme["id"]) == acme  # the reader connection is open
    assert _cut_connections(postgres_crm_url) >= 1
    assert crm.get(ACCOUNTS, acme["id"]) == acme
    assert crm.update(ACCOUNTS, acme["id"], {"phone": "+1 555 0100"}).record["version"] == 2
    crm.close()


@pytest.fixture
def private_server(postgres_server: str) -> Iterator[tuple[str, str]]:
    """A server of this test's own, to stop: (its directory, the URL of a CRM database)."""
    directory = server.new_directory()
    try:
        url = server.start(directory)
        PostgresEngine(url).create_schema(users_name_themselves=True)
        yield directory, url
    finally:
        try:
            server.stop(directory)
        except server.ServerUnavailable:
            pass  # stopped by the test
        shutil.rmtree(directory, ignore_errors=True)


def test_a_save_while_the_server_is_down_is_not_reported_saved(
    private_server: tuple[str, str],
) -> None:
    directory, url = private_server
    crm = CRM.open(url, user="ana")
    kept = crm.create(ACCOUNTS, {"name": "Kept"}).record
    server.stop(directory)
    with pytest.raises(ServerUnavailable) as lost:
        crm.create(ACCOUNTS, {"name": "Lost"})
    message = str(lost.value)
    assert "not saved" in message or "cannot reach" in message
    assert "\n" not in message
    with pytest.raises(ServerUnavailable):
        crm.get(ACCOUNTS, kept["id"])
    server.restart(directory, url)
    after = CRM.open(url, user="ana")
    assert [r["name"] for r in after.all(ACCOUNTS).values()] == ["Kept"]
    after.close()
    # The CRM that lost the server reconnects by itself (after a short fail-fast pause).
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            assert crm.get(ACCOUNTS, kept["id"]) == kept
            break
        except ServerUnavailable:
            assert time.monotonic() < deadline, "the CRM did not reconnect"
            time.sleep(0.1)
    crm.close()


# ---------------------------------------------------------------- what PostgreSQL cannot store


def test_a_nul_character_is_refused_on_postgres_and_nothing_is_written(
    postgres_crm_url: str,
) -> None:
    crm = CRM.open(postgres_crm_url, user="ana")
    acme = crm.create(ACCOUNTS, {"name": "Acme"}).record
    history = len(crm.history())
    with pytest.raises(StorageError) as refused:
        crm.create(ACCOUNTS, {"name": "Nul\x00Corp", "industry": "x"})
    assert "NUL" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(StorageError):
        crm.update(ACCOUNTS, acme["id"], {"description": "before\x00after"})
    reopened = CRM.open(postgres_crm_url)
    assert [r["name"] for r in reopened.all(ACCOUNTS).values()] == ["Acme"]
    assert reopened.get(ACCOUNTS, acme["id"]) == acme
    assert len(reopened.history()) == history
    crm.close()
    reopened.close()


def test_a_nul_character_is_kept_in_a_file(db_path: Any) -> None:
    crm = CRM.open(db_path, user="ana")
    saved = crm.create(ACCOUNTS, {"name": "Nul Corp", "description": "before\x00after"}).record
    assert CRM.open(db_path).get(ACCOUNTS, saved["id"])["description"] == "before\x00after"
