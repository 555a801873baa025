"""End-to-end flows through the real app: what the screens show and what the database then holds.

The main flows ask for `db_app`/`sample_db`: they run on a file and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from textual.widgets import Input

from store.dates import parse_when, to_storage
from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.queries import ListQuery
from store.service import CRM
from tests.tui.helpers import (
    notifications,
    open_record,
    reopen,
    screen_text,
    send_keys,
    settle,
    title_text,
    type_keys,
)
from tui.screens.detail import AccountScreen, ContactScreen
from tui.screens.dialogs import ConfirmScreen, ConflictScreen
from tui.screens.forms import ActivityTypeScreen, FormScreen
from tui.screens.record_list import AccountsScreen, ContactsScreen
from tui.widgets.timeline import Timeline


def field_value(app, name: str) -> str:
    return app.screen.query_one(f"#field-{name}", Input).value


def field_error(app, name: str) -> str:
    return str(app.screen.query_one(f"#row-{name} .field-error").render().plain)


def find_by_name(crm: CRM, table: str, text: str) -> list[dict]:
    return crm.records(table, crm.search(table, ListQuery(text=text)))


# ---------------------------------------------------------------------------- creating
async def test_new_account_from_list_is_stored_and_opened(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(db_app.screen, AccountsScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(db_app.screen, FormScreen)
        assert db_app.focused is not None and db_app.focused.id == "field-name"
        await pilot.press(*"Fabrikam", "tab", *"F-100")
        assert db_app.focused.id == "field-account_number"
        # account_number -> relationship (select) -> industry -> phone -> email
        await type_keys(
            pilot,
            "tab",
            "tab",
            *"Robotics",
            "tab",
            *"+1 555 0199",
            "tab",
            *"Sales@Fabrikam.example",
        )
        assert db_app.focused.id == "field-email"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(db_app.screen, AccountScreen)
        assert "Account › Fabrikam" in title_text(db_app)
        assert "Robotics" in screen_text(db_app)
        assert "Saved the new account." in notifications(db_app)
        new_id = db_app.screen.record_id

    stored = reopen(db).get(ACCOUNTS, new_id)
    assert stored is not None
    assert stored["name"] == "Fabrikam"
    assert stored["account_number"] == "F-100"
    assert stored["industry"] == "Robotics"
    assert stored["phone"] == "+1 555 0199"
    assert stored["email"] == "sales@fabrikam.example"  # emails are stored lower-case
    assert stored["owner"] == "alice" and stored["created_by"] == "alice"
    assert stored["status"] == "active" and stored["version"] == 1


async def test_new_contact_picks_the_new_account_in_the_autocomplete(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Fabrikam", "ctrl+s")
        await settle(pilot)
        assert isinstance(db_app.screen, AccountScreen)
        account_id = db_app.screen.record_id

        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(db_app.screen, ContactsScreen)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Fiona", "tab", *"Fox", "tab", *"Buyer", "tab")
        assert db_app.focused.id == "field-account_id"
        await pilot.press(*"fabr")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert field_value(db_app, "account_id") == "Fabrikam"
        assert db_app.screen.query_one("#row-account_id").picked_id == account_id
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(db_app.screen, ContactScreen)
        assert title_text(db_app) == "Contact › Fiona Fox · Fabrikam"
        contact_id = db_app.screen.record_id

    stored = reopen(db)
    contact = stored.get(CONTACTS, contact_id)
    assert contact["first_name"] == "Fiona" and contact["last_name"] == "Fox"
    assert contact["job_title"] == "Buyer"
    assert contact["account_id"] == account_id
    assert [c["id"] for c in stored.contacts_of(account_id)] == [contact_id]


# ---------------------------------------------------------------------------- logging activities
TOMORROW_9 = "tomorrow 9am"
ACTIVITY_INPUT = {
    # type key, keys typed into the form (starting in the subject), expected stored fields
    "note": (
        "n",
        [*"Lunch notes", "tab", *"Talked about the roadmap."],
        {
            "subject": "Lunch notes",
            "description": "Talked about the roadmap.",
            "status": "completed",
        },
    ),
    "email": (
        "e",
        [*"Follow-up mail"],
        {"subject": "Follow-up mail", "direction": "outgoing", "status": "completed"},
    ),
    "phone_call": (
        "c",
        [*"Quick call"],
        {"subject": "Quick call", "direction": "outgoing", "status": "completed"},
    ),
    "appointment": (
        "a",
        [*"Site visit", "tab", *"2030-06-01 14:00", "tab", *"2030-06-01 15:30"],
        {
            "subject": "Site visit",
            "start_at": "2030-06-01T14:00:00Z",
            "end_at": "2030-06-01T15:30:00Z",
            "status": "open",
        },
    ),
    "task": (
        "t",
        [*"Send the offer", "tab", *TOMORROW_9],
        {"subject": "Send the offer", "status": "open", "priority": "normal"},
    ),
}


@pytest.mark.parametrize("regarding", ["parent", "ada"])
@pytest.mark.parametrize("kind", list(ACTIVITY_INPUT))
async def test_log_each_activity_type(db_app, sample_db, db, kind, regarding):
    table = ACCOUNTS if regarding == "parent" else CONTACTS
    record_id = sample_db[regarding]
    key, keys, expected = ACTIVITY_INPUT[kind]
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, table, record_id)
        before = {a["id"] for a in db_app.screen.query_one(Timeline).items}
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(db_app.screen, ActivityTypeScreen)
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(db_app.screen, FormScreen)
        assert db_app.focused.id == "field-subject"
        record = db_app.crm.get(table, record_id)
        if kind == "phone_call":  # prefilled from the record
            assert field_value(db_app, "phone_number") == record["phone"]
        if kind == "email":
            assert field_value(db_app, "email_to") == record["email"]
        await type_keys(pilot, *keys)
        await pilot.press("ctrl+s")
        await settle(pilot)
        if kind == "task":
            expected = {**expected, "due_at": to_storage(parse_when(TOMORROW_9))}

        assert isinstance(db_app.screen, AccountScreen if table == ACCOUNTS else ContactScreen)
        items = db_app.screen.query_one(Timeline).items
        added = [a for a in items if a["id"] not in before]
        assert len(added) == 1, "the new activity is on the timeline"
        assert expected["subject"] in screen_text(db_app)
        activity_id = added[0]["id"]

    stored = reopen(db).get(ACTIVITIES, activity_id)
    assert stored["type"] == kind
    assert stored["regarding_id"] == record_id
    assert stored["regarding_type"] == ("account" if table == ACCOUNTS else "contact")
    for name, value in expected.items():
        assert stored.get(name) == value, name
    if kind == "phone_call":
        assert stored["phone_number"] == db_app.crm.get(table, record_id)["phone"]
    if kind in ("note", "email", "phone_call"):
        assert stored.get("completed_at")


async def test_log_from_the_list_uses_the_highlighted_record(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = db_app.screen
        index = screen.ids.index(sample_db["contoso"])
        await pilot.press(*["down"] * index)
        assert screen.current_id() == sample_db["contoso"]
        await pilot.press("l")
        await settle(pilot)
        assert "Log an activity for Contoso" in screen_text(db_app)
        await pilot.press("c")
        await settle(pilot)
        assert field_value(db_app, "phone_number") == "+1 555 0100"
        await pilot.press(*"Intro call", "ctrl+s")
        await settle(pilot)
        assert db_app.screen is screen
    timeline = reopen(db).timeline(sample_db["contoso"])
    assert [a["subject"] for a in timeline] == ["Intro call"]


# ---------------------------------------------------------------------------- status keys
async def test_complete_reopen_and_cancel_a_task_on_the_timeline(db_app, sample_db, db):
    task_id = sample_db["overdue"]
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample_db["parent"])
        timeline = db_app.screen.query_one(Timeline)
        index = [a["id"] for a in timeline.items].index(task_id)
        await pilot.press(*["down"] * index)
        assert timeline.current()["id"] == task_id
        assert timeline._row(index)[0] == "!"  # overdue mark

        await pilot.press("x")
        await settle(pilot)
        assert timeline.current()["id"] == task_id, "the cursor stays on the task"
        assert timeline._row(timeline.table.cursor)[5] == "completed"
        assert timeline._row(timeline.table.cursor)[0] == ""
        assert "Task completed." in notifications(db_app)
        done = reopen(db).get(ACTIVITIES, task_id)
        assert done["status"] == "completed"
        stamp = datetime.strptime(done["completed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert abs((datetime.now(UTC) - stamp).total_seconds()) < 600

        await pilot.press("o")
        await settle(pilot)
        assert timeline._row(timeline.table.cursor)[5] == "open"
        reopened = reopen(db).get(ACTIVITIES, task_id)
        assert reopened["status"] == "open" and "completed_at" not in reopened

        await pilot.press("C")
        await settle(pilot)
        assert timeline._row(timeline.table.cursor)[5] == "canceled"
    canceled = reopen(db).get(ACTIVITIES, task_id)
    assert canceled["status"] == "canceled" and "completed_at" not in canceled
    assert canceled["version"] == 4


async def test_enter_on_the_timeline_edits_the_activity(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample_db["parent"])
        timeline = db_app.screen.query_one(Timeline)
        index = [a["id"] for a in timeline.items].index(sample_db["meeting"])
        await pilot.press(*["down"] * index, "enter")
        await settle(pilot)
        assert isinstance(db_app.screen, FormScreen)
        assert field_value(db_app, "subject") == "Quarterly review"
        assert field_value(db_app, "start_at") == "2030-05-10 09:00"
        await pilot.press("end", *" (moved)", "ctrl+s")
        await settle(pilot)
        assert isinstance(db_app.screen, AccountScreen)
    stored = reopen(db).get(ACTIVITIES, sample_db["meeting"])
    assert stored["subject"] == "Quarterly review (moved)"
    assert stored["start_at"] == "2030-05-10T09:00:00Z"
    assert stored["version"] == 2


# ---------------------------------------------------------------------------- validation
async def test_invalid_email_shows_an_inline_error_and_keeps_the_typing(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await type_keys(pilot, *"Bad Mail Inc", "tab", "tab", "tab", "tab", "tab", *"not-an-email")
        assert db_app.focused.id == "field-email"
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(db_app.screen, FormScreen), "the form stays open"
        error = field_error(db_app, "email")
        assert error and "not an email address" in error
        assert db_app.screen.query_one("#row-email").has_class("-invalid")
        assert field_error(db_app, "name") == ""
        assert field_value(db_app, "name") == "Bad Mail Inc"
        assert field_value(db_app, "email") == "not-an-email"
        assert db_app.focused.id == "field-email"
        assert "not an email address" in screen_text(db_app)
    assert find_by_name(reopen(db), ACCOUNTS, "Bad Mail") == []


async def test_missing_name_and_unreadable_date_are_errors_not_crashes(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("tab", *"A-1", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "is required" in field_error(app, "name")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)

        await open_record(pilot, ACCOUNTS, sample["parent"])
        await pilot.press("l", "t")
        await settle(pilot)
        await type_keys(pilot, *"Chase", "tab", *"someday soon", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert field_error(app, "due_at")
        assert field_value(app, "due_at") == "someday soon"
    assert find_by_name(reopen(db_path), ACCOUNTS, "A-1") == []


# ---------------------------------------------------------------------------- discarding
async def test_escape_on_a_dirty_form_asks_before_discarding(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Half typed")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Discard your changes?" in screen_text(app)

        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert field_value(app, "name") == "Half typed"

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
    assert find_by_name(reopen(db_path), ACCOUNTS, "Half typed") == []


async def test_escape_on_an_untouched_form_closes_it_at_once(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert field_value(app, "name") == "Northwind Holdings"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)


# ---------------------------------------------------------------------------- conflicts
async def _edit_industry_while_bob_saves(app, pilot, sample, db) -> None:
    await settle(pilot)
    await open_record(pilot, ACCOUNTS, sample["parent"])
    await pilot.press("e")
    await settle(pilot)
    await pilot.press("tab", "tab", "tab")
    assert app.focused.id == "field-industry"
    await pilot.press("end", *" Group")
    bob = CRM.open(db, user="bob")
    bob.update(ACCOUNTS, sample["parent"], {"industry": "Wholesale"})
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(app.screen, ConflictScreen)
    text = screen_text(app)
    assert "Changed while you were editing · theirs: saved by bob at " in text
    assert "Retail Group" in text and "Wholesale" in text


async def test_conflict_keep_mine(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await _edit_industry_while_bob_saves(db_app, pilot, sample_db, db)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(db_app.screen, AccountScreen)
        assert "Retail Group" in screen_text(db_app)
    stored = reopen(db).get(ACCOUNTS, sample_db["parent"])
    assert stored["industry"] == "Retail Group"
    assert stored["version"] == 3  # bob's save, then mine
    assert stored["modified_by"] == "alice"


async def test_conflict_take_theirs(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await _edit_industry_while_bob_saves(db_app, pilot, sample_db, db)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(db_app.screen, AccountScreen)
        assert "Wholesale" in screen_text(db_app)
        assert "Kept their version; your changes were discarded." in notifications(db_app)
    stored = reopen(db).get(ACCOUNTS, sample_db["parent"])
    assert stored["industry"] == "Wholesale"
    assert stored["version"] == 2 and stored["modified_by"] == "bob"


async def test_conflict_take_theirs_does_not_claim_a_save(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await _edit_industry_while_bob_saves(app, pilot, sample, db_path)
        await pilot.press("t")
        await settle(pilot)
        assert "Saved Northwind Holdings." not in notifications(app)


async def test_conflict_back_to_editing_then_save(db_app, sample_db, db):
    async with db_app.run_test(size=(80, 24)) as pilot:
        await _edit_industry_while_bob_saves(db_app, pilot, sample_db, db)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(db_app.screen, FormScreen)
        assert field_value(db_app, "industry") == "Retail Group"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(db_app.screen, AccountScreen)
    stored = reopen(db).get(ACCOUNTS, sample_db["parent"])
    assert stored["industry"] == "Retail Group" and stored["version"] == 3


# ---------------------------------------------------------------------------- fast typing
async def test_fast_typing_with_tab_lands_in_two_fields(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Alice", "tab", *"Oslo")
        assert field_value(app, "first_name") == "Alice"
        assert field_value(app, "last_name") == "Oslo"


async def test_type_ahead_after_n_lands_in_the_new_form(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        # The `n` that opens the form is in the same burst: keys typed before the form has
        # even mounted must not be lost or land in the list.
        send_keys(app, "n", *"Alice", "tab", *"Oslo")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert field_value(app, "first_name") == "Alice"
        assert field_value(app, "last_name") == "Oslo"
        send_keys(app, "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
    assert [c["last_name"] for c in find_by_name(reopen(db_path), CONTACTS, "Alice Oslo")] == [
        "Oslo"
    ]


async def test_a_burst_of_key_events_in_an_open_form(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        send_keys(app, *"Alice", "tab", *"Oslo", "tab", *"Pilot")
        await settle(pilot)
        assert field_value(app, "first_name") == "Alice"
        assert field_value(app, "last_name") == "Oslo"
        assert field_value(app, "job_title") == "Pilot"


async def test_a_burst_that_ends_in_ctrl_s_saves_every_key(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        send_keys(app, *"Alice", "tab", *"Oslo", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert title_text(app) == "Contact › Alice Oslo · no account (B2C)"
        contact_id = app.screen.record_id
    stored = reopen(db_path).get(CONTACTS, contact_id)
    assert (stored["first_name"], stored["last_name"]) == ("Alice", "Oslo")


# ---------------------------------------------------------------------------- focus cue
def _highlighted_labels(app) -> list[str]:
    return [
        row.id
        for row in app.screen.query(".field-row")
        if "reverse" in str(row.query_one(".field-label").styles.text_style)
    ]


async def test_only_the_focused_fields_label_is_highlighted(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert _highlighted_labels(app) == ["row-name"]
        await pilot.press("tab")
        await settle(pilot)
        assert app.focused.id == "field-account_number"
        assert _highlighted_labels(app) == ["row-account_number"]


async def test_type_ahead_through_the_activity_type_step(app, sample, db_path):
    # `l`, the type letter, the subject, tab and the due date arrive as one burst (a fast
    # typist over a laggy link): each lands in its step, and ctrl+s saves.
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        send_keys(app, "l", "t", *"Call back", "tab", *"2030-02-01 10:00")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert field_value(app, "subject") == "Call back"
        assert field_value(app, "due_at") == "2030-02-01 10:00"
        send_keys(app, "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)  # the type step closed with the form
    stored = [
        a for a in reopen(db_path).timeline(sample["contoso"]) if a.get("subject") == "Call back"
    ]
    assert [(a["type"], a["due_at"]) for a in stored] == [
        ("task", to_storage(parse_when("2030-02-01 10:00")))
    ]
