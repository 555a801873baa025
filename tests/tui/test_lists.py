"""The lists: accent-insensitive search, hostile names, other users' changes, help, palette."""

from __future__ import annotations

import asyncio

from textual.command import CommandPalette
from textual.widgets import Input

from store.model import ACCOUNTS, CONTACTS
from store.service import CRM
from tests.tui.helpers import (
    ESCAPE_NAME,
    RED_EVE,
    SLASH_FOO,
    notifications,
    open_record,
    reopen,
    screen_text,
    settle,
    title_text,
    type_keys,
)
from tui.screens.detail import AccountScreen, ContactScreen
from tui.screens.forms import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.record_list import AccountsScreen, ContactsScreen


def status_text(app) -> str:
    return str(app.screen.query_one("#list-status").render().plain)


def shown_names(app) -> list[str]:
    screen = app.screen
    return [screen._row(i)[0] for i in range(screen.table.row_count)]


# ---------------------------------------------------------------------------- search
async def test_search_ignores_accents_and_updates_the_count(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert status_text(app).startswith("5 of 5 contacts")

        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#search", Input)
        await pilot.press(*"joao")
        await settle(pilot)
        assert app.screen.ids == [sample["joao"]]
        assert shown_names(app) == ["João Silva"]
        assert status_text(app).startswith("1 of 5 contacts")
        assert "João Silva" in screen_text(app)

        await pilot.press("escape")  # clears the box and goes back to the table
        await settle(pilot)
        assert app.screen.query_one("#search", Input).value == ""
        assert status_text(app).startswith("5 of 5 contacts")

        await pilot.press("slash", *"sao paulo")
        await settle(pilot)
        assert app.screen.ids == [sample["maria"]]
        assert status_text(app).startswith("1 of 5 contacts")

        await pilot.press("down", "enter")  # back to the table, open the match
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert app.screen.record_id == sample["maria"]


async def test_search_with_upper_case_and_accents_in_the_query(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"NÖRTHWIND RETAIL")
        await settle(pilot)
        assert set(app.screen.ids) == {sample["retail"], sample["online"]}
        assert status_text(app).startswith("2 of 7 accounts")


async def test_no_match_shows_how_to_clear(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zzzz")
        await settle(pilot)
        assert app.screen.ids == []
        assert "No accounts match" in screen_text(app)
        await pilot.press("e", "l", "d")  # typed into the box, not actions on a record
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert app.screen.query_one("#search", Input).value == "zzzzeld"


# ---------------------------------------------------------------------------- hostile names
async def test_hostile_names_render_literally(app, sample, db_path):
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert RED_EVE in shown_names(app)
        text = screen_text(app)
        assert RED_EVE in text
        assert "Esc␛[31mape Ltd" in text and "\x1b" not in text

        # The detail title and the timeline (a note whose subject is markup).
        await open_record(pilot, ACCOUNTS, sample["eve"])
        assert RED_EVE in title_text(app)
        assert title_text(app).startswith("Account › [red]Eve[/]")
        assert "[bold]not bold[/]" in screen_text(app)
        await pilot.press("2")  # the contacts tab
        await settle(pilot)
        assert f"Grace {SLASH_FOO}" in screen_text(app)
        await pilot.press("1")
        await settle(pilot)

        # A notification that quotes the name: saving an edit says "Saved <name>."
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-name", Input).value == RED_EVE
        app.screen.query_one("#field-industry", Input).value = "Security"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"Saved {RED_EVE}." in notifications(app)
        assert f"Saved {RED_EVE}." in screen_text(app)  # the toast shows it literally

        # The contact whose name is a closing tag, and its hostile account.
        await open_record(pilot, CONTACTS, sample["foo"])
        assert title_text(app) == f"Contact › Grace {SLASH_FOO} · {RED_EVE}"
        assert f"Grace {SLASH_FOO}" in screen_text(app)

        # The escape sequence shows as a visible symbol, never reaches the terminal.
        await open_record(pilot, ACCOUNTS, sample["escape"])
        assert "Esc␛[31mape Ltd" in title_text(app)
        assert "\x1b" not in screen_text(app)
    assert reopen(db_path).get(ACCOUNTS, sample["eve"])["name"] == RED_EVE


async def test_hostile_names_in_the_contacts_list_and_pickers(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        text = screen_text(app)
        assert f"Grace {SLASH_FOO}" in text and RED_EVE in text

        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Mallory", "tab", "tab", "tab", *"[red")
        await settle(pilot)
        assert "[red]Eve[/]" in screen_text(app)  # the dropdown shows the name as typed
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen.query_one("#field-account_id", Input).value == RED_EVE
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert title_text(app) == f"Contact › Mallory · {RED_EVE}"
        contact_id = app.screen.record_id
    assert reopen(db_path).get(CONTACTS, contact_id)["account_id"] == sample["eve"]


async def test_escape_sequence_typed_into_a_name_is_stored_but_shown_as_a_symbol(
    app, sample, db_path
):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["escape"])
        await pilot.press("e")
        await settle(pilot)
        # The form holds the name as stored and draws the control character as a symbol...
        assert app.screen.query_one("#field-name", Input).value == ESCAPE_NAME
        assert "Esc␛[31mape Ltd" in screen_text(app)
        await pilot.press("tab", *"E-1", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
    # ...and an edit of another field leaves the stored name alone.
    stored = reopen(db_path).get(ACCOUNTS, sample["escape"])
    assert stored["account_number"] == "E-1"
    assert stored["name"] == ESCAPE_NAME


# ---------------------------------------------------------------------------- other users
async def test_another_users_new_contact_appears_without_moving_cursor_or_search(
    make_app, sample, db_path
):
    app = make_app(poll_seconds=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        await pilot.press("down")
        assert screen.current_id() == sample["b2c"]
        await pilot.press("slash", *"o")
        await settle(pilot)
        search = screen.query_one("#search", Input)
        assert screen.current_id() == sample["b2c"]
        before = len(screen.ids)

        bob = CRM.open(db_path, user="bob")
        new_id = bob.create(
            CONTACTS, {"first_name": "Aaron", "last_name": "Aardvark", "address_city": "Oslo"}
        ).record["id"]
        for _ in range(100):  # the poll timer picks it up (0.2 s); wait in small steps
            await asyncio.sleep(0.05)
            await settle(pilot)
            if new_id in screen.ids:
                break
        assert new_id in screen.ids
        assert screen.ids[0] == new_id, "sorted first by name"
        assert len(screen.ids) == before + 1
        assert screen.current_id() == sample["b2c"], "the cursor stays on the same record"
        assert search.value == "o" and app.focused is search, "typing is not disturbed"
        assert status_text(app).startswith(f"{before + 1} of 6 contacts")
        assert "Aaron Aardvark" in screen_text(app)


async def test_another_users_edit_refreshes_the_open_detail_screen(make_app, sample, db_path):
    app = make_app(poll_seconds=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        bob = CRM.open(db_path, user="bob")
        bob.update(ACCOUNTS, sample["contoso"], {"name": "Contoso Europe"})
        bob.log_activity("note", sample["contoso"], {"subject": "Bob was here"})
        app.poll_changes()
        await settle(pilot)
        assert "Contoso Europe" in title_text(app)
        assert "Bob was here" in screen_text(app)


# ---------------------------------------------------------------------------- help, palette
async def test_help_lists_the_keys_of_the_screen_below(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = dict((does, key) for key, does in app.screen.rows)
        assert rows["Log"] == "l" and rows["New"] == "n" and rows["Search"] == "/"
        text = screen_text(app)
        assert "Keys · Accounts" in text and "Log" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)

        await open_record(pilot, ACCOUNTS, sample["parent"])
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        descriptions = {does for _key, does in app.screen.rows}
        assert {"Hierarchy", "Log", "Back", "Edit", "Done", "Reopen"} <= descriptions
        assert "Keys · Account" in screen_text(app)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)


async def test_palette_opens_a_contact_by_name(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Maria Sou")
        for _ in range(50):  # the palette searches in the background
            await settle(pilot)
            if "Open contact: Maria Souza" in screen_text(app):
                break
            await asyncio.sleep(0.02)
        assert "Open contact: Maria Souza" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert app.screen.record_id == sample["maria"]
        assert title_text(app) == "Contact › Maria Souza · Contoso"


# ---------------------------------------------------------------------------- empty database
async def test_empty_database_explains_what_to_do(make_app, db_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        table = app.screen.table
        assert table.row_count == 0
        assert "Press n" in table.empty_text and "crm --demo" in table.empty_text
        assert "No accounts yet. Press n to add the first one" in screen_text(app)
        assert status_text(app).startswith("0 of 0 accounts")
        for key in ("e", "l", "d", "enter", "h"):  # nothing highlighted: nothing happens
            await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)


async def test_empty_state_shows_the_demo_hint_at_80_columns(make_app, db_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "crm --demo" in screen_text(app)


async def test_hostile_names_in_dialogs_and_the_palette(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["eve"])
        await pilot.press("l")
        await settle(pilot)
        assert f"Log an activity for {RED_EVE}" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        assert f"New note · {RED_EVE}" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert f"Delete account {RED_EVE}?" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("ctrl+p")
        await pilot.press(*"[red")
        for _ in range(50):
            await settle(pilot)
            if "Open account: [red]Eve[/]" in screen_text(app):
                break
            await asyncio.sleep(0.02)
        text = screen_text(app)
        assert "Open account: [red]Eve[/]" in text
        assert "Open contact: Grace [/foo]" in text


# ---------------------------------------------------------------------------- sorting, filters
async def test_sort_reverse_and_filters_on_the_accounts_list(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        names = shown_names(app)
        assert names == sorted(names, key=str.casefold)

        await pilot.press("r")
        await settle(pilot)
        assert shown_names(app) == names[::-1]
        assert "sort: name ↓" in status_text(app)
        await pilot.press("r", "s")  # ascending again, then by relationship
        await settle(pilot)
        assert "sort: type ↑" in status_text(app)  # the column's word, not the field's
        kinds = [screen._row(i)[1] for i in range(screen.table.row_count)]
        assert kinds == sorted(kinds)

        await pilot.press("f")  # type filter: customer
        await settle(pilot)
        assert set(screen.ids) == {sample["parent"], sample["retail"]}
        assert "type: customer" in status_text(app)
        assert status_text(app).startswith("2 of 7 accounts")

        await pilot.press("a")  # status: inactive
        await settle(pilot)
        assert screen.ids == []
        assert " · inactive · " in status_text(app)
        await pilot.press("a")  # status: all
        await settle(pilot)
        assert set(screen.ids) == {sample["parent"], sample["retail"]}
        assert " · any status · " in status_text(app)


async def test_inactive_records_leave_the_default_list(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        index = screen.ids.index(sample["contoso"])
        await pilot.press(*["down"] * index, "e")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#row-status").set_value("inactive")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert sample["contoso"] not in screen.ids
        assert status_text(app).startswith("6 of 7 accounts")
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"])["status"] == "inactive"


async def test_changes_caught_up_by_a_failed_save_still_reach_the_list(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bob = CRM.open(db_path, user="bob")
        new_id = bob.create(ACCOUNTS, {"name": "Aardvark Inc"}).record["id"]
        await pilot.press("e")  # edit the highlighted account; the save fails validation
        await settle(pilot)
        await type_keys(pilot, "tab", "tab", "tab", "tab", "tab", *"bad-email", "ctrl+s")
        await settle(pilot)
        assert "not an email address" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        app.poll_changes()  # what the poll timer does
        await settle(pilot)
        assert app.crm.get(ACCOUNTS, new_id) is not None  # the store has it...
        assert new_id in app.screen.ids  # ...the list should show it


async def test_detail_of_a_record_deleted_while_editing_closes(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("end", *"X")
        CRM.open(db_path, user="bob").delete(ACCOUNTS, sample["contoso"], contacts="detach")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("e")  # the deleted-meanwhile dialog: back to editing
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "bob deleted this account" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        app.poll_changes()
        await settle(pilot)
        assert not isinstance(app.screen, AccountScreen), (
            f"still showing {title_text(app)!r} for a deleted account"
        )


async def test_end_shows_the_last_row_of_a_long_list(make_app, db_path):
    # A list longer than the screen: the cursor on the last row is on screen, not under a
    # scrollbar line (the table once reserved a line for a horizontal scrollbar it never needs).
    crm = CRM.open(db_path, user="ana")
    for n in range(40):
        crm.create(ACCOUNTS, {"name": f"Account {n:02d}"})
    crm.close()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert "▶ Account 39" in screen_text(app)
        await pilot.press("home")
        await settle(pilot)
        assert "▶ Account 00" in screen_text(app)
