"""Typed work is never thrown away: a record deleted or changed by another user while the form
is open, and values longer than a field allows. The other user is a second real CRM over the
same database, as in the flows tests (the `db_app` ones on a file and on PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.queries import ListQuery
from store.service import CRM
from tests.tui.helpers import open_record, reopen, screen_text, settle, type_keys
from tui.screens.actions import edit_record
from tui.screens.detail import AccountScreen
from tui.screens.dialogs import ConflictScreen, DeletedScreen
from tui.screens.forms import FormScreen


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files the app writes for the user go to a data dir inside tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def field_value(app, name: str) -> str:
    return app.screen.query_one(f"#field-{name}", Input).value


def field_error(app, name: str) -> str:
    return str(app.screen.query_one(f"#row-{name} .field-error").render().plain)


def form_message(app) -> str:
    return str(app.screen.query_one("#form-message").render().plain)


def named(crm: CRM, table: str, text: str) -> list[dict]:
    return crm.records(table, crm.search(table, ListQuery(text=text)))


async def _edit_then_bob_deletes(app, pilot, sample, db, key: str = "logistics") -> None:
    """alice edits an account's industry; bob deletes the account; alice presses ctrl+s."""
    await settle(pilot)
    await open_record(pilot, ACCOUNTS, sample[key])
    await pilot.press("e")
    await settle(pilot)
    await pilot.press("tab", "tab", "tab")
    assert app.focused.id == "field-industry"
    await type_keys(pilot, *"Shipping")
    CRM.open(db, user="bob").delete(ACCOUNTS, sample[key])
    await pilot.press("ctrl+s")
    await settle(pilot)


# ---------------------------------------------------------------------------- deleted meanwhile
async def test_deleted_meanwhile_says_who_and_offers_choices(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await _edit_then_bob_deletes(db_app, pilot, sample_db, db)
        assert isinstance(db_app.screen, DeletedScreen)
        text = screen_text(db_app)
        assert re.search(
            r"bob deleted this account at \d\d:\d\d while you were editing it", text
        ), text
        for choice in ("Save as new (n)", "Write to a file (w)", "Keep editing (e)"):
            assert choice in text


async def test_deleted_meanwhile_save_as_new_keeps_every_field(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await _edit_then_bob_deletes(db_app, pilot, sample_db, db)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(db_app.screen, FormScreen | DeletedScreen)
    crm = reopen(db)
    assert crm.get(ACCOUNTS, sample_db["logistics"]) is None
    [saved] = named(crm, ACCOUNTS, "Northwind Logistics")
    # Every value of the form, not only the one typed: the old record is gone.
    assert saved["industry"] == "Shipping"
    assert saved["address_city"] == "Hull" and saved["relationship"] == "vendor"
    assert saved["parent_account_id"] == sample_db["parent"]
    assert saved["created_by"] == "alice" and saved["version"] == 1


async def test_deleted_meanwhile_save_as_new_reports_references_that_are_gone(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["online"])
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab")
        await type_keys(pilot, *"Web")
        bob = CRM.open(db_path, user="bob")
        bob.delete(ACCOUNTS, sample["online"])
        bob.delete(ACCOUNTS, sample["retail"])  # its parent, now without subsidiaries
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)  # nothing lost: the form is still there
        assert "no account with id" in field_error(app, "parent_account_id")
        assert field_value(app, "industry") == "Web"
        # Clearing the dead reference then saves the new record.
        parent = app.screen.query_one("#field-parent_account_id", Input)
        parent.focus()
        parent.value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
    [saved] = named(reopen(db_path), ACCOUNTS, "Northwind Retail Online")
    assert saved["industry"] == "Web" and "parent_account_id" not in saved


async def test_deleted_meanwhile_activity_saved_as_new_keeps_its_type_and_regarding(
    app, sample, db_path
):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        await edit_record(app.screen, ACTIVITIES, sample["call"])
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await type_keys(pilot, *" (again)")
        CRM.open(db_path, user="bob").delete(ACTIVITIES, sample["call"])
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeletedScreen)
        assert "bob deleted this activity" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
    crm = reopen(db_path)
    calls = [a for a in crm.timeline(sample["parent"]) if a["type"] == "phone_call"]
    assert [a["subject"] for a in calls] == ["Pricing call (again)"]
    assert calls[0]["regarding_id"] == sample["parent"]
    assert calls[0]["phone_number"] == "+44 20 7946 0000"


async def test_deleted_meanwhile_write_to_a_file(app, sample, db_path, data_dir):
    async with app.run_test(size=(80, 24)) as pilot:
        await _edit_then_bob_deletes(app, pilot, sample, db_path)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)  # still editable, still savable as new
        [written] = list(data_dir.rglob("*.txt"))
        assert str(written) in form_message(app).replace("\n", "")
        assert written.stat().st_mode & 0o777 == 0o600
        text = written.read_text()
        assert "Account name: Northwind Logistics" in text
        assert "Industry: Shipping" in text and "City: Hull" in text
        assert "Parent account: Northwind Holdings" in text  # names, not ids
        assert text.startswith("bob deleted this account at ")


async def test_deleted_meanwhile_back_to_editing_keeps_the_typing(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await _edit_then_bob_deletes(db_app, pilot, sample_db, db)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(db_app.screen, FormScreen)
        assert field_value(db_app, "industry") == "Shipping"
        assert "deleted" in form_message(db_app)
    assert named(reopen(db), ACCOUNTS, "Northwind Logistics") == []


async def test_deleted_by_an_unknown_writer_says_another_user(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["logistics"])
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab")
        await type_keys(pilot, *"Shipping")
        journal = next(db_path.parent.glob(db_path.name + ".journal-*"))
        with open(journal, "ab") as out:  # a writer that does not name its user
            out.write(b'{"ops":[["del","accounts","%s"]]}\n' % sample["logistics"].encode())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeletedScreen)
        assert "Another user deleted this account while you were editing it" in screen_text(app)


# ---------------------------------------------------------------------------- changed meanwhile
async def test_conflict_shows_before_yours_and_theirs_with_who_and_when(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample_db["parent"])
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("tab", "tab", "tab")
        await type_keys(pilot, "end", *" Group")
        bob = CRM.open(db, user="bob")
        bob.update(
            ACCOUNTS,
            sample_db["parent"],
            {
                "industry": "Wholesale",
                "description": "A very long description that bob typed, far wider than a column",
            },
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(db_app.screen, ConflictScreen)
        text = screen_text(db_app)
        assert re.search(r"theirs: saved by bob at \d\d:\d\d", text), text
        header = next(line for line in text.splitlines() if "Field" in line)
        assert re.search(r"Field\s+Before\s+Yours\s+Theirs", header), header
        industry = next(line for line in text.splitlines() if "Industry" in line)
        assert re.search(r"Industry\s+Retail\s+Retail Group\s+Wholesale", industry), industry
        description = next(line for line in text.splitlines() if "Description" in line)
        assert "…" in description and "A very long" in description
        assert all(len(line.rstrip()) <= 80 for line in text.splitlines())
        await pilot.press("down", "down")  # the field under the cursor is shown in full
        assert (
            "theirs: A very long description that bob typed, far wider than a column"
            in screen_text(db_app)
        )
        await pilot.press("m")  # keep mine: saved onto their version
        await settle(pilot)
    stored = reopen(db).get(ACCOUNTS, sample_db["parent"])
    assert stored["industry"] == "Retail Group" and stored["description"].startswith("A very")
    assert stored["version"] == 3


# ---------------------------------------------------------------------------- nothing cut
@pytest.mark.parametrize(
    ("table", "key", "name", "limit"),
    [
        (ACCOUNTS, "n", "name", 160),
        (ACCOUNTS, "n", "address_postal_code", 20),
        (CONTACTS, "n", "last_name", 80),
    ],
)
async def test_long_values_are_kept_and_refused_with_the_store_message(
    app, sample, db_path, table, key, name, limit
):
    long = "x" * 300
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        if table == CONTACTS:
            await pilot.press("f3")
            await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        if name != app.focused.id.removeprefix("field-"):
            if table == ACCOUNTS:
                app.screen.query_one("#field-name", Input).value = "Long Ltd"
            app.screen.query_one(f"#field-{name}", Input).focus()
        await type_keys(pilot, *long)
        assert field_value(app, name).endswith(long)  # nothing cut while typing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert field_error(app, name) == f"✗ is too long (300 characters, at most {limit})"
        assert field_value(app, name) == long
