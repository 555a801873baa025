"""The safety net in the TUI: the Trash screen (restore, purge), `u` to undo, the History tab.

Real CRMs over a tmp database; the "other user" is a second real CRM over the same file."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent

from store.model import ACCOUNTS, CONTACTS
from store.service import CRM
from tests.tui.helpers import notifications, open_record, reopen, screen_text, settle
from tui.screens.detail import AccountScreen, ContactScreen
from tui.screens.dialogs import ConfirmScreen, DeleteScreen
from tui.screens.forms import FormScreen
from tui.screens.help import HelpScreen
from tui.screens.record_list import AccountsScreen
from tui.screens.trash import TrashScreen
from tui.widgets.history import RecordHistory


async def _delete_contoso_from_the_list(pilot, sample) -> None:
    app = pilot.app
    await settle(pilot)
    screen = app.screen
    index = screen.ids.index(sample["contoso"])
    await pilot.press(*["down"] * index, "d")
    await settle(pilot)
    assert isinstance(app.screen, DeleteScreen)
    assert "moved to the trash; restore it from the Trash (F7" in screen_text(app)
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert sample["contoso"] not in screen.ids


async def test_deleted_record_is_in_the_trash_and_restores_into_the_list(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await _delete_contoso_from_the_list(pilot, sample)
        accounts = app.screen
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, TrashScreen)
        text = screen_text(app)
        assert "account Contoso" in text  # its contacts stay, without it: none went with it
        assert "alice" in text
        await pilot.press("r")
        await settle(pilot)
        assert "The trash is empty." in screen_text(app)
        assert any(n.startswith("Restored account Contoso") for n in notifications(app))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is accounts
        assert sample["contoso"] in accounts.ids, "the list shows it again"
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"]) is not None


async def test_restore_asks_to_bring_back_the_account_it_needs(app, sample, db_path):
    other = CRM.open(db_path, user="bob")
    other.delete(CONTACTS, sample["joao"])
    other.delete(ACCOUNTS, sample["contoso"], contacts="delete")
    # The contact deleted first needs its account, which is in the trash too.
    other.close()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrashScreen)
        index = [e.record_id for e in screen.entries].index(sample["joao"])
        await pilot.press(*["down"] * index, "r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == (
            "contact João Silva needs account Contoso, in the trash too: restore both?"
        )
        await pilot.press("y")
        await settle(pilot)
        assert screen.entries == []
    after = reopen(db_path)
    assert after.get(CONTACTS, sample["joao"])["account_id"] == sample["contoso"]
    assert after.get(ACCOUNTS, sample["contoso"]) is not None


async def test_purge_asks_and_then_deletes_for_good(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await _delete_contoso_from_the_list(pilot, sample)
        await app.run_action("trash")  # as the palette's "Trash" does
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == ("Delete account Contoso for good? This cannot be undone.")
        await pilot.press("n")
        await settle(pilot)
        assert reopen(db_path).in_trash(sample["contoso"]) is not None, "no: kept"
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "The trash is empty." in screen_text(app)
    after = reopen(db_path)
    assert after.in_trash(sample["contoso"]) is None
    assert after.get(ACCOUNTS, sample["contoso"]) is None


async def test_trash_and_undo_keys_are_in_help(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = dict(app.screen.rows)
        assert rows["f7"] == "Trash: restore or purge"
        assert rows["u"] == "Undo my last change"


async def _rename_contoso(pilot, sample) -> None:
    app = pilot.app
    await settle(pilot)
    await open_record(pilot, ACCOUNTS, sample["contoso"])
    await pilot.press("e")
    await settle(pilot)
    assert isinstance(app.screen, FormScreen)
    await pilot.press("end", *" Ltd", "ctrl+s")
    await settle(pilot)
    assert isinstance(app.screen, AccountScreen)


async def test_u_undoes_an_edit_made_in_the_form(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await _rename_contoso(pilot, sample)
        assert reopen(db_path).get(ACCOUNTS, sample["contoso"])["name"] == "Contoso Ltd"
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.startswith("Undo: edit account Contoso Ltd (today ")
        await pilot.press("y")
        await settle(pilot)
        assert "Account › Contoso" in screen_text(app)
        assert "Undone: edit account Contoso Ltd." in notifications(app)
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"])["name"] == "Contoso"


async def test_undo_refused_when_someone_changed_the_record_since(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await _rename_contoso(pilot, sample)
        other = CRM.open(db_path, user="bob")
        other.update(ACCOUNTS, sample["contoso"], {"phone": "+1 555 0199"})
        other.close()
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        errors = [n for n in app._notifications if n.severity == "error"]
        assert [n.message for n in errors] == [
            'cannot undo "edit account Contoso Ltd": account Contoso Ltd was changed since by '
            "bob; nothing was changed"
        ]
    stored = reopen(db_path).get(ACCOUNTS, sample["contoso"])
    assert stored["name"] == "Contoso Ltd" and stored["phone"] == "+1 555 0199"


async def test_u_on_the_list_with_nothing_of_yours_to_undo(make_app, db_path):
    CRM.open(db_path, user="bob").create(ACCOUNTS, {"name": "Bob's"})
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        await pilot.press("u")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert notifications(app) == ["Nothing of yours to undo."]


async def test_history_tab_shows_the_edit_and_enter_restores_the_old_value(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await _rename_contoso(pilot, sample)
        history = app.screen.query_one(RecordHistory)
        assert history.lines == [], "not read before the tab is shown"
        await pilot.press("5")
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "tab-history"
        text = screen_text(app)
        assert "Account name: Contoso → Contoso Ltd" in text
        when, by, _change, summary = history._row(0)  # the summary is cut on screen
        assert when.startswith("today") and by == "alice"
        assert summary == "edit account Contoso Ltd"
        assert "account created" in text
        await pilot.press("enter")  # the newest line: the rename
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == (
            'Set Account name of the account Contoso Ltd back to "Contoso"? '
            '(It is "Contoso Ltd" now.)'
        )
        await pilot.press("y")
        await settle(pilot)
        assert "Account name: Contoso Ltd → Contoso" in screen_text(app), "the tab reads it again"
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"])["name"] == "Contoso"


async def test_history_restore_refuses_over_a_change_made_meanwhile(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await _rename_contoso(pilot, sample)
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        other = CRM.open(db_path, user="bob")  # saves while the question is open
        other.update(ACCOUNTS, sample["contoso"], {"name": "Contoso Group"})
        other.close()
        await pilot.press("y")
        await settle(pilot)
        assert any(
            n.severity == "error" and "Someone changed the account" in n.message
            for n in app._notifications
        )
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"])["name"] == "Contoso Group"


async def test_contact_has_a_history_tab(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, CONTACTS, sample["ada"])
        assert isinstance(app.screen, ContactScreen)
        await pilot.press("3")
        await settle(pilot)
        assert "contact created" in screen_text(app)
        assert not isinstance(app.screen.focused, Input)


async def test_f8_in_an_activitys_form_shows_its_history(app, sample, db_path):
    from store.model import ACTIVITIES
    from tui.screens.actions import edit_record
    from tui.screens.history import HistoryScreen

    CRM.open(db_path, user="bob").update(ACTIVITIES, sample["call"], {"subject": "Renamed call"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        await edit_record(app.screen, ACTIVITIES, sample["call"])
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await pilot.press("f8")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)
        text = screen_text(app)
        assert "bob" in text and "Subject: Pricing call → Rename" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)  # the typed form is still there
