"""`crm migrate` and `crm export database`, run as the user runs them: a real `crm` process
over real files and a real PostgreSQL server."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tinydb

from store.model import ACCOUNTS, CONTACTS, STORED_TABLES
from store.service import CRM

ROOT = Path(__file__).resolve().parents[1]


def crm(
    *args: str | Path, env: dict[str, str], **kwargs: Any
) -> subprocess.CompletedProcess[bytes]:
    script = Path(sys.executable).with_name("crm")
    command: list[str] = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, env=env, cwd=ROOT, timeout=120, **kwargs
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    clean.update(CRM_USER="alice", PYTHONPATH=str(ROOT), HOME=str(tmp_path / "home"))
    return clean


def snapshot(location: str | Path) -> dict[str, dict[str, Any]]:
    opened = CRM.open(location)
    try:
        return {table: dict(opened.all(table).items()) for table in STORED_TABLES}
    finally:
        opened.close()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "a.json"
    made = CRM.open(path, user="alice")
    acme = made.create(ACCOUNTS, {"name": "Acme"}).record
    made.create(ACCOUNTS, {"name": "Globex"})
    ada = made.create(CONTACTS, {"first_name": "Ada", "account_id": acme["id"]}).record
    made.log_activity("note", ada["id"], {"subject": "met"})
    made.update(ACCOUNTS, acme["id"], {"name": "Acme Ltd"})
    gone = made.create(CONTACTS, {"first_name": "Gone"}).record
    made.delete(CONTACTS, gone["id"])
    made.close()
    return path


def test_migrate_a_file_to_postgresql_and_back(
    source: Path, tmp_path: Path, postgres_crm_url: str, env: dict[str, str]
) -> None:
    done = crm("migrate", source, postgres_crm_url, env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 7, lines
    # Not a terminal: one line per stage, then the summary.
    assert lines[:4] == [
        "read 2 accounts",
        "read 1 contact",
        "read 1 activity",
        "read 1 trash entry",
    ]
    assert lines[4].startswith("wrote 5 records to postgresql://")
    assert lines[5] == "read 7 history entries"
    assert lines[6] == (
        f"copied 2 accounts, 1 contact, 1 activity, 1 in the trash and 7 history entries "
        f"from {source} to {postgres_crm_url}"
    )
    back = tmp_path / "back.json"
    done = crm("migrate", postgres_crm_url, back, env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert snapshot(back) == snapshot(postgres_crm_url) == snapshot(source)
    shown = crm("--db", back, "history", env=env)
    assert shown.stdout == crm("--db", source, "history", env=env).stdout
    assert b"Acme Ltd" in shown.stdout


def test_a_target_that_holds_data_needs_replace(
    source: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    target = tmp_path / "b.json"
    theirs = CRM.open(target, user="bob")
    theirs.create(ACCOUNTS, {"name": "Bob's own"})
    theirs.close()
    before = target.read_bytes()
    done = crm("migrate", source, target, env=env)
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"error: {target} already holds 1 account and a history; nothing was copied "
        "(replace its records with --replace)"
    ]
    assert target.read_bytes() == before
    done = crm("migrate", "--replace", source, target, env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert snapshot(target) == snapshot(source)


def test_migrate_refuses_what_it_cannot_copy(
    source: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    missing = crm("migrate", tmp_path / "none.json", tmp_path / "b.json", env=env)
    assert missing.returncode == 1
    assert missing.stderr.decode() == f"error: no database at {tmp_path / 'none.json'}\n"
    assert not (tmp_path / "b.json").exists() and not (tmp_path / "none.json").exists()
    itself = crm("migrate", source, tmp_path / "." / "a.json", env=env)
    assert itself.returncode == 1 and b"is the database being copied" in itself.stderr
    secret = crm("migrate", source, "postgresql://ana:hunter2@127.0.0.1:1/crm", env=env)
    assert secret.returncode == 1 and b"holds a password" in secret.stderr
    assert b"hunter2" not in secret.stderr
    usage = crm("--db", source, "migrate", source, tmp_path / "b.json", env=env)
    assert usage.returncode == 2 and b"leave out --db" in usage.stderr


def test_on_a_terminal_migrate_draws_a_progress_bar(
    source: Path, tmp_path: Path, env: dict[str, str]
) -> None:
    leader, follower = pty.openpty()
    script = Path(sys.executable).with_name("crm")
    command: list[str] = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    process = subprocess.Popen(
        [*command, "migrate", str(source), str(tmp_path / "b.json")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
        cwd=ROOT,
    )
    os.close(follower)
    shown = b""
    while True:  # read as it writes: a terminal's buffer is small
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed its end of the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    done = process.wait(timeout=120)
    assert done == 0
    text = shown.decode()
    assert "reading accounts" in text and "#" in text and "100%" in text
    assert "copied 2 accounts" in text
    assert snapshot(tmp_path / "b.json") == snapshot(source)


def test_export_database_from_postgresql_is_a_file_plain_tinydb_reads(
    source: Path, tmp_path: Path, postgres_crm_url: str, env: dict[str, str]
) -> None:
    assert crm("migrate", source, postgres_crm_url, env=env).returncode == 0
    out = tmp_path / "export.json"
    done = crm("--db", postgres_crm_url, "export", "database", "--output", out, env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().startswith("copied 2 accounts, 1 contact")
    expected = snapshot(source)
    with tinydb.TinyDB(out, access_mode="r") as plain:
        for table in STORED_TABLES:
            assert {d["id"]: dict(d) for d in plain.table(table).all()} == expected[table]
    assert snapshot(out) == expected

    again = crm("--db", postgres_crm_url, "export", "database", "--output", out, env=env)
    assert again.returncode == 1
    assert again.stderr.decode() == f"error: {out} exists; export database writes a new file\n"
    bare = crm("--db", postgres_crm_url, "export", "database", env=env)
    assert bare.returncode == 2 and b"needs --output FILE" in bare.stderr
