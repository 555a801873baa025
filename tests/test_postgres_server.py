"""The PostgreSQL test server (tests/postgres_server.py) and its fixtures (tests/conftest.py).

Real servers and real processes throughout: the script is run as CI runs it, and the fixtures'
skip/fail and teardown are seen from an inner pytest process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "postgres_server.py"

# Database names seen by this process: a name handed out twice means two tests shared one.
seen_databases: set[str] = set()


def user_tables(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
    return [row[0] for row in rows]


def database_exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return found.fetchone() is not None


def inner_pytest(tmp_path: Path, test_body: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run one test in a separate pytest process that uses this suite's fixtures."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import postgres_server, postgres_url  # noqa: F401\n"
    )
    (tmp_path / "test_inner.py").write_text(test_body)
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "CRM_TEST_POSTGRES")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-rsf", "-p", "no:randomly", "-p", "no:cacheprovider"]
        + ["-p", "no:xdist", str(tmp_path / "test_inner.py")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )


def test_the_server_answers_in_utf8(postgres_server: str) -> None:
    with psycopg.connect(postgres_server) as connection:
        encoding = connection.execute("SHOW server_encoding").fetchone()
    assert encoding == ("UTF8",)


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_gets_its_own_empty_database(postgres_url: str, turn: int) -> None:
    name = urlsplit(postgres_url).path.lstrip("/")
    assert name not in seen_databases
    seen_databases.add(name)
    # Empty: the other turn's table is not here, whichever ran first.
    assert user_tables(postgres_url) == []
    with psycopg.connect(postgres_url) as connection:
        connection.execute("CREATE TABLE accounts (id text PRIMARY KEY, name text NOT NULL)")
        connection.execute("INSERT INTO accounts VALUES ('a1', %s)", [f"Acme {turn}"])
    assert user_tables(postgres_url) == ["accounts"]


def test_search_extensions_can_be_created(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as connection:
        connection.execute("CREATE EXTENSION pg_trgm")
        connection.execute("CREATE EXTENSION unaccent")
        unaccented = connection.execute("SELECT unaccent('Crème Brûlée')").fetchone()
        similar = connection.execute(
            "SELECT 'Acme Corp' % 'Acme Corporation', 'Acme Corp' % 'Globex'"
        ).fetchone()
    assert unaccented == ("Creme Brulee",)
    assert similar == (True, False)


def test_the_database_is_dropped_after_its_test(postgres_server: str, tmp_path: Path) -> None:
    record = tmp_path / "database.txt"
    done = inner_pytest(
        tmp_path,
        "from pathlib import Path\n"
        "def test_one(postgres_url):\n"
        f"    Path({str(record)!r}).write_text(postgres_url.rsplit('/', 1)[1])\n",
        CRM_TEST_POSTGRES=postgres_server,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    name = record.read_text()
    assert name.startswith("t_")
    assert not database_exists(postgres_server, name)


def test_the_template_factory_builds_once_and_copies(
    postgres_server: str, postgres_template_factory: Callable[[str, Callable[[str], None]], str]
) -> None:
    from tests.conftest import database_url, drop_database, fresh_database

    built: list[str] = []

    def init(url: str) -> None:
        built.append(url)
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE contacts (id text PRIMARY KEY)")

    make_template = postgres_template_factory
    template = make_template("crm_schema", init)
    assert make_template("crm_schema", init) == template
    assert len(built) == 1
    copy = fresh_database(postgres_server, template=template)
    try:
        assert user_tables(database_url(postgres_server, copy)) == ["contacts"]
    finally:
        drop_database(postgres_server, copy)


NO_SERVER_TEST = "def test_needs_a_server(postgres_url):\n    pass\n"


def test_without_a_server_the_tests_are_skipped_with_the_reason(tmp_path: Path) -> None:
    done = inner_pytest(tmp_path, NO_SERVER_TEST, CRM_TEST_PG_BINDIR="/nonexistent")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "no PostgreSQL server: initdb and pg_ctl not found" in done.stdout


def test_without_a_server_in_ci_the_tests_fail(tmp_path: Path) -> None:
    done = inner_pytest(tmp_path, NO_SERVER_TEST, CRM_TEST_PG_BINDIR="/nonexistent", CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout
    assert "no PostgreSQL server: initdb and pg_ctl not found" in done.stdout


def test_the_script_starts_and_stops_a_server() -> None:
    made = subprocess.run([sys.executable, str(SCRIPT), "newdir"], capture_output=True, text=True)
    directory = made.stdout.strip()
    assert made.returncode == 0 and Path(directory).is_dir() and not any(Path(directory).iterdir())
    try:
        started = subprocess.run(
            [sys.executable, str(SCRIPT), "start", directory], capture_output=True, text=True
        )
        if started.returncode != 0 and not os.environ.get("CI"):
            pytest.skip(f"no PostgreSQL server: {started.stderr.strip()}")
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        port = urlsplit(url).port
        assert url == f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(url) as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)

        stopped = subprocess.run(
            [sys.executable, str(SCRIPT), "stop", directory], capture_output=True, text=True
        )
        assert stopped.returncode == 0, stopped.stderr
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
            pass
    finally:
        # A failed assertion above must not leave a server running.
        subprocess.run([sys.executable, str(SCRIPT), "stop", directory], capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)
