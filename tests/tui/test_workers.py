"""Background work: an unexpected error in a worker is shown and logged, never lost, never fatal.

The failures are real: a hostile value in a live record (as another writer's bad data would
be) makes the store's own sorting or matching raise inside the worker."""

from __future__ import annotations

from store.model import ACCOUNTS, ACTIVITIES
from tests.tui.helpers import notifications, open_record, screen_text, settle, type_keys
from tui.screens.agenda import AgendaScreen
from tui.screens.forms import ActivityTypeScreen
from tui.screens.help import HelpScreen
from tui.screens.record_list import AccountsScreen


async def test_an_error_in_the_agenda_worker_is_shown_and_the_app_goes_on(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.crm.get(ACTIVITIES, sample["overdue"])["due_at"] = 12345  # not a date string
        await type_keys(pilot, "f4")
        assert isinstance(app.screen, AgendaScreen)
        shown = notifications(app)
        assert any(
            n.startswith("Something went wrong while gathering your activities: TypeError")
            for n in shown
        ), shown
        assert app.is_running
        await type_keys(pilot, "f2")  # still answers keys
        assert isinstance(app.screen, AccountsScreen)


async def test_an_error_in_the_timeline_search_is_shown_and_the_app_goes_on(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        app.crm.get(ACTIVITIES, sample["note"])["description"] = 12345  # not text
        await type_keys(pilot, "/", *"board")
        shown = notifications(app)
        assert any(
            n.startswith("Something went wrong while searching the timeline") for n in shown
        ), shown
        assert app.is_running
        app.crm.get(ACTIVITIES, sample["note"])["description"] = "Met the board."
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
