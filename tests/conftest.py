"""Fixtures shared by every test directory: a real PostgreSQL server and fresh databases on it.

`postgres_server` is the server's URL: `$CRM_TEST_POSTGRES` when set (CI starts one), else a
private cluster started for this session (each pytest-xdist worker is a session of its own).
`postgres_url` is a new, empty database per test, dropped afterwards. A schema that every test
needs is built once per session with `postgres_template_factory` and copied by `fresh_database`.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from typing import NoReturn
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests import postgres_server as server

Init = Callable[[str], None]


def database_url(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`."""
    return urlsplit(server_url)._replace(path=f"/{name}").geturl()


def _admin(server_url: str) -> psycopg.Connection[tuple[object, ...]]:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    return psycopg.connect(database_url(server_url, "postgres"), autocommit=True)


def fresh_database(server_url: str, template: str | None = None) -> str:
    """Create an empty database (or a copy of `template`) with a unique name; return its name."""
    name = f"t_{uuid.uuid4().hex}"
    statement = sql.SQL("CREATE DATABASE {} OWNER postgres").format(sql.Identifier(name))
    if template is not None:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with _admin(server_url) as admin:
        admin.execute(statement)
    return name


def drop_database(server_url: str, name: str) -> None:
    """Drop `name`, closing any connection a test left open; a server already gone is fine."""
    try:
        with _admin(server_url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    except psycopg.Error:
        pass


def _unavailable(reason: str) -> NoReturn:
    # In CI a missing server would hide every PostgreSQL test behind a skip: fail instead.
    if os.environ.get("CI"):
        pytest.fail(f"no PostgreSQL server: {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running PostgreSQL server (its `postgres` database), for the whole session."""
    given = os.environ.get("CRM_TEST_POSTGRES")
    if given:
        yield given
        return
    directory = server.new_directory()
    try:
        url = server.start(directory)
    except server.ServerUnavailable as error:
        shutil.rmtree(directory, ignore_errors=True)
        _unavailable(str(error))
    try:
        yield url
    finally:
        try:
            server.stop(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_template_factory(postgres_server: str) -> Iterator[Callable[[str, Init], str]]:
    """`make_template(name, init)`: database `name` (one per xdist worker) built once by
    `init(url)`; returns the database's name, for `fresh_database(server, template=name)`.
    `init` must close its connections: PostgreSQL copies no database that is in use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    made: dict[str, str] = {}

    def make_template(name: str, init: Init) -> str:
        if name not in made:
            database = f"{name}_{worker}"
            # A template left over by a session that was killed: CRM_TEST_POSTGRES outlives it.
            drop_database(postgres_server, database)
            with _admin(postgres_server) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            init(database_url(postgres_server, database))
            made[name] = database
        return made[name]

    yield make_template
    for database in made.values():
        drop_database(postgres_server, database)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of a new, empty database on the session's server, dropped after the test."""
    name = fresh_database(postgres_server)
    yield database_url(postgres_server, name)
    drop_database(postgres_server, name)


# ---------------------------------------------------------------- every engine, one fixture
# A test that asks for `db` (or for `crm`, which is opened on it) runs once per engine: a
# database file, and a PostgreSQL database copied from a template with the schema in it. A
# test that also asks for `db_path` reads the file itself, so it runs on the file engine only.
ENGINES = ("file", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        file_only = "db_path" in metafunc.fixturenames
        metafunc.parametrize("engine", ["file"] if file_only else ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _crm_schema(url: str) -> None:
    from store.postgres import PostgresEngine

    # Tests name their users (alice, bob): the schema lets them, as an admin may allow.
    PostgresEngine(url).create_schema(users_name_themselves=True)


@pytest.fixture
def postgres_crm_url(
    postgres_server: str, postgres_template_factory: Callable[[str, Init], str]
) -> Iterator[str]:
    """A new database with the CRM's schema in it (copied from a template made once)."""
    template = postgres_template_factory("crm_template", _crm_schema)
    name = fresh_database(postgres_server, template)
    yield database_url(postgres_server, name)
    drop_database(postgres_server, name)


@pytest.fixture
def db(engine: str, tmp_path: object, request: pytest.FixtureRequest) -> str:
    """Where the test's CRM lives: a file path, or a postgresql:// URL."""
    if engine == "file":
        return str(request.getfixturevalue("db_path"))
    return str(request.getfixturevalue("postgres_crm_url"))


@pytest.fixture(autouse=True)
def _free_dropped_connections() -> Iterator[None]:
    """A store dropped without `close()` keeps its index's SQLite descriptors until the cycle
    collector runs (the connection's statement cache refers back to it); hundreds of tests in
    one worker would pile them up past what `select()` takes. Collected when they do."""
    yield
    if len(os.listdir("/proc/self/fd")) > 600:
        gc.collect()
