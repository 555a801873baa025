"""The import (F5) and export (F6) screens, driven through the real app with Pilot.

A real database in tmp_path, a real CrmApp (tests/tui/conftest.py), no mocks. Imports and exports
run in thread workers: each action is followed by `settle`, which waits for the workers.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

from textual.widgets import Input, Select

from store.io.jobs import prepare_import
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from tests.tui.helpers import notifications, reopen, screen_text, settle
from tui.screens.record_list import AccountsScreen
from tui.screens.transfer import ExportScreen, ImportScreen
from tui.widgets.text_entry import SafePathAutoComplete

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "io"
DYNAMICS = FIXTURES / "dynamics_accounts.csv"
NEW_ACCOUNTS = {
    "Fourth Coffee (sample)",
    "Litware Inc. (sample)",
    "Adventure Works (sample)",
    "Fourth Coffee Holdings",
}


def files(db: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(db.parent.glob(db.name + "*"))
        if not p.name.endswith(".lock")
    }


def status_text(app) -> str:
    return str(app.screen.query_one("#transfer-status").render().plain)


async def open_import(pilot, path: Path, *, typed: bool = False) -> ImportScreen:
    app = pilot.app
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ImportScreen)
    assert app.focused is screen.query_one("#path", Input)
    if typed:
        await pilot.press(*str(path))  # as a user would, completions and all
    else:
        screen.query_one("#path", Input).value = str(path)  # as a paste would
    await settle(pilot)
    assert screen.query_one("#path", Input).value == str(path)
    return screen


async def test_import_screen_guesses_checks_and_imports(app, sample, db_path):
    before_files = files(db_path)
    before_accounts = reopen(db_path).count(ACCOUNTS)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_import(pilot, DYNAMICS, typed=True)
        # The default is contacts; the file's columns say accounts.
        assert screen.query_one("#kind", Select).value == "accounts"

        await pilot.press("ctrl+r")
        await settle(pilot)
        assert status_text(app).startswith(
            "Dry run, nothing written. 4 rows: 4 new, 0 updated, 0 with errors, 2 warnings"
        )
        assert "Press ctrl+s to import." in status_text(app)
        report = screen.lines
        assert report[0].startswith("warning: line 2: primary_contact_id: no contact")
        assert "Columns (utf-8-sig, delimiter ','):" in report
        assert "  parentaccountid -> parent_account_id" in report
        assert "  fax -> (unknown: kept in description)" in report
        assert "Fourth Coffee Holdings" not in screen_text(app)
        assert files(db_path) == before_files  # a check writes nothing
        assert app.crm.count(ACCOUNTS) == before_accounts

        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status_text(app) == (
            "Imported. 4 rows: 4 new, 0 updated, 0 with errors, 2 warnings."
        )
        assert any(n.startswith("Imported. 4 rows") for n in notifications(app))
        assert app.crm.count(ACCOUNTS) == before_accounts + 4

        completions = screen.query_one(SafePathAutoComplete)
        if completions.display:  # the first escape closes the path completions
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen and not completions.display
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        shown = {app.crm.get(ACCOUNTS, rid)["name"] for rid in app.screen.ids}
        assert shown >= NEW_ACCOUNTS - {"Litware Inc. (sample)"}  # inactive: filtered out
        assert "Litware Inc. (sample)" not in shown
        assert "Fourth Coffee Holdings" in screen_text(app)

    stored = reopen(db_path)
    names = {a["name"]: a for a in stored.all(ACCOUNTS).values()}
    assert NEW_ACCOUNTS <= set(names)
    assert (
        names["Fourth Coffee (sample)"]["parent_account_id"]
        == names["Fourth Coffee Holdings"]["id"]
    )
    assert stored.check() == []


async def test_import_screen_errors_are_listed_with_their_lines(app, sample, db_path):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_import(pilot, FIXTURES / "generic_contacts.csv")
        assert screen.query_one("#kind", Select).value == "contacts"
        all_or_nothing = screen.query_one("#all-or-nothing")
        all_or_nothing.value = True
        create_accounts = screen.query_one("#create-accounts")
        assert create_accounts.value is True  # the default
        create_accounts.value = False
        before = files(db_path)
        await pilot.press("ctrl+s")
        await settle(pilot)
        errors = [line for line in screen.lines if line.startswith("error: ")]
        assert [e.split(":")[1].strip() for e in errors] == ["line 5"]
        assert status_text(app).startswith("Nothing imported (all-or-nothing")
        assert files(db_path) == before

        create_accounts.value = True
        all_or_nothing.value = False
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status_text(app).startswith("Imported. 6 rows: 5 new, 0 updated, 1 with errors")
        assert [line for line in screen.lines if line.startswith("error: ")] == [
            "error: line 5: mobile: '4.47911E+11' is not a phone number (digits, spaces, + ( ) "
            "- . /)"
        ]
    contacts = reopen(db_path).all(CONTACTS).values()
    assert sum(c.get("first_name") == "Jane" for c in contacts) == 2


async def test_import_screen_vcard_and_a_missing_file(app, sample, db_path):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_import(pilot, FIXTURES / "v4_contacts.vcf")
        assert screen.query_one("#kind", Select).value == "vcard"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status_text(app).startswith("Imported. 2 rows: 2 new")
        assert "note: card 4 (line 34): a group card, not a contact or a company" in screen.lines

        screen.query_one("#path", Input).value = str(FIXTURES / "nothing-here.csv")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert status_text(app).startswith("No file at ")
        assert not screen.busy
    names = {a["name"] for a in reopen(db_path).all(ACCOUNTS).values()}
    assert "Wayne Enterprises" in names


async def test_import_screen_ics_regarding_the_picked_record(app, sample, db_path):
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_import(pilot, FIXTURES / "google.ics")
        assert screen.query_one("#kind", Select).value == "ics"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert status_text(app).startswith("Dry run, nothing written. 4 rows: 0 new")
        assert sum(line.startswith("error: ") for line in screen.lines) == 4

        screen.query_one("#field-regarding_id", Input).value = "Contoso"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status_text(app).startswith("Imported. 4 rows: 4 new")
    stored = reopen(db_path)
    imported = [
        a for a in stored.all(ACTIVITIES).values() if a.get("source_id", "").endswith("@google.com")
    ]
    assert len(imported) == 4
    assert {a["regarding_id"] for a in imported} == {sample["contoso"]}


async def test_export_screen_writes_a_file_that_parses_back(app, sample, db_path, tmp_path):
    target = tmp_path / "out" / "contacts.csv"
    target.parent.mkdir()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.query_one("#kind", Select).value == "contacts"
        path = screen.query_one("#path", Input)
        assert path.value.endswith(".csv")
        path.value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.lines == [f"Wrote {target.stat().st_size:,} bytes to {target}"]

        screen.query_one("#kind", Select).value = "vcard"
        await settle(pilot)
        assert path.value.endswith(".vcf")  # the default path follows the kind
        path.value = str(tmp_path / "out" / "all.vcf")
        await pilot.press("ctrl+s")
        await settle(pilot)

        screen.query_one("#kind", Select).value = "activities"
        screen.query_one("#format", Select).value = "json"
        await settle(pilot)
        path.value = str(tmp_path / "no" / "such" / "dir.json")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.lines[0].startswith("Not exported: ")

    stored = reopen(db_path)
    prepared = prepare_import("contacts", target.read_bytes())
    assert len(prepared.rows) == stored.count(CONTACTS)
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert {r["id"] for r in rows} == set(stored.all(CONTACTS))
    # "[/foo]" is a last name, not markup, and comes back as written.
    assert {r["last_name"] for r in rows} >= {"Lovelace", "[/foo]", "Silva"}
    cards = prepare_import("vcard", (tmp_path / "out" / "all.vcf").read_bytes())
    assert len(cards.rows) == stored.count(CONTACTS)
    assert len(cards.extra_accounts) == stored.count(ACCOUNTS)
    assert cards.notes == []


async def test_import_screen_notices_a_record_deleted_meanwhile(app, sample, db_path, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(f"First name,Last name,Account\nNew,Person,{sample['escape']}\n")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_import(pilot, path)
        assert screen.query_one("#kind", Select).value == "contacts"
        reopen(db_path).delete(ACCOUNTS, sample["escape"])  # another user, another process
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The import checks again as it saves: the contact is filed without the account
        # that is gone, and the report says so.
        assert status_text(app).startswith("Imported. 1 row: 1 new")
        assert "1 warning" in status_text(app)
        assert f"no account '{sample['escape']}'" in screen_text(app)
        assert not screen.busy
    new = [c for c in reopen(db_path).all(CONTACTS).values() if c["first_name"] == "New"]
    assert len(new) == 1 and new[0].get("account_id") is None


# ---------------------------------------------------------------------------- issue 7


async def test_after_an_import_focus_returns_to_the_file_field(app, sample, db_path, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("First name,Last name\nNew,Person\n")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_import(pilot, path)
        button = screen.query_one("#import-button")
        button.focus()  # as after tab, tab, ... to the Import button
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert status_text(app).startswith("Imported. 1 row: 1 new")
        assert app.focused is screen.query_one("#path", Input)


async def test_import_screen_creates_missing_accounts_unless_unchecked(
    app, sample, db_path, tmp_path
):
    path = tmp_path / "people.csv"
    path.write_text(
        "First name,Last name,Company\nNew,Person,Brand New Ltd\nOther,Person,Second New Ltd\n"
    )
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_import(pilot, path)
        await pilot.press("ctrl+s")  # the default: the accounts are created
        await settle(pilot)
        assert status_text(app) == (
            "Imported. 2 rows: 2 new, 0 updated, 0 with errors, 0 warnings, 2 new accounts."
        )
        path.write_text("First name,Last name,Company\nThird,Person,Never Heard Of\n")
        screen.query_one("#create-accounts").value = False
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert status_text(app).startswith(
            "Imported. 1 row: 1 new, 0 updated, 0 with errors, 1 warning"
        )
        assert screen.lines[0] == (
            "warning: line 2: account_id: no account 'Never Heard Of' in "
            "the database or the file; imported without an account"
        )
    stored = reopen(db_path)
    names = {a["name"] for a in stored.all(ACCOUNTS).values()}
    assert {"Brand New Ltd", "Second New Ltd"} <= names and "Never Heard Of" not in names
    third = [c for c in stored.all(CONTACTS).values() if c["first_name"] == "Third"]
    assert len(third) == 1 and "account_id" not in third[0]


async def export_to(pilot, target: Path) -> ExportScreen:
    await settle(pilot)
    await pilot.press("f6")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportScreen)
    screen.query_one("#path", Input).value = str(target)
    await pilot.press("ctrl+s")
    await settle(pilot)
    return screen


async def test_export_screen_file_has_the_database_mode_whatever_the_umask(
    sample, make_app, tmp_path
):
    for umask in (0o022, 0o077):
        previous = os.umask(umask)
        try:
            target = tmp_path / f"contacts-{umask:o}.csv"
            async with make_app().run_test(size=(100, 30)) as pilot:
                await export_to(pilot, target)
        finally:
            os.umask(previous)
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


async def test_export_screen_of_a_group_database_writes_0660(sample, db_path, make_app, tmp_path):
    os.chmod(db_path, 0o660)  # a group database (created with `crm --group`)
    previous = os.umask(0o077)
    try:
        target = tmp_path / "contacts.csv"
        async with make_app().run_test(size=(100, 30)) as pilot:
            await export_to(pilot, target)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o660


async def test_export_screen_refuses_a_symlink(app, sample, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    link = tmp_path / "contacts.csv"
    link.symlink_to(victim)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await export_to(pilot, link)
        assert screen.lines == [
            f"Not exported: {link} is a symbolic link: not followed; name the file itself"
        ]
    assert victim.read_bytes() == b"precious" and link.is_symlink()
