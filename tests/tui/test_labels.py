"""Dates and labels read the way people mean them: one vocabulary, relative ends, headers that
omit empty parts and fit, status lines that fit 80 columns, borders that are not the error red."""

from __future__ import annotations

from datetime import datetime

from rich.color import ColorSystem
from textual.color import Color
from textual.widgets import Input

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM
from tests.tui.helpers import (
    USER,
    open_record,
    reopen,
    screen_text,
    settle,
    title_text,
    type_keys,
)
from tui.format import list_status, timeline_status
from tui.screens.dialogs import ConfirmScreen
from tui.screens.forms import FormScreen
from tui.widgets.timeline import Timeline

WIDTH = 80
STATUS_ROOM = WIDTH - 2  # the status line's padding


def field_value(app, name: str) -> str:
    return app.screen.query_one(f"#field-{name}", Input).value


def field_hint(app, name: str) -> str:
    return str(app.screen.query_one(f"#row-{name} .field-hint").render().plain)


def add(db_path, table: str, **fields) -> str:
    crm = CRM.open(db_path, user=USER)
    record_id = crm.create(table, fields).record["id"]
    crm.close()
    return record_id


def timeline_row(app, activity_id: str) -> list[str]:
    timeline = app.screen.query_one(Timeline)
    index = [a["id"] for a in timeline.items].index(activity_id)
    return timeline._row(index)


# ---------------------------------------------------------------------------- one vocabulary
async def test_the_timeline_says_the_models_words(app, sample):
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        assert timeline_row(app, sample["meeting"])[2] == "Appointment"
        assert timeline_row(app, sample["call"])[2] == "Phone call"
        assert timeline_row(app, sample["call"])[5] == "completed"
        shown = screen_text(app)
        assert "Appointment" in shown and "Phone call" in shown and "completed" in shown
        assert "Meeting" not in shown and " done " not in shown
        timeline = app.screen.query_one(Timeline)
        await pilot.press("f", "f", "f")  # all -> note -> email -> phone call
        await settle(pilot)
        status = str(app.screen.query_one("#timeline-status").render().plain)
        assert status.startswith("1 phone call"), status
        await pilot.press("v", "v")  # any status -> open -> completed
        await settle(pilot)
        status = str(app.screen.query_one("#timeline-status").render().plain)
        assert status.startswith("1 completed phone call"), status
        assert len(timeline.items) == 1


async def test_the_agenda_shows_whole_type_words(app, sample):
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert "Appointment" in screen_text(app)


# ---------------------------------------------------------------------------- priority, location
async def test_the_timeline_shows_priority_and_location(app, sample):
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        shown = screen_text(app)
        task_line = next(line for line in shown.splitlines() if "Send contract" in line)
        assert "high" in task_line, task_line  # a word, not a colour
        await pilot.press("r")  # own activities only: no Regarding column, room for more
        await settle(pilot)
        shown = screen_text(app)
        assert "Regarding" not in shown
        meeting_line = next(line for line in shown.splitlines() if "Quarterly review" in line)
        assert "Quarterly review · London office" in meeting_line, meeting_line
        assert "high" not in meeting_line  # normal priority says nothing


# ---------------------------------------------------------------------------- headers
async def test_the_account_header_omits_empty_parts(sample, make_app, db_path):
    lonely = add(db_path, ACCOUNTS, name="Lonely Ltd", address_country="Norway")
    app = make_app()
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, lonely)
        assert title_text(app).strip() == "Account › Lonely Ltd  (active)"
        info = str(app.screen.query_one("#info").render().plain)
        assert "Country  Norway" in info and "City" not in info
        await open_record(pilot, ACCOUNTS, sample["parent"])
        assert title_text(app).strip() == "Account › Northwind Holdings  (customer, active)"
        info = str(app.screen.query_one("#info").render().plain)
        assert "City     London, UK" in info


async def test_a_long_name_leaves_the_header_readable(sample, make_app, db_path):
    long_account = add(
        db_path,
        ACCOUNTS,
        name="Very Long Holdings " * 8 + "End",
        relationship="customer",
        status="inactive",
    )
    long_contact = add(
        db_path,
        CONTACTS,
        first_name="Bartholomew " * 5,
        last_name="Featherstonehaugh-Smythe " * 3,
        account_id=sample["parent"],
    )
    app = make_app()
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, long_account)
        title = title_text(app)
        assert "…" in title and title.rstrip().endswith("(customer, inactive)"), title
        assert len(title.rstrip()) <= WIDTH - 1
        assert app.screen.query_one("#title").size.height == 1
        await open_record(pilot, CONTACTS, long_contact)
        title = title_text(app)
        assert "…" in title and title.rstrip().endswith("· Northwind Holdings"), title
        assert len(title.rstrip()) <= WIDTH - 1


# ---------------------------------------------------------------------------- 16 colours
def _ansi_number(color) -> int:
    return color.rich_color.downgrade(ColorSystem.STANDARD).number


async def test_form_and_dialog_borders_are_not_the_error_red_at_16_colours(app, sample):
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        error = _ansi_number(Color.parse(app.get_css_variables()["error"]))
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        border = app.screen.query_one("#form").styles.border_top[1]
        assert _ansi_number(border) not in (1, 9, error)
        app.push_screen(ConfirmScreen("Sure?"))
        await settle(pilot)
        border = app.screen.query_one(".dialog").styles.border_top[1]
        assert _ansi_number(border) not in (1, 9, error)


# ---------------------------------------------------------------------------- status lines
def test_the_longest_list_status_fits_80_columns():
    line = list_status(
        250_000, 250_000, "account", "modified", True, "inactive", ["type: competitor"]
    )
    assert line == ("250,000 of 250,000 accounts · sort: modified ↓ · inactive · type: competitor")
    assert len(line) <= STATUS_ROOM
    assert list_status(1, 1, "contact", "city", False, None, []) == (
        "1 of 1 contact · sort: city ↑ · any status"
    )


def test_the_longest_timeline_status_fits_80_columns():
    for status in (None, "open", "completed", "canceled"):
        for kind in (None, "phone_call", "appointment"):
            line = timeline_status(
                123_456, kind, status, 123_456 if status != "completed" else 0, rollup=True
            )
            assert len(line) <= STATUS_ROOM, line
    assert timeline_status(1, None, None, 1, rollup=False) == "1 activity · 1 overdue (!)"
    assert timeline_status(2, "appointment", "open", 0, rollup=True, with_contacts=True) == (
        "2 open appointments · with contacts (r)"
    )


async def test_sort_labels_are_words(app, sample):
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s", "s")  # name -> relationship -> city
        await settle(pilot)
        status = str(app.screen.query_one("#list-status").render().plain)
        assert "sort: city" in status and "address_city" not in status, status
        await pilot.press("s", "s")  # owner -> modified
        await settle(pilot)
        status = str(app.screen.query_one("#list-status").render().plain)
        assert "sort: modified" in status and "modified_at" not in status, status


# ---------------------------------------------------------------------------- dates in forms
async def test_an_appointment_end_is_read_from_its_start(app, sample, db_path):
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        await pilot.press("l", "a")
        await settle(pilot)
        await type_keys(pilot, *"Site visit", "tab", *"2030-06-03 09:30", "tab", *"11:00")
        assert field_hint(app, "end_at") == "→ Mon 3 Jun 2030 11:00"
        await type_keys(pilot, *["backspace"] * 5, *"+1h")
        assert field_hint(app, "end_at") == "→ Mon 3 Jun 2030 10:30"
        await type_keys(pilot, *["backspace"] * 3, *"1h30m")
        assert field_hint(app, "end_at") == "→ Mon 3 Jun 2030 11:00"
        # A changed start moves what the end means, and its hint says so.
        await type_keys(pilot, "shift+tab", *["backspace"] * 5, *"13:00")
        assert field_hint(app, "end_at") == "→ Mon 3 Jun 2030 14:30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
    stored = [
        a for a in reopen(db_path).timeline(sample["parent"]) if a.get("subject") == "Site visit"
    ]
    assert stored[0]["start_at"] == "2030-06-03T13:00:00Z"
    assert stored[0]["end_at"] == "2030-06-03T14:30:00Z"


async def test_a_phone_call_is_logged_with_its_moment(app, sample, db_path):
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        await pilot.press("l", "c")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        default = datetime.strptime(field_value(app, "start_at"), "%Y-%m-%d %H:%M")
        assert abs((datetime.now() - default).total_seconds()) < 600  # now, by default
        assert "When" in screen_text(app)
        await type_keys(pilot, *"Late call", "tab", *["backspace"] * 16, *"2025-02-15 16:45")
        await pilot.press("ctrl+s")
        await settle(pilot)
        calls = [a for a in app.screen.query_one(Timeline).items if a.get("subject") == "Late call"]
        assert timeline_row(app, calls[0]["id"])[1] == "2025-02-15"
    stored = reopen(db_path).get(ACTIVITIES, calls[0]["id"])
    assert stored["start_at"] == "2025-02-15T16:45:00Z"
