"""Navigation that lands where the key says, and typed work that is never dropped on the way:
F2/F3/F4 from anywhere, the palette's jumps, numbered tabs, the cursor after a save, quitting."""

from __future__ import annotations

import asyncio

from textual.command import CommandPalette
from textual.widgets import Input, TabbedContent

from store.model import ACCOUNTS, CONTACTS
from store.queries import ListQuery
from tests.tui.helpers import open_record, reopen, screen_text, settle, type_keys
from tui.screens.agenda import AgendaScreen
from tui.screens.detail import AccountScreen
from tui.screens.dialogs import ConfirmScreen
from tui.screens.forms import FormScreen
from tui.screens.record_list import AccountsScreen, ContactsScreen
from tui.widgets.timeline import Timeline
from tui.widgets.virtual_table import VirtualTable


# ---------------------------------------------------------------------------- sections
async def test_f_keys_open_their_list_whatever_was_opened_before(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])  # accounts: list > account
        await pilot.press("p")  # nothing: no parent; then a subsidiary from its tab
        await pilot.press("3", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert len(app.screen_stack) == 3
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        await open_record(pilot, CONTACTS, sample["ada"])
        await pilot.press("f2")  # back to the accounts *list*, not the subsidiary left open
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert len(app.screen_stack) == 1
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)


async def _palette_jump(pilot, typed: str, shown: str) -> None:
    app = pilot.app
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*typed)
    for _ in range(100):  # the palette searches in the background
        await settle(pilot)
        if shown in screen_text(app):
            break
        await asyncio.sleep(0.02)
    await pilot.press("enter")
    await settle(pilot)


async def test_a_record_opened_from_the_palette_joins_its_own_section(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await open_record(pilot, CONTACTS, sample["ada"])
        await _palette_jump(pilot, "Contoso", "Open account: Contoso")
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.record_id == sample["contoso"]
        await pilot.press("escape")  # one step back: the accounts list, not Ada
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        await pilot.press("f3")  # the contacts section was left at its list
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)


# ---------------------------------------------------------------------------- tabs
async def test_every_numbered_tab_key_works_on_every_tab(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        tabs = app.screen.query_one(TabbedContent)
        for key, pane in (
            ("4", "tab-details"),
            ("2", "tab-contacts"),
            ("4", "tab-details"),
            ("3", "tab-subsidiaries"),
            ("1", "tab-timeline"),
            ("4", "tab-details"),
            ("1", "tab-timeline"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert tabs.active == pane, key
            assert not isinstance(app.focused, Input)  # nothing lands in the search box
        assert app.screen.query_one("#timeline-search", Input).value == ""
        await open_record(pilot, CONTACTS, sample["ada"])
        tabs = app.screen.query_one(TabbedContent)
        for key, pane in (("2", "tab-details"), ("1", "tab-timeline"), ("2", "tab-details")):
            await pilot.press(key)
            await settle(pilot)
            assert tabs.active == pane, key
            assert not isinstance(app.focused, Input)


async def test_digits_typed_in_the_timeline_search_stay_there(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        await type_keys(pilot, "slash", "2", "0", "2", "5")
        assert app.screen.query_one("#timeline-search", Input).value == "2025"
        assert app.screen.query_one(TabbedContent).active == "tab-timeline"


# ---------------------------------------------------------------------------- after a save
async def test_after_saving_a_new_account_its_list_has_the_cursor_on_it(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_keys(pilot, *"Zeta Works", "ctrl+s")
        assert isinstance(app.screen, AccountScreen)
        new_id = app.screen.record_id
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert app.screen.current_id() == new_id


async def test_after_logging_an_activity_the_timeline_cursor_is_on_it(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        # A task due far in the past sorts to the end of the timeline, away from the cursor.
        await type_keys(pilot, "l", "t", *"Archive the 1999 files", "tab", *"1999-01-01", "ctrl+s")
        timeline = app.screen.query_one(Timeline)
        current = timeline.current()
        assert current is not None and current["subject"] == "Archive the 1999 files"
        assert timeline.table.cursor == len(timeline.items) - 1


# ---------------------------------------------------------------------------- typed work
async def test_quit_from_a_changed_form_asks_first(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_keys(pilot, *"Half typed")
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Quit and discard your changes?" in screen_text(app)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-name", Input).value == "Half typed"
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    assert app.return_code == 0 and not app.is_running


async def test_quit_from_an_untouched_form_does_not_ask(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert not app.is_running


async def test_f_keys_from_a_changed_form_ask_then_keep_or_leave(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("e")
        await settle(pilot)
        await type_keys(pilot, "end", *" Ltd")
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-name", Input).value == "Contoso Ltd"
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        await pilot.press("f2")  # the accounts section: its list, the form and detail gone
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert len(app.screen_stack) == 1
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"])["name"] == "Contoso"


async def test_f_keys_from_an_untouched_form_leave_at_once(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, AgendaScreen)


# ---------------------------------------------------------------------------- bursts
async def test_a_burst_in_the_search_box_runs_few_searches_and_shows_the_last(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        searches: list[str] = []
        search = app.crm.search

        def counted(table: str, query: ListQuery | None = None) -> list[str]:
            searches.append(query.text if query else "")
            return search(table, query)

        app.crm.search = counted  # type: ignore[method-assign]
        typed = "Northwind Retail Online"
        await type_keys(pilot, "slash", *typed)
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        assert searches[-1] == typed
        assert len(searches) < len(typed)  # folded together, not one scan per key
        assert [screen.crm.get(ACCOUNTS, i)["name"] for i in screen.ids] == [typed]
        assert screen.query_one(VirtualTable).row_count == 1
