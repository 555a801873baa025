"""`crm duplicates` and `crm merge`, end to end through click against real database files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from store.model import ACCOUNTS
from store.service import CRM
from tui.cli import cli


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("CRM_USER", "alice")
    monkeypatch.delenv("CRM_DEBUG", raising=False)
    path = tmp_path / "crm.json"
    monkeypatch.setenv("CRM_DB", str(path))
    return path


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout.strip()


def journal_lines(db: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in db.parent.glob(db.name + ".journal-*"))


def test_duplicates_lists_pairs_in_80_columns_and_as_json(db: Path) -> None:
    full = ok("add", "account", "--name", "Acme Ltd", "--phone", "+47 1234 5678")
    bare = ok("add", "account", "--name", "ACME, Ltd.")
    ok("add", "account", "--name", "Globex")
    lines = ok("duplicates", "accounts").splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[1].split()[:3] == ["1", "keep", full]
    assert lines[2].split()[:2] == ["other", bare]
    assert "name" in lines[1]
    pairs = json.loads(ok("duplicates", "accounts", "--json"))
    assert pairs == [
        {
            "table": "accounts",
            "keep": {"id": full, "name": "Acme Ltd"},
            "other": {"id": bare, "name": "ACME, Ltd."},
            "reasons": ["same name"],
            "score": 100,
        }
    ]
    assert json.loads(ok("duplicates", "contacts", "--json")) == []


def test_merge_by_id_reports_the_fields_taken_and_check_passes(db: Path) -> None:
    keep = ok("add", "account", "--name", "Acme", "--phone", "+47 1111 1111")
    other = ok(
        "add", "account", "--name", "Acme AS", "--phone", "+47 2222 2222", "--email", "a@acme.no"
    )
    before = journal_lines(db)
    out = ok("merge", keep, other, "--take", "phone", "--yes")
    assert out == "merged Acme AS into Acme: nothing moved; fields taken: phone, email"
    assert journal_lines(db) == before + 1
    crm = CRM.open(db)
    kept = crm.get(ACCOUNTS, keep)
    assert kept is not None and kept["phone"] == "+47 2222 2222"
    assert kept["email"] == "a@acme.no"
    entry = crm.in_trash(other)
    assert entry is not None and entry.merged_into == keep
    crm.close()
    ok("check")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Acme", "Acme"), "cannot be merged into itself"),
        (("Acme", "Ada Lovelace"), "only two accounts can be merged"),
        (("Acme", "Acme Oslo", "--take", "colour"), "--take: 'colour' is not a field"),
    ],
)
def test_refused_merges_say_why_and_write_nothing(
    db: Path, args: tuple[str, ...], message: str
) -> None:
    acme = ok("add", "account", "--name", "Acme")
    ok("add", "account", "--name", "Acme Oslo", "--parent", acme)
    ok("add", "contact", "--first-name", "Ada", "--last-name", "Lovelace")
    before = journal_lines(db)
    result = run("merge", *args, "--yes")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert journal_lines(db) == before
