"""`crm` on a PostgreSQL server, as a team's admin and members use it: real processes, a real
server (tests/conftest.py), real login roles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]


def crm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def as_user(url: str, role: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}").geturl()


def test_a_database_without_the_schema_is_refused_until_crm_init(postgres_url: str) -> None:
    refused = crm("--db", postgres_url, "list", "accounts")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "crm init --db" in refused.stderr
    made = crm("init", "--db", postgres_url)
    assert made.returncode == 0 and made.stderr.startswith("created ")
    again = crm("init", "--db", postgres_url)
    assert again.returncode == 0 and again.stderr.startswith("already there")
    added = crm("--db", postgres_url, "add", "account", "--name", "Açaí Ltda")
    assert added.returncode == 0, added.stderr
    listed = crm("--db", postgres_url, "list", "accounts", "--search", "acai", "--json")
    assert [a["name"] for a in json.loads(listed.stdout)] == ["Açaí Ltda"]
    checked = crm("--db", postgres_url, "check")
    assert checked.returncode == 0 and "no problems (1 account" in checked.stderr
    compacted = crm("--db", postgres_url, "compact")
    assert compacted.returncode == 0 and compacted.stderr.startswith("nothing to compact")


def test_without_the_driver_a_url_names_the_extra(postgres_crm_url: str) -> None:
    # The same interpreter with psycopg made unimportable, as on a default install.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['psycopg'] = None; from tui.cli import main; main()",
            "--db",
            postgres_crm_url,
            "list",
            "accounts",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == 1
    assert "termcrm[postgres]" in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_a_password_in_the_url_is_refused_and_never_echoed(postgres_crm_url: str) -> None:
    parts = urlsplit(postgres_crm_url)
    with_password = parts._replace(
        netloc=f"postgres:hunter2@{parts.hostname}:{parts.port}"
    ).geturl()
    done = crm("--db", with_password, "list", "accounts")
    assert done.returncode == 1
    assert "~/.pgpass" in done.stderr and "hunter2" not in done.stderr + done.stdout


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    done = crm("--db", "postgresql://postgres@127.0.0.1:1/crm", "list", "accounts")
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot reach the database server")
    assert done.stderr.count("\n") == 1


def test_file_only_commands_say_so_on_a_server(postgres_crm_url: str, tmp_path: Path) -> None:
    done = crm("--db", postgres_crm_url, "recover", "--to", str(tmp_path / "new.json"))
    assert done.returncode != 0 and "PostgreSQL database" in done.stderr
    assert not (tmp_path / "new.json").exists()


@pytest.fixture
def team(postgres_server: str, postgres_url: str) -> Iterator[dict[str, str]]:
    """A group role and two members (login roles) on the server; dropped afterwards."""
    tag = uuid.uuid4().hex[:8]
    names = {"team": f"crm_team_{tag}", "ana": f"ana_{tag}", "bruno": f"bruno_{tag}"}
    admin = psycopg.connect(postgres_url, autocommit=True)
    admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(names["team"])))
    for member in ("ana", "bruno"):
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                sql.Identifier(names[member]), sql.Identifier(names["team"])
            )
        )
    admin.close()
    yield names
    with psycopg.connect(postgres_server, autocommit=True) as server:
        # The test's database still holds the grants: dropped with it, then the roles.
        for role in (names["ana"], names["bruno"], names["team"]):
            try:
                with psycopg.connect(postgres_url, autocommit=True) as db:
                    db.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                server.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            except psycopg.Error:
                pass


def test_a_team_works_as_its_login_roles_and_cannot_rewrite_history(
    postgres_url: str, team: dict[str, str]
) -> None:
    assert crm("init", "--db", postgres_url, "--team", team["team"]).returncode == 0
    ana = as_user(postgres_url, team["ana"])
    # $CRM_USER names someone else: the server stamps the login role all the same.
    added = crm("--db", ana, "add", "account", "--name", "Ana Co", env={"CRM_USER": "bruno"})
    assert added.returncode == 0, added.stderr
    shown = json.loads(crm("--db", ana, "list", "accounts", "--json").stdout)
    assert [(a["created_by"], a["modified_by"]) for a in shown] == [(team["ana"], team["ana"])]
    bruno = as_user(postgres_url, team["bruno"])
    edited = crm("--db", bruno, "edit", shown[0]["id"], "--phone", "+55 11 5555-0000")
    assert edited.returncode == 0, edited.stderr
    history = crm("--db", ana, "history", shown[0]["id"]).stdout
    assert team["ana"] in history and team["bruno"] in history
    with psycopg.connect(ana, autocommit=True) as member:
        for statement in (
            "UPDATE accounts SET doc = jsonb_set(doc, '{modified_by}', '\"someone\"')",
            "UPDATE history SET by = 'someone'",
            "DELETE FROM history",
            "DROP TABLE accounts",
            "UPDATE crm_meta SET value = 'true'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                member.execute(statement)
    # The admin lets members name themselves: now $CRM_USER is what is stamped.
    assert crm("init", "--db", postgres_url, "--users-name-themselves").returncode == 0
    named = crm("--db", ana, "add", "account", "--name", "Named Co", env={"CRM_USER": "ana.b"})
    assert named.returncode == 0, named.stderr
    found = json.loads(crm("--db", ana, "list", "accounts", "--search", "named", "--json").stdout)
    assert found[0]["created_by"] == "ana.b"


def test_a_role_without_the_grants_gets_one_line(postgres_url: str, team: dict[str, str]) -> None:
    assert crm("init", "--db", postgres_url).returncode == 0  # no --team: nobody else may work
    done = crm("--db", as_user(postgres_url, team["ana"]), "list", "accounts")
    assert done.returncode == 1
    assert "permission denied" in done.stderr and done.stderr.count("\n") == 1
    assert "cannot reach" not in done.stderr
