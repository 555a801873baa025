"""`crm import` and `crm export` (tui/cli/transfer.py), end to end against real database files.

Most tests go through click's CliRunner; one runs the real `crm` entry point in a subprocess,
the way tests/test_cli.py does. (`crm list` not importing icalendar/vobject is checked there.)
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM
from tui.cli import cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "io"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real user's data: HOME and the data dir point into tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("CRM_USER", "alice")
    monkeypatch.delenv("CRM_DB", raising=False)
    monkeypatch.delenv("CRM_DEBUG", raising=False)
    monkeypatch.setenv("TZ", "UTC")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "crm.json"
    monkeypatch.setenv("CRM_DB", str(path))
    crm = CRM.open(path, user="alice")  # an existing database with one account
    crm.create(ACCOUNTS, {"name": "Existing Ltd"})
    return path


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.stderr
    return result


def load(path: Path) -> CRM:
    return CRM.open(path, user="checker")


def files(db: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(db.parent.glob(db.name + "*"))
        if not p.name.endswith(".lock")
    }


def names(path: Path, table: str = ACCOUNTS) -> set[str]:
    crm = load(path)
    if table == CONTACTS:
        return {
            f"{c.get('first_name', '')} {c.get('last_name', '')}".strip()
            for c in crm.all(CONTACTS).values()
        }
    return {a["name"] for a in crm.all(ACCOUNTS).values()}


def write_csv(path: Path, *rows: list[str]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- import


def test_dry_run_prints_the_mapping_and_writes_nothing(db: Path) -> None:
    before = files(db)
    result = run("import", "accounts", FIXTURES / "dynamics_accounts.csv", "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "dynamics_accounts.csv: 4 rows, utf-8-sig, delimiter ','"
    assert "  accountid -> source_id" in out
    assert "  parentaccountid -> parent_account_id" in out
    assert "  telephone2 -> (unknown: kept in description)" in out
    assert out[-1] == (
        "Dry run, nothing written. 4 rows: 4 new, 0 updated, 0 with errors, "
        "2 warnings (would import)."
    )
    assert (
        "warning: line 2: primary_contact_id: no contact 'Yvonne McKay (sample)'" in result.stderr
    )
    assert files(db) == before
    assert names(db) == {"Existing Ltd"}

    result = run("import", "accounts", FIXTURES / "dynamics_accounts.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Imported. 4 rows: 4 new, 0 updated, 0 with errors, 2 warnings."
    )
    assert names(db) == {
        "Existing Ltd",
        "Fourth Coffee (sample)",
        "Litware Inc. (sample)",
        "Adventure Works (sample)",
        "Fourth Coffee Holdings",
    }
    again = run("import", "accounts", FIXTURES / "dynamics_accounts.csv")
    assert "0 new, 4 updated" in again.stdout
    assert load(db).count(ACCOUNTS) == 5


def test_map_overrides_the_guessed_mapping(db: Path) -> None:
    result = run(
        "import",
        "contacts",
        FIXTURES / "generic_contacts.csv",
        "--map",
        "company=",
        "--map",
        "Notes=job_title",
        "--unknown",
        "skip",
    )
    out = result.stdout.splitlines()
    assert "  Notes -> job_title" in out
    assert not any(line.startswith("  Company") for line in out)
    assert "  Birthday -> (unknown: skipped)" in out
    # Without the company column no account is needed; line 5 still has a bad mobile number.
    assert result.exit_code == 1
    assert result.stderr.count("error: ") == 1
    assert "error: line 5: mobile: '4.47911E+11' is not a phone number" in result.stderr
    crm = load(db)
    john = next(c for c in crm.all(CONTACTS).values() if c.get("first_name") == "John")
    assert john["job_title"] == "Met at the fair. Follow up in Q3."  # joined: a one-line field
    assert "account_id" not in john and "description" not in john  # Birthday skipped
    assert crm.count(CONTACTS) == 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--map", "Nope=email"], "--map: there is no column 'Nope' in the file"),
        (["--map", "Notes=shoe_size"], "'shoe_size' is not a field of contacts"),
        (["--map", "Notes"], "expected COLUMN=field"),
    ],
)
def test_map_mistakes_are_one_line_errors(db: Path, args: list[str], message: str) -> None:
    before = files(db)
    result = run("import", "contacts", FIXTURES / "generic_contacts.csv", *args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert files(db) == before


def test_all_or_nothing_exit_code_and_nothing_written(db: Path, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "accounts.csv",
        ["Name", "Email"],
        ["Acme", "info@acme.example"],
        ["Globex", "not-an-email"],
        ["Initech", ""],
    )
    before = files(db)
    result = run("import", "accounts", path, "--all-or-nothing")
    assert result.exit_code == 1
    assert "error: line 3: email: 'not-an-email' is not an email address" in result.stderr
    assert result.stdout.splitlines()[-1].startswith("Nothing imported (all-or-nothing")
    assert files(db) == before

    result = run("import", "accounts", path)  # without it the valid rows land
    assert result.exit_code == 1  # ...but the bad row still makes the exit status 1
    assert "error: line 3: email:" in result.stderr
    assert names(db) == {"Existing Ltd", "Acme", "Initech"}


def test_errors_and_warnings_name_the_line(db: Path) -> None:
    result = run(
        "import", "contacts", FIXTURES / "generic_contacts.csv", "--no-create-accounts", "--dry-run"
    )
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(":")[1].strip() for line in errors] == ["line 5"]
    assert errors[0].startswith("error: line 5: mobile: '4.47911E+11' is not a phone number")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert (
        "warning: line 2: account_id: no account 'Acme, Inc.' in the database or the file; "
        "imported without an account"
    ) in warnings
    assert "warning: line 8: 1 more cell(s) than the header has columns" in result.stderr

    created = run("import", "contacts", FIXTURES / "generic_contacts.csv", "--create-accounts")
    assert "4 new" not in created.stdout and "5 new" in created.stdout
    assert names(db) == {"Existing Ltd", "Acme, Inc.", "Globex", "Initech"}


def test_whole_file_errors_are_one_line(db: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\n\n")
    result = run("import", "accounts", empty)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: {empty}: the file is empty: there is no header row to read"
    )
    missing = run("import", "accounts", tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    unknown = run("import", "ics", FIXTURES / "google.ics", "--regarding", "Nobody")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: no account or contact called 'Nobody'"


def test_ics_and_vcard_import(db: Path) -> None:
    result = run("import", "ics", FIXTURES / "outlook.ics", "--regarding", "existing ltd")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "Imported. 7 rows: 7 new, 0 updated, 0 with errors, 2 warnings."
    )
    assert "warning: line 86: unknown time zone 'Mars Standard Time'" in result.stderr
    assert load(db).count(ACTIVITIES) == 7

    result = run("import", "vcard", FIXTURES / "v4_contacts.vcf")
    assert result.exit_code == 0, result.stderr
    assert "note: card 4 (line 34): a group card" in result.stderr
    assert "1 new account." in result.stdout
    assert names(db) == {"Existing Ltd", "Wayne Enterprises"}
    assert names(db, CONTACTS) == {"Lucius Fox", "Selina Kyle"}


# ---------------------------------------------------------------------------- export


@pytest.fixture
def filled(db: Path) -> Path:
    crm = CRM.open(db, user="alice")
    acme = crm.create(
        ACCOUNTS,
        {
            "name": '=HYPERLINK("http://evil")',
            "account_number": "+1",
            "description": 'Zoë\'s notes,\n"quoted"\n@all',
        },
    ).record
    ada = crm.create(
        CONTACTS,
        {
            "first_name": "Ada",
            "last_name": "-Lovelace",
            "account_id": acme["id"],
            "email": "ada@example.org",
        },
    ).record
    crm.create(CONTACTS, {"first_name": "Bob", "last_name": "Builder"})
    crm.log_activity("task", ada["id"], {"subject": "@Send offer", "due_at": "2026-12-10"})
    crm.log_activity(
        "appointment", acme["id"], {"subject": "Visit", "all_day": True, "start_at": "2026-12-08"}
    )
    crm.log_activity("note", acme["id"], {"description": "Plain note"})
    return db


def test_export_to_stdout_neutralises_formula_cells(filled: Path) -> None:
    result = run("export", "accounts")
    assert result.exit_code == 0, result.stderr
    data = result.stdout_bytes
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["Existing Ltd", '\'=HYPERLINK("http://evil")']
    assert rows[1]["account_number"] == "+1"  # a number: cannot name a function
    assert rows[1]["description"] == 'Zoë\'s notes,\n"quoted"\n@all'  # not at the cell start
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "@")) and value != "-Lovelace"
    contacts = list(csv.DictReader(io.StringIO(run("export", "contacts").stdout)))
    assert sorted(c["last_name"] for c in contacts) == ["'-Lovelace", "Builder"]
    activities = run("export", "activities", "--format", "json")
    assert sorted(a["type"] for a in json.loads(activities.stdout)) == [
        "appointment",
        "note",
        "task",
    ]


def test_export_to_a_file_and_filters(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "accounts.json"
    out.parent.mkdir()
    result = run("export", "accounts", "--format", "json", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.strip() == f"wrote {out}"
    assert {a["name"] for a in json.loads(out.read_bytes())} == {
        "Existing Ltd",
        '=HYPERLINK("http://evil")',
    }
    searched = run("export", "contacts", "--search", "lovelace")
    assert [r["first_name"] for r in csv.DictReader(io.StringIO(searched.stdout))] == ["Ada"]
    about = run("export", "activities", "--regarding", "Ada -Lovelace", "--format", "json")
    assert [a["subject"] for a in json.loads(about.stdout)] == ["@Send offer"]
    bad = run("export", "accounts", "-o", tmp_path / "no" / "such" / "dir.csv")
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ")


def test_export_search_finds_activities_in_the_database_order(db: Path) -> None:
    """--search goes through CRM.search_activities (newest first) but the export keeps the
    order it always had: the order the activities were saved in, like an unfiltered one."""
    crm = CRM.open(db, user="alice")
    account = next(iter(crm.all(ACCOUNTS)))
    for subject, start in (
        ("Quarterly review 2020", "2020-01-06T10:00:00Z"),
        ("Quarterly review 2030", "2030-01-07T10:00:00Z"),
        ("Unrelated lunch", "2025-01-08T10:00:00Z"),
        ("Quarterly review 2025", "2025-01-09T10:00:00Z"),
    ):
        crm.create(
            ACTIVITIES,
            {
                "type": "appointment",
                "subject": subject,
                "start_at": start,
                "regarding_type": "account",
                "regarding_id": account,
            },
        )
    crm.close()
    searched = run("export", "activities", "--search", "QUARTERLY review", "--format", "json")
    assert searched.exit_code == 0, searched.stderr
    assert [a["subject"] for a in json.loads(searched.stdout)] == [
        "Quarterly review 2020",
        "Quarterly review 2030",
        "Quarterly review 2025",
    ]
    listed = run("list", "activities", "--search", "quarterly", "--json")  # newest first
    assert [a["subject"] for a in json.loads(listed.stdout)] == [
        "Quarterly review 2030",
        "Quarterly review 2025",
        "Quarterly review 2020",
    ]


def test_exported_vcard_and_ics_import_back(filled: Path, tmp_path: Path) -> None:
    vcf, ics = tmp_path / "all.vcf", tmp_path / "all.ics"
    assert run("export", "vcard", "-o", vcf).exit_code == 0
    assert run("export", "ics", "-o", ics).exit_code == 0
    assert vcf.read_bytes().count(b"BEGIN:VCARD") == 4  # 2 contacts, 2 accounts
    assert ics.read_bytes().count(b"BEGIN:VEVENT") == 1
    assert ics.read_bytes().count(b"BEGIN:VTODO") == 1  # the note has no iCalendar form

    other = tmp_path / "other.json"
    result = run("import", "vcard", vcf, "--db", other)
    assert result.exit_code == 0, result.stderr
    assert "2 new" in result.stdout and "2 new accounts" in result.stdout
    result = run("import", "ics", ics, "--db", other)
    assert result.exit_code == 0, result.stderr
    source, copy = load(filled), load(other)
    assert set(copy.all(ACCOUNTS)) == set(source.all(ACCOUNTS))
    assert set(copy.all(CONTACTS)) == set(source.all(CONTACTS))
    for activity in copy.all(ACTIVITIES).values():
        original = source.get(ACTIVITIES, activity["id"])
        assert original is not None
        assert (activity["subject"], activity["regarding_id"]) == (
            original["subject"],
            original["regarding_id"],
        )
    assert copy.check() == []


# ---------------------------------------------------------------------------- real process


def _crm_process(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("crm")
    command: list = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, env=env, cwd=ROOT, timeout=120
    )


def test_the_real_entry_point_imports_and_exports(tmp_path: Path) -> None:
    db = tmp_path / "p.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_DB=str(db), CRM_USER="alice", PYTHONPATH=str(ROOT), TZ="UTC")
    dry = _crm_process(
        "import", "accounts", FIXTURES / "salesforce_accounts.csv", "--dry-run", env=env
    )
    assert dry.returncode == 0, dry.stderr.decode()
    assert b"  PARENTID -> parent_account_id" in dry.stdout
    assert load(db).count(ACCOUNTS) == 0
    done = _crm_process("import", "accounts", FIXTURES / "salesforce_accounts.csv", env=env)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().splitlines()[-1].startswith("Imported. 5 rows: 5 new")
    bad = _crm_process(
        "import", "contacts", FIXTURES / "generic_contacts.csv", "--all-or-nothing", env=env
    )
    assert bad.returncode == 1 and b"Traceback" not in bad.stderr
    assert b"error: line 5: mobile:" in bad.stderr
    exported = _crm_process("export", "accounts", env=env)
    assert exported.returncode == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout.decode("utf-8-sig"))))
    assert len(rows) == 5 and {r["source_id"] for r in rows} == {
        a["source_id"] for a in load(db).all(ACCOUNTS).values()
    }


# ---------------------------------------------------------------------------- issue 7


@pytest.fixture(params=[0o022, 0o077])
def umask(request: pytest.FixtureRequest):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


@pytest.mark.parametrize("group", [False, True])
def test_export_file_has_the_database_mode_not_the_umask(
    tmp_path: Path, umask: int, group: bool
) -> None:
    db = tmp_path / "g.json"
    flags = ["--group"] if group else []
    assert run("add", "account", "--name", "Acme", "--db", db, *flags).exit_code == 0
    expected = 0o660 if group else 0o600
    assert os.stat(db).st_mode & 0o777 == expected
    for kind in ("accounts", "vcard", "ics"):
        out = tmp_path / f"export-{kind}"
        result = run("export", kind, "-o", out, "--db", db)
        assert result.exit_code == 0, result.stderr
        assert os.stat(out).st_mode & 0o777 == expected, kind
    # Over an existing file too (it was 0644: it gets the database's mode).
    out = tmp_path / "export-accounts"
    out.chmod(0o644)
    assert run("export", "accounts", "-o", out, "--db", db).exit_code == 0
    assert os.stat(out).st_mode & 0o777 == expected


def test_export_refuses_a_symlink_at_the_output_path(db: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    result = run("export", "accounts", "-o", link)
    assert result.exit_code == 1
    assert (
        result.stderr == f"error: {link} is a symbolic link: not followed; name the file itself\n"
    )
    assert victim.read_bytes() == b"precious" and link.is_symlink()


def test_contacts_import_creates_missing_accounts_by_default(db: Path, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "c.csv",
        ["First name", "Last name", "Company"],
        ["Ada", "Lovelace", "Analytical Engines"],
        ["Bob", "Builder", "Existing Ltd"],
        ["Cy", "Clone", "Analytical Engines"],
    )
    result = run("import", "contacts", source)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Imported. 3 rows: 3 new, 0 updated, 0 with errors, 0 warnings, 1 new account."
    )
    crm = load(db)
    accounts = {a["name"]: a["id"] for a in crm.all(ACCOUNTS).values()}
    assert set(accounts) == {"Existing Ltd", "Analytical Engines"}
    linked = {c["first_name"]: c.get("account_id") for c in crm.all(CONTACTS).values()}
    assert linked == {
        "Ada": accounts["Analytical Engines"],
        "Bob": accounts["Existing Ltd"],
        "Cy": accounts["Analytical Engines"],
    }
    again = run("import", "contacts", source, "--create-accounts", "--dry-run")
    assert again.exit_code == 0, again.stderr  # the explicit form of the default


def test_no_create_accounts_imports_the_contacts_unlinked(db: Path, tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "c.csv",
        ["First name", "Last name", "Company"],
        ["Ada", "Lovelace", "Analytical Engines"],
        ["Bob", "Builder", "Existing Ltd"],
    )
    result = run("import", "contacts", source, "--no-create-accounts")
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: line 2: account_id: no account 'Analytical Engines' in the database or the "
        "file; imported without an account" in result.stderr
    )
    assert "2 new" in result.stdout.splitlines()[-1]
    crm = load(db)
    assert {a["name"] for a in crm.all(ACCOUNTS).values()} == {"Existing Ltd"}
    linked = {c["first_name"]: c.get("account_id") for c in crm.all(CONTACTS).values()}
    assert linked["Ada"] is None and linked["Bob"] is not None
