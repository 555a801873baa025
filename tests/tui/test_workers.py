"""Background work: an unexpected error in a worker is shown and logged, never lost, never fatal.

The failures are real: a record damaged in the index beside the database (a disk error, an
edit by hand) makes the store's own reading raise inside the worker."""

from __future__ import annotations

from collections.abc import Callable

from store.model import ACCOUNTS
from tests.tui.helpers import notifications, open_record, screen_text, settle, type_keys
from tui.screens.agenda import AgendaScreen
from tui.screens.forms import ActivityTypeScreen
from tui.screens.help import HelpScreen
from tui.screens.record_list import AccountsScreen


def damage_in_index(app, record_id: str) -> Callable[[], None]:
    """Make the index hold a record that does not parse; returns what puts it back."""
    index = app.crm._engine.index
    (doc,) = index.conn.execute("SELECT doc FROM activities WHERE id = ?", (record_id,)).fetchone()
    index.conn.execute("UPDATE activities SET doc = '{damaged' WHERE id = ?", (record_id,))

    def repair() -> None:
        index.conn.execute("UPDATE activities SET doc = ? WHERE id = ?", (doc, record_id))

    return repair


async def test_an_error_in_the_agenda_worker_is_shown_and_the_app_goes_on(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        damage_in_index(app, sample["overdue"])
        await type_keys(pilot, "f4")
        assert isinstance(app.screen, AgendaScreen)
        shown = notifications(app)
        assert any(
            n.startswith("Something went wrong while gathering your activities: JSONDecodeError")
            for n in shown
        ), shown
        assert app.is_running
        await type_keys(pilot, "f2")  # still answers keys
        assert isinstance(app.screen, AccountsScreen)


async def test_an_error_in_the_timeline_search_is_shown_and_the_app_goes_on(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        repair = damage_in_index(app, sample["note"])
        await type_keys(pilot, "/", *"board")
        shown = notifications(app)
        assert any(
            n.startswith("Something went wrong while searching the timeline") for n in shown
        ), shown
        assert app.is_running
        repair()
        await type_keys(pilot, "backspace")  # the next search runs and shows its result
        assert "Kick-off notes" in screen_text(app)


async def test_help_lists_the_keys_of_a_dialog_that_have_no_id(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_keys(pilot, "l")
        assert isinstance(app.screen, ActivityTypeScreen)
        await app.push_screen(HelpScreen(app.screen))  # the help of the dialog itself
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = dict((does, key) for key, does in app.screen.rows)
        assert rows["Note"] == "n" and rows["Phone call"] == "c" and rows["Task"] == "t"
