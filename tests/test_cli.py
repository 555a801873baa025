"""The `crm` command line, end to end against real database files in tmp_path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from store.dates import from_storage
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM
from store.text import visible
from tui.cli import cli, main
from tui.cli.context import default_database_path, demo_database_path, ensure_demo_database
from tui.cli.output import Column, cell_width, fit, render_table
from tui.cli.reading import _activity_columns

ROOT = Path(__file__).resolve().parents[1]
ESC = "\x1b"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real user's data: HOME and the data dir point into tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("CRM_USER", "alice")
    monkeypatch.setenv("CRM_DEMO_DB", str(tmp_path / "demo" / "demo.json"))
    monkeypatch.delenv("CRM_DB", raising=False)
    monkeypatch.delenv("CRM_DEBUG", raising=False)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
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
    return result.stdout.strip()


def fails(*args: str) -> str:
    """The one-line error of a command that must fail with exit status 1."""
    result = run(*args)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def load(path: Path) -> CRM:
    return CRM.open(path, user="test")


@pytest.fixture
def sample(db: Path) -> dict[str, str]:
    """Acme (customer, Oslo) > Sub Co; Ada at Acme; a task on Ada, a call on Sub Co."""
    ids = {
        "acme": ok(
            "add",
            "account",
            "--name",
            "Acme Ltd",
            "--relationship",
            "customer",
            "--city",
            "Oslo",
            "--email",
            "info@acme.example",
        )
    }
    ids["sub"] = ok("add", "account", "--name", "Sub Co", "--parent", "Acme Ltd")
    ids["ada"] = ok(
        "add",
        "contact",
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--account",
        "acme ltd",
        "--email",
        "ADA@example.org",
        "--job-title",
        "CTO",
    )
    ids["task"] = ok(
        "log", "task", "--regarding", "Ada Lovelace", "--subject", "Send quote", "--due", "+2d"
    )
    ids["call"] = ok(
        "log",
        "call",
        "--regarding",
        ids["sub"],
        "--subject",
        "Intro call",
        "--start",
        "2026-01-05 10:00",
        "--direction",
        "outgoing",
    )
    return ids


# ---------------------------------------------------------------------------- help & database


COMMANDS = [
    [],
    ["add"],
    ["add", "account"],
    ["add", "contact"],
    ["edit"],
    ["log"],
    ["done"],
    ["cancel"],
    ["reopen"],
    ["delete"],
    ["list"],
    ["show"],
    ["agenda"],
    ["check"],
    ["compact"],
    ["demo"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "crm")
def test_every_command_has_help(command: list[str]) -> None:
    out = ok(*command, "--help")
    assert "Usage: crm" in out
    assert "--db" in out


def test_add_account_prints_the_id_and_stores_it(db: Path) -> None:
    account_id = ok(
        "add",
        "account",
        "--name",
        "Acme Ltd",
        "--phone",
        "+47 22 33 44 55",
        "--street1",
        "Storgata 1",
        "--postal-code",
        "0155",
        "--country",
        "Norway",
        "--website",
        "acme.example",
        "--account-number",
        "A-1",
        "--industry",
        "Widgets",
        "--description",
        "Makes widgets",
        "--status",
        "inactive",
        "--relationship",
        "Partner",
    )
    record = load(db).get(ACCOUNTS, account_id)
    assert record["name"] == "Acme Ltd"
    assert record["address_line1"] == "Storgata 1"
    assert record["address_postal_code"] == "0155"
    assert record["relationship"] == "partner"
    assert record["status"] == "inactive"
    assert record["created_by"] == "alice"


@pytest.mark.parametrize("where", ["before", "after", "between"])
def test_db_option_before_or_after_the_subcommand(tmp_path: Path, where: str) -> None:
    path = tmp_path / "chosen.json"
    command = ["add", "account", "--name", "Acme"]
    option = ["--db", str(path)]
    args = {
        "before": option + command,
        "after": command + option,
        "between": command[:1] + option + command[1:],
    }[where]
    account_id = ok(*args)
    assert load(path).get(ACCOUNTS, account_id)["name"] == "Acme"
    assert account_id in ok("list", "accounts", "--db", str(path))
    assert account_id in ok("--db", str(path), "list", "accounts")


def test_crm_db_environment_and_the_default_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_path = tmp_path / "env.json"
    monkeypatch.setenv("CRM_DB", str(env_path))
    first = ok("add", "account", "--name", "From env")
    assert load(env_path).get(ACCOUNTS, first)
    other = tmp_path / "flag.json"
    second = ok("add", "account", "--name", "From flag", "--db", str(other))
    assert load(other).get(ACCOUNTS, second) and not load(env_path).get(ACCOUNTS, second)
    monkeypatch.delenv("CRM_DB")
    ok("add", "account", "--name", "Default")
    default = default_database_path()
    assert default.name == "crm.json" and default.is_relative_to(tmp_path / "home")
    assert default.exists()


def test_user_and_group_options(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    account_id = ok(
        "--group", "add", "account", "--name", "Acme", "--db", str(path), "--user", "bob"
    )
    record = load(path).get(ACCOUNTS, account_id)
    assert record["created_by"] == "bob" and record["owner"] == "bob"
    assert path.stat().st_mode & 0o777 == 0o660
    private = tmp_path / "private.json"
    ok("add", "account", "--name", "Acme", "--db", str(private))
    assert private.stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------------------- add & errors


def test_add_contact_with_account_by_name_and_duplicate_warning(
    sample: dict[str, str], db: Path
) -> None:
    contact = load(db).get(CONTACTS, sample["ada"])
    assert contact["account_id"] == sample["acme"]
    assert contact["email"] == "ada@example.org"
    result = run("add", "contact", "--first-name", "ada", "--last-name", "LOVELACE")
    assert result.exit_code == 0
    assert result.stdout.strip() != sample["ada"]
    assert result.stderr.startswith("warning: possible duplicate of Ada Lovelace")


def test_primary_contact_warning(sample: dict[str, str]) -> None:
    result = run("edit", sample["sub"], "--primary-contact", "Ada Lovelace")
    assert result.exit_code == 0
    assert result.stderr.strip() == (
        "warning: primary contact Ada Lovelace does not belong to this account"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["add", "account", "--name", "X", "--email", "bad"],
            "error: email: 'bad' is not an email address",
        ),
        (["add", "account", "--industry", "none"], "error: name: is required"),
        (
            ["add", "account", "--name", "X", "--parent", "Nope"],
            "error: parent: no account called 'Nope'",
        ),
        (
            ["add", "account", "--name", "X", "--primary-contact", "Nobody"],
            "error: primary-contact: no contact called 'Nobody'",
        ),
        (
            ["add", "contact", "--job-title", "CEO"],
            "error: last-name: a first name or a last name is required",
        ),
        (
            ["add", "contact", "--last-name", "X", "--account", "Nope"],
            "error: account: no account called 'Nope'",
        ),
        (["add", "contact", "--last-name", "X", "--phone", "call me"], "error: phone: "),
        (["add", "account", "--name", "X", "--website", "not a site"], "error: website: "),
        (["add", "account", "--name", "two\nlines"], "error: name: must be a single line"),
        (
            ["log", "task", "--regarding", "Nobody", "--subject", "x"],
            "error: regarding: no account or contact called 'Nobody'",
        ),
        (["log", "task", "--regarding", "Acme Ltd"], "error: subject: is required"),
        (["log", "note", "--regarding", "Acme Ltd"], "error: description: a note needs some text"),
        (
            ["log", "task", "--regarding", "Acme Ltd", "--subject", "x", "--due", "someday"],
            "error: due: can't read 'someday' as a date",
        ),
        (
            [
                "log",
                "appointment",
                "--regarding",
                "Acme Ltd",
                "--subject",
                "x",
                "--start",
                "2026-12-03 14:00",
                "--end",
                "-1h",
            ],
            "error: end: ends before it starts",
        ),
        (
            ["show", "nothing-like-this"],
            "error: no account or contact or activity with id or name 'nothing-like-this'",
        ),
    ],
)
def test_errors_name_the_field(sample: dict[str, str], args: list[str], expected: str) -> None:
    assert fails(*args).startswith(expected)


def test_ambiguous_name_and_cycle(sample: dict[str, str]) -> None:
    ok("add", "account", "--name", "ACME, Ltd.")  # the same name, written differently
    line = fails("add", "contact", "--last-name", "X", "--account", "Acme Ltd")
    assert line.startswith("error: account: 'Acme Ltd' names 2 accounts")
    assert sample["acme"] in line
    cycle = fails("edit", sample["acme"], "--parent", "Sub Co")
    assert cycle.startswith("error: parent: 'Sub Co' is already below this account")
    assert fails("edit", sample["acme"], "--parent", sample["acme"]) == (
        "error: parent: an account cannot be its own parent"
    )


def test_usage_errors_keep_clicks_message(db: Path) -> None:
    result = run("add", "account", "--name", "X", "--relationship", "friend")
    assert result.exit_code == 2
    assert "Invalid value for '--relationship'" in result.stderr
    result = run("log", "meeting", "--regarding", "x")
    assert result.exit_code == 2
    result = run("list")
    assert result.exit_code == 2 and "Missing argument" in result.stderr


def test_storage_errors_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{ this is not json")
    line = fails("list", "accounts", "--db", str(broken))
    assert "is damaged" in line
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert "not a CRM database" in fails("list", "accounts", "--db", str(empty))


# ---------------------------------------------------------------------------- edit


def test_edit_sets_clears_and_prints_the_id(sample: dict[str, str], db: Path) -> None:
    assert (
        ok(
            "edit",
            sample["acme"],
            "--phone",
            "+47 1234 5678",
            "--city",
            "Bergen",
            "--clear",
            "email",
            "--clear",
            "relationship",
        )
        == sample["acme"]
    )
    record = load(db).get(ACCOUNTS, sample["acme"])
    assert record["phone"] == "+47 1234 5678"
    assert record["address_city"] == "Bergen"
    assert "email" not in record and "relationship" not in record
    assert record["version"] == 2 and record["modified_by"] == "alice"
    ok("edit", "Sub Co", "--parent", "")  # an empty value clears too; edit by unique name
    assert "parent_account_id" not in load(db).get(ACCOUNTS, sample["sub"])
    ok("edit", sample["ada"], "--clear", "--account", "--job-title", "CEO")
    contact = load(db).get(CONTACTS, sample["ada"])
    assert "account_id" not in contact and contact["job_title"] == "CEO"


def test_edit_errors(sample: dict[str, str]) -> None:
    assert fails("edit", sample["acme"], "--first-name", "X") == (
        "error: first-name: is not a field of accounts"
    )
    assert fails("edit", sample["acme"], "--clear", "mobile") == (
        "error: mobile: is not a field of accounts"
    )
    assert fails("edit", sample["acme"], "--phone", "1234", "--clear", "phone") == (
        "error: phone: is both set and cleared"
    )
    assert fails("edit", sample["acme"], "--status", "gone").startswith(
        "error: status: 'gone' is not one of: active, inactive"
    )
    assert fails("edit", sample["acme"], "--email", "x@") == (
        "error: email: 'x@' is not an email address"
    )
    assert fails("edit", sample["acme"], "--regarding", "Sub Co") == (
        "error: regarding: is not a field of accounts"
    )
    assert run("edit", sample["acme"]).exit_code == 2  # nothing to change


def test_edit_activity(sample: dict[str, str], db: Path) -> None:
    ok(
        "edit",
        sample["task"],
        "--due",
        "2026-12-03",
        "--priority",
        "high",
        "--regarding",
        "Acme Ltd",
        "--description",
        "-",
        input="line one\nline two\n",
    )
    task = load(db).get(ACTIVITIES, sample["task"])
    assert task["due_at"] == "2026-12-03"
    assert task["priority"] == "high"
    assert (task["regarding_type"], task["regarding_id"]) == ("account", sample["acme"])
    assert task["description"] == "line one\nline two"
    meeting = ok(
        "log",
        "appointment",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Demo",
        "--start",
        "2026-12-03 14:00",
    )
    ok("edit", meeting, "--end", "+2h")  # an end is read relative to the stored start
    stored = load(db).get(ACTIVITIES, meeting)
    assert from_storage(stored["end_at"]) - from_storage(stored["start_at"]) == timedelta(hours=2)


# ---------------------------------------------------------------------------- activities


def test_log_every_type(sample: dict[str, str], db: Path) -> None:
    note = ok("log", "note", "--regarding", "Acme Ltd", "--description", "Met at the fair")
    email = ok(
        "log",
        "email",
        "--regarding",
        "Ada Lovelace",
        "--subject",
        "Quote",
        "--from",
        "me@example.org",
        "--to",
        "ada@example.org",
        "--direction",
        "outgoing",
    )
    call = ok(
        "log",
        "CALL",
        "--regarding",
        "Sub Co",
        "--subject",
        "Ring",
        "--phone-number",
        "+47 555 1234",
        "--direction",
        "incoming",
    )
    meeting = ok(
        "log",
        "appointment",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Demo",
        "--start",
        "2026-12-03 14:00",
        "--end",
        "+90m",
        "--location",
        "HQ",
    )
    day = ok(
        "log",
        "appointment",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Fair",
        "--start",
        "2026-12-10",
        "--all-day",
        "--owner",
        "bob",
        "--status",
        "canceled",
    )
    crm = load(db)
    assert crm.get(ACTIVITIES, note)["type"] == "note"
    assert crm.get(ACTIVITIES, email)["email_from"] == "me@example.org"
    assert crm.get(ACTIVITIES, email)["status"] == "completed"
    assert crm.get(ACTIVITIES, call)["type"] == "phone_call"
    assert crm.get(ACTIVITIES, call)["direction"] == "incoming"
    appointment = crm.get(ACTIVITIES, meeting)
    start, end = from_storage(appointment["start_at"]), from_storage(appointment["end_at"])
    assert isinstance(start, datetime)
    assert start.astimezone().strftime("%Y-%m-%d %H:%M") == "2026-12-03 14:00"
    assert end - start == timedelta(minutes=90)
    assert appointment["status"] == "open" and appointment["location"] == "HQ"
    all_day = crm.get(ACTIVITIES, day)
    assert all_day["start_at"] == "2026-12-10" and all_day["all_day"] is True
    assert all_day["owner"] == "bob" and all_day["status"] == "canceled"


def test_dates_are_parsed_and_stored(sample: dict[str, str], db: Path) -> None:
    crm = load(db)
    assert (
        crm.get(ACTIVITIES, sample["task"])["due_at"]
        == (date.today() + timedelta(days=2)).isoformat()
    )  # +2d: a day, no time
    timed = ok(
        "log", "task", "--regarding", "Acme Ltd", "--subject", "Call back", "--due", "tomorrow 9am"
    )
    due = from_storage(load(db).get(ACTIVITIES, timed)["due_at"])
    assert isinstance(due, datetime)
    local = due.astimezone()
    assert local.date() == date.today() + timedelta(days=1) and local.hour == 9


def test_done_cancel_reopen(sample: dict[str, str], db: Path) -> None:
    task = sample["task"]
    assert ok("done", task) == task
    record = load(db).get(ACTIVITIES, task)
    assert record["status"] == "completed" and record["completed_at"]
    ok("cancel", task)
    assert load(db).get(ACTIVITIES, task)["status"] == "canceled"
    ok("reopen", task)
    record = load(db).get(ACTIVITIES, task)
    assert record["status"] == "open" and "completed_at" not in record
    assert fails("done", "Acme Ltd") == "error: 'Acme Ltd' is an account, not an activity"
    assert fails("done", "01NOSUCHID") == "error: no activity with id or name '01NOSUCHID'"


# ---------------------------------------------------------------------------- delete


def test_delete_needs_choices_for_dependants(sample: dict[str, str], db: Path) -> None:
    line = fails("delete", sample["acme"])
    assert line.startswith(
        "error: this account has 1 contact (detach or delete), 1 subsidiary (detach or reparent)"
    )
    assert "--contacts" in line
    assert load(db).get(ACCOUNTS, sample["acme"])  # nothing happened
    # Ada has a task: deleting her with the account needs --activities delete too.
    assert "1 activity (delete)" in fails(
        "delete", sample["acme"], "--contacts", "delete", "--subsidiaries", "detach"
    )
    out = ok(
        "delete",
        sample["acme"],
        "--contacts",
        "delete",
        "--subsidiaries",
        "detach",
        "--activities",
        "delete",
    )
    assert out == f"deleted account {sample['acme']} and 2 dependent records"
    crm = load(db)
    assert crm.get(ACCOUNTS, sample["acme"]) is None
    assert crm.get(CONTACTS, sample["ada"]) is None
    assert crm.get(ACTIVITIES, sample["task"]) is None
    assert "parent_account_id" not in crm.get(ACCOUNTS, sample["sub"])


def test_delete_without_dependants_and_activities(sample: dict[str, str], db: Path) -> None:
    lonely = ok("add", "contact", "--last-name", "Lonely")
    assert ok("delete", lonely) == f"deleted contact {lonely}"
    assert ok("delete", sample["call"]) == f"deleted activity {sample['call']}"
    ok("delete", "Acme Ltd", "--contacts", "detach", "--subsidiaries", "reparent")
    crm = load(db)
    assert crm.get(CONTACTS, lonely) is None and crm.get(ACTIVITIES, sample["call"]) is None
    assert "account_id" not in crm.get(CONTACTS, sample["ada"])
    assert fails("delete", "Acme Ltd").startswith("error: no account or contact or activity")


# ---------------------------------------------------------------------------- reading


def test_list_tables(sample: dict[str, str]) -> None:
    accounts = ok("list", "accounts").splitlines()
    assert accounts[0].split()[:2] == ["ID", "NAME"]
    assert [line.split()[0] for line in accounts[1:]] == [sample["acme"], sample["sub"]]
    assert "customer" in accounts[1] and "Oslo" in accounts[1]
    assert all(len(line) <= 80 for line in accounts)
    contacts = ok("list", "contact")
    assert "Ada Lovelace" in contacts and "Acme Ltd" in contacts
    activities = ok("list", "activities").splitlines()
    assert [line.split()[0] for line in activities[1:]] == [sample["task"], sample["call"]]
    result = run("list", "accounts", "--search", "nothing matches this")
    assert result.exit_code == 0 and result.stdout == "" and "no accounts" in result.stderr


def test_list_filters(sample: dict[str, str]) -> None:
    def ids(*args: str) -> list[str]:
        return [r["id"] for r in json.loads(ok("list", *args, "--json"))]

    assert ids("accounts", "--search", "oslo") == [sample["acme"]]
    assert ids("accounts", "--relationship", "customer") == [sample["acme"]]
    assert ids("accounts", "--status", "inactive") == []
    assert ids("accounts", "--limit", "1") == [sample["acme"]]
    assert ids("contacts", "--account", "Acme Ltd") == [sample["ada"]]
    assert ids("contacts", "--search", "acme") == [sample["ada"]]  # by the account's name
    assert ids("activities", "--search", "quote") == [sample["task"]]
    assert ids("activities", "--type", "call") == [sample["call"]]
    assert ids("activities", "--status", "open") == [sample["task"]]
    assert ids("activities", "--regarding", "Sub Co") == [sample["call"]]
    assert ids("activities", "--regarding", "Acme Ltd") == []
    assert ids("activities", "--regarding", "Acme Ltd", "--with-contacts") == [sample["task"]]
    assert fails("list", "contacts", "--relationship", "customer") == (
        "error: relationship: only applies to accounts"
    )
    assert fails("list", "accounts", "--status", "open").startswith("error: status: 'open'")
    assert fails("list", "accounts", "--regarding", "x") == (
        "error: regarding: only applies to activities"
    )


def test_list_timeline_is_newest_first(sample: dict[str, str]) -> None:
    older = ok("log", "note", "--regarding", "Sub Co", "--description", "old")
    newer = ok("log", "task", "--regarding", "Sub Co", "--subject", "later", "--due", "2030-01-01")
    records = json.loads(ok("list", "activities", "--regarding", sample["sub"], "--json"))
    assert [r["id"] for r in records] == [newer, older, sample["call"]]
    table = ok("list", "activities", "--regarding", "Sub Co").splitlines()
    assert "REGARDING" not in table[0]  # all the same record: no column for it
    assert [line.split()[0] for line in table[1:]] == [newer, older, sample["call"]]


def test_list_json_is_exact(sample: dict[str, str], db: Path) -> None:
    records = json.loads(ok("list", "accounts", "--json"))
    crm = load(db)
    assert records == [crm.get(ACCOUNTS, sample["acme"]), crm.get(ACCOUNTS, sample["sub"])]
    assert json.loads(ok("list", "activities", "--json", "--search", "nothing")) == []


def test_show_account(sample: dict[str, str]) -> None:
    out = ok("show", "Acme Ltd", "--with-contacts")
    assert out.splitlines()[0] == "Account: Acme Ltd"
    assert sample["acme"] in out and "Oslo" in out and "customer" in out
    assert "Subsidiaries (1)" in out and "Sub Co" in out
    assert "Contacts (1)" in out and "Ada Lovelace" in out
    assert "Timeline (1)" in out and "Send quote" in out
    sub = ok("show", sample["sub"])
    assert f"Acme Ltd ({sample['acme']})" in sub and "Parents: Acme Ltd" in sub
    data = json.loads(ok("show", "Acme Ltd", "--json"))
    assert data["table"] == "accounts" and data["record"]["id"] == sample["acme"]
    assert [r["id"] for r in data["subsidiaries"]] == [sample["sub"]]
    assert [r["id"] for r in data["contacts"]] == [sample["ada"]]
    assert data["parents"] == [] and data["timeline"] == []


def test_show_contact_and_activity(sample: dict[str, str]) -> None:
    contact = ok("show", "Ada Lovelace")
    assert contact.startswith("Contact: Ada Lovelace") and "Send quote" in contact
    assert json.loads(ok("show", sample["ada"], "--json"))["timeline"][0]["id"] == sample["task"]
    activity = ok("show", sample["call"])
    assert activity.startswith("Activity: Intro call")
    assert "Phone call" in activity and "2026-01-05 10:00" in activity
    assert f"Sub Co ({sample['sub']})" in activity
    data = json.loads(ok("show", sample["call"], "--json"))
    assert data["record"]["type"] == "phone_call" and "timeline" not in data


def test_show_limits_the_timeline(sample: dict[str, str]) -> None:
    for n in range(3):
        ok("log", "note", "--regarding", "Sub Co", "--description", f"note {n}")
    out = ok("show", "Sub Co", "--limit", "2")
    assert "Timeline (4)" in out and "… 2 more: crm list activities --regarding" in out
    assert len(json.loads(ok("show", "Sub Co", "--json", "--limit", "2"))["timeline"]) == 2


def test_agenda(sample: dict[str, str]) -> None:
    overdue = ok(
        "log", "task", "--regarding", "Acme Ltd", "--subject", "Late one", "--due", "2020-01-01"
    )
    today = ok(
        "log",
        "appointment",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Lunch",
        "--start",
        "today 23:58",
    )
    bobs = ok(
        "log",
        "task",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Bob's",
        "--owner",
        "bob",
        "--due",
        "+1d",
    )
    out = ok("agenda")
    assert out.index("Overdue (1)") < out.index("Today (1)") < out.index("Upcoming (1)")
    assert overdue in out and today in out and sample["task"] in out and bobs not in out
    assert sample["call"] not in out  # calls are not on the agenda
    assert bobs in ok("agenda", "--all")
    data = json.loads(ok("agenda", "--json"))
    assert [a["id"] for a in data["overdue"]] == [overdue]
    assert [a["id"] for a in data["upcoming"]] == [sample["task"]]
    result = run("agenda", "--user", "carol")
    assert result.exit_code == 0 and result.stdout == ""
    assert "nothing open for carol" in result.stderr


def test_check_and_compact(sample: dict[str, str], db: Path) -> None:
    result = run("check")
    assert result.exit_code == 0 and "no problems" in result.stderr
    assert Path(f"{db}.journal-1").stat().st_size > 0
    ok("compact")
    base = db.read_text()
    assert sample["acme"] in base and sample["task"] in base
    assert load(db).get(ACCOUNTS, sample["acme"])["name"] == "Acme Ltd"
    crm = load(db)  # a dangling reference written behind the service's back
    contact = dict(crm.get(CONTACTS, sample["ada"]), account_id="01GONE")
    crm._engine.database.transact(lambda tables: [("put", CONTACTS, contact)])
    result = run("check")
    assert result.exit_code == 1
    assert f"contact {sample['ada']}: account_id: no account '01GONE'" in result.stdout
    assert "1 problem found" in result.stderr


# ---------------------------------------------------------------------------- hostile text


HOSTILE = f"Evil{ESC}[31mRed{ESC}]0;owned\x07 \u202eroC\x9b2J"


def test_hostile_names_are_printed_visibly(db: Path) -> None:
    account_id = ok("add", "account", "--name", HOSTILE, "--city", f"{ESC}[2J")
    ok("log", "task", "--regarding", account_id, "--subject", f"x{ESC}[1m")
    outputs = [
        ok("list", "accounts"),
        ok("show", account_id),
        ok("list", "activities"),
        ok("agenda"),
    ]
    for out in outputs:
        for bad in (ESC, "\x07", "\u202e", "\x9b"):
            assert bad not in out
    assert "Evil^[[31mRed^[]0;owned^G \\u202eroC\\x9b2J" in outputs[1]
    duplicate = run("add", "account", "--name", HOSTILE)
    assert duplicate.exit_code == 0 and ESC not in duplicate.stderr
    assert "warning: possible duplicate of Evil^[[31m" in duplicate.stderr
    error = fails("add", "contact", "--last-name", "x", "--account", f"{ESC}[31mnope")
    assert ESC not in error and "^[[31mnope" in error
    raw = ok("list", "accounts", "--json")
    assert ESC not in raw and "\u202e" not in raw and "\x9b" not in raw
    assert json.loads(raw)[0]["name"] == HOSTILE  # the JSON keeps the exact value


def test_visible_and_render_table() -> None:
    assert visible(f"a{ESC}b\x00c\x7f") == "a^[b^@c^?"
    assert visible("one\ntwo\tx") == "one^Jtwo^Ix"
    assert visible("one\r\ntwo\tx", multiline=True) == "one\ntwo    x"
    long = "N" * 200
    rows = render_table(
        [
            Column("ID", ["1", "2"]),
            Column("NAME", [long, "短い名前です"], flex=True),
            Column("OPTIONAL", ["o", "p"], drop=1),
            Column("EMPTY", ["", ""], drop=2),
        ],
        width=40,
    )
    assert rows[0].split() == ["ID", "NAME", "OPTIONAL"]
    assert all(cell_width(row) <= 40 for row in rows)
    assert rows[1].startswith("1   NNN") and "…" in rows[1]


def test_columns_line_up_with_zero_width_characters() -> None:
    """Widths come from wcwidth, as a terminal lays text out: a zero-width space or a
    combining accent takes no column (a hand count gave the space one, and every later
    column of its row moved right)."""
    from wcwidth import wcswidth

    names = ["plain", "zero\u200bwidth", "cafe\u0301 noir", "東京 office", "x" * 30]
    rows = render_table(
        [Column("NAME", names, flex=True, min_width=12), Column("CITY", ["Oslo"] * len(names))],
        width=30,
    )
    starts = {wcswidth(row[: row.index("Oslo")]) for row in rows[1:]}
    assert starts == {wcswidth(rows[0][: rows[0].index("CITY")])}, rows
    assert fit("a\u200bb", 2) == "a\u200bb"  # two columns: nothing to cut
    assert fit("東京x", 4) == "東… " and fit("東", 3) == "東 "  # wide: two columns each


# ---------------------------------------------------------------------------- the app


def test_no_subcommand_opens_the_app(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []
    fake = types.ModuleType("tui.app")
    fake.run_tui = lambda *args: calls.append(args)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.app", fake)
    ok()
    assert calls == [(str(db), None, False)]
    ok("--db", "other.json", "--user", "bob", "--group")
    assert calls[-1] == ("other.json", "bob", True)


def test_demo_refuses_a_database_with_records(sample: dict[str, str], db: Path) -> None:
    pytest.importorskip("store.demo")
    line = fails("demo")
    assert "already has" in line and "--force" in line
    assert load(db).get(ACCOUNTS, sample["acme"])  # untouched


def test_demo_fills_and_force_replaces(sample: dict[str, str], db: Path) -> None:
    pytest.importorskip("store.demo")
    result = run("demo", "--force", "--seed", "7")
    assert result.exit_code == 0, result.stderr
    crm = load(db)
    assert crm.get(ACCOUNTS, sample["acme"]) is None
    assert crm.count(ACCOUNTS) > 0 and crm.count(CONTACTS) > 0 and crm.count(ACTIVITIES) > 0
    assert run("check").exit_code == 0


def test_demo_on_an_empty_database(tmp_path: Path) -> None:
    pytest.importorskip("store.demo")
    path = tmp_path / "fresh.json"
    ok("demo", "--size", "s", "--seed", "1", "--db", str(path))
    assert load(path).count(ACCOUNTS) > 0


def test_demo_option_opens_the_app_on_the_demo_database(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("store.demo")
    calls: list[tuple] = []
    fake = types.ModuleType("tui.app")
    fake.run_tui = lambda *args: calls.append(args)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui.app", fake)
    demo_path = demo_database_path()
    assert demo_path == tmp_path / "demo" / "demo.json"
    ok("--demo")
    assert calls == [(str(demo_path), None, False)]
    assert load(demo_path).count(ACCOUNTS) > 0
    assert not db.exists()  # never the user's own data
    before = demo_path.stat().st_mtime_ns
    assert ensure_demo_database(demo_path) == demo_path  # generated only once
    assert demo_path.stat().st_mtime_ns == before
    assert run("--demo", "--db", str(db)).exit_code == 2


# ---------------------------------------------------------------------------- real processes


def _crm_process(*args: str | bytes, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("crm")
    command: list = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    return subprocess.run([*command, *args], capture_output=True, env=env, cwd=ROOT, timeout=60)


@pytest.fixture
def process_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(CRM_DB=str(tmp_path / "p.json"), CRM_USER="alice", PYTHONPATH=str(ROOT))
    return env


def test_entry_point_errors_without_traceback(process_env: dict[str, str]) -> None:
    done = _crm_process("add", "account", "--name", "Acme", "--email", "bad", env=process_env)
    assert done.returncode == 1
    assert done.stderr.decode().strip() == "error: email: 'bad' is not an email address"
    created = _crm_process("add", "account", "--name", "Acme", env=process_env)
    assert created.returncode == 0 and len(created.stdout.strip()) == 26
    listed = _crm_process("list", "accounts", "--json", env=process_env)
    assert json.loads(listed.stdout)[0]["name"] == "Acme"
    invalid = _crm_process("add", "account", "--name", b"bad\xffbyte", env=process_env)
    assert invalid.returncode == 1
    assert invalid.stderr.decode().strip() == "error: name: is not valid UTF-8 text"


def test_unexpected_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(CRM, "open", boom)
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "accounts"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: unexpected RuntimeError: disk on fire (CRM_DEBUG=1 shows details)"
    )


def test_scripting_commands_do_not_import_the_ui(process_env: dict[str, str]) -> None:
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        "try:\n"
        "    main(['list', 'accounts'])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = [m for m in ('textual', 'rich', 'icalendar', 'vobject') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=process_env, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == "[]"


# ---------------------------------------------------------------------------- dates and words


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ("11:00", "2030-06-03 11:00"),
        ("11am", "2030-06-03 11:00"),
        ("+1h", "2030-06-03 10:30"),
        ("90m", "2030-06-03 11:00"),
        ("1h30m", "2030-06-03 11:00"),
        ("+30m", "2030-06-03 10:00"),
    ],
)
def test_an_appointment_end_is_read_from_its_start(
    sample: dict[str, str], db: Path, end: str, expected: str
) -> None:
    meeting = ok(
        "log",
        "appointment",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Visit",
        "--start",
        "2030-06-03 09:30",
        "--end",
        end,
    )
    stored = from_storage(load(db).get(ACTIVITIES, meeting)["end_at"])
    assert stored.astimezone().strftime("%Y-%m-%d %H:%M") == expected


def test_a_call_is_logged_at_its_moment(sample: dict[str, str], db: Path) -> None:
    call = ok(
        "log",
        "call",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Ring back",
        "--start",
        "2030-06-03 16:45",
    )
    stored = from_storage(load(db).get(ACTIVITIES, call)["start_at"])
    assert stored.astimezone().strftime("%Y-%m-%d %H:%M") == "2030-06-03 16:45"


def test_lists_use_the_one_vocabulary(sample: dict[str, str], db: Path) -> None:
    ok(
        "log",
        "appointment",
        "--regarding",
        "Acme Ltd",
        "--subject",
        "Visit",
        "--start",
        "2030-06-03 09:30",
    )
    activities = ok("list", "activities")
    assert "Phone call" in activities and "Appointment" in activities
    assert "appt" not in activities
    crm = load(db)
    wide = render_table(_activity_columns(crm, crm.records(ACTIVITIES, [sample["call"]])), 200)
    assert wide[0].split()[:4] == ["ID", "WHEN", "TYPE", "STATUS"]
    assert "Phone call  completed" in wide[1] and "done" not in wide[1]
    assert "Appointment" in ok("agenda")
    assert "Phone call" in ok("show", sample["call"])


def test_counts_are_grammatical_with_one_separator(sample: dict[str, str]) -> None:
    result = run("check")
    assert result.exit_code == 0
    assert result.stderr.strip() == "no problems (2 accounts, 1 contact, 2 activities)"


def test_an_import_with_one_warning_says_1_warning(db: Path, tmp_path: Path) -> None:
    source = tmp_path / "one.csv"
    source.write_text("name,primary_contact_id\nAcme Ltd,Nobody Known\n", encoding="utf-8")
    result = run("import", "accounts", str(source), "--dry-run")
    assert result.exit_code == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0].startswith("one.csv: 1 row, ")
    assert out[-1] == (
        "Dry run, nothing written. 1 row: 1 new, 0 updated, 0 with errors, "
        "1 warning (would import)."
    )


def test_every_command_is_named_in_its_room() -> None:
    # `crm` loads a command's module only when it runs: the table must say where each is.
    import importlib

    from tui.cli import ROOMS

    for room in set(ROOMS.values()):
        commands = importlib.import_module(f"tui.cli.{room}").COMMANDS
        assert {c.name for c in commands} == {n for n, r in ROOMS.items() if r == room}, room


def test_a_command_loads_only_its_own_room(tmp_path: Path) -> None:
    code = (
        "import sys; from tui.cli import main\n"
        "try:\n    main(['--db', sys.argv[1], 'list', 'accounts'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('tui.cli.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "crm.json")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=60,
    )
    loaded = done.stdout.strip().splitlines()[-1]
    assert "tui.cli.reading" in loaded
    for other in ("cleanup", "migrate", "transfer", "safety"):
        assert f"tui.cli.{other}" not in loaded, loaded
