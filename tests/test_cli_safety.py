"""`crm trash`, `restore`, `purge`, `history` and `undo` as a user types them (issue 10)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from store.model import ACCOUNTS
from store.service import CRM
from tui.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("CRM_USER", "ana")
    path = tmp_path / "crm.json"
    monkeypatch.setenv("CRM_DB", str(path))
    return path


def run(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def ok(*args: str, input: str | None = None) -> str:
    result = run(*args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def sample() -> None:
    ok("add", "account", "--name", "Acme Ltd", "--phone", "+1 555 0100")
    ok("add", "contact", "--first-name", "Ada", "--last-name", "Lovelace", "--account", "Acme Ltd")
    ok("log", "note", "--regarding", "Ada Lovelace", "--description", "Met at the fair")


def test_delete_goes_to_the_trash_and_restore_brings_it_all_back() -> None:
    sample()
    ok("delete", "Acme Ltd", "--contacts", "delete", "--activities", "delete")
    assert "Acme" not in ok("list", "accounts")
    listed = ok("trash")
    assert "account Acme Ltd (with 2 records)" in listed and "ana" in listed
    [entry] = json.loads(ok("trash", "--json"))
    assert entry["dependants"] == 2 and entry["deleted_by"] == "ana"

    assert "3 records back" in ok("restore", "Acme Ltd")
    assert "Ada Lovelace" in ok("list", "contacts")
    assert "Met at the fair" in ok("list", "activities")
    assert run("trash").stderr.strip() == "the trash is empty"


def test_restore_says_when_the_parent_is_in_the_trash_too() -> None:
    ok("add", "account", "--name", "Group")
    ok("add", "account", "--name", "Acme", "--parent", "Group")
    ok("delete", "Acme")
    ok("delete", "Group")
    refused = run("restore", "Acme")
    assert refused.exit_code == 1
    assert "account Group, which is in the trash too" in refused.stderr
    assert "--with-parents" in refused.stderr
    ok("restore", "Acme", "--with-parents")
    assert "Group" in ok("show", "Acme")


def test_purge_asks_unless_yes_and_cannot_be_undone() -> None:
    sample()
    ok("delete", "Acme Ltd", "--contacts", "delete", "--activities", "delete")
    refused = run("purge", "Acme Ltd")  # no terminal to ask on
    assert refused.exit_code == 1 and "--yes" in refused.stderr
    assert "Acme Ltd" in ok("trash")
    assert "3 records deleted for good" in ok("purge", "Acme Ltd", "--yes")
    assert run("restore", "Acme Ltd").exit_code == 1
    assert "nothing to purge" in run("purge", "--older-than", "30d", "--yes").stderr


def test_history_shows_who_changed_which_field_from_what_to_what() -> None:
    sample()
    run("edit", "Acme Ltd", "--phone", "+1 555 0199", "--user", "bob")
    shown = ok("history", "Acme Ltd")
    assert "bob  edit account Acme Ltd" in shown
    assert "phone: +1 555 0100 → +1 555 0199" in shown
    assert "ana  create account Acme Ltd" in shown
    by_bob = json.loads(ok("history", "--user", "bob", "--json"))
    assert [e["summary"] for e in by_bob] == ["edit account Acme Ltd"]
    assert by_bob[0]["changes"][0]["fields"]["phone"] == ["+1 555 0100", "+1 555 0199"]


def test_undo_your_last_change_and_list_what_can_be_undone() -> None:
    sample()
    ok("edit", "Acme Ltd", "--phone", "+1 555 0199")
    assert "edit account Acme Ltd" in ok("undo", "--list")
    assert "undone: edit account Acme Ltd" in ok("undo")
    assert "+1 555 0100" in ok("show", "Acme Ltd")


def test_undo_over_someone_elses_change_is_refused_with_exit_3(db: Path) -> None:
    sample()
    ok("edit", "Acme Ltd", "--phone", "+1 555 0199")
    account = CRM.open(db).search(ACCOUNTS)[0]
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from store.service import CRM; "
            "CRM.open(sys.argv[1], user='bob').update('accounts', sys.argv[2], "
            "{'industry': 'Robots'})",
            str(db),
            account,
        ],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    refused = run("undo")
    assert refused.exit_code == 3
    assert "changed since by bob; nothing was changed" in refused.stderr
    assert "+1 555 0199" in ok("show", "Acme Ltd")
