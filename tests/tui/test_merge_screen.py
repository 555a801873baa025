"""The merge screen: two duplicate accounts side by side, chosen field by field with the keys.

Real CRMs over a tmp database; the "other user" is a second real CRM over the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from store.service import CRM
from tests.tui.conftest import AppFactory
from tests.tui.helpers import (
    ESCAPE_NAME,
    RED_EVE,
    Sample,
    notifications,
    reopen,
    screen_text,
    settle,
)
from tui.app import CrmApp
from tui.screens.dialogs import ConfirmScreen
from tui.screens.merge import CHOSEN, MergeDone, MergeScreen

DUP_PHONE = "+44 20 7946 9999"


@pytest.fixture
def dup(sample: Sample, db_path: Path) -> Sample:
    """A second Northwind Holdings: another phone and city, no email, one activity, one contact."""
    crm = CRM.open(db_path, user="alice")
    dup_id = crm.create(
        ACCOUNTS,
        {"name": "Northwind Holdings Ltd", "phone": DUP_PHONE, "address_city": "Londres"},
    ).record["id"]
    sample.ids["dup"] = dup_id
    sample.ids["dup_note"] = crm.create(
        ACTIVITIES,
        {
            "type": "note",
            "subject": "Met at the fair",
            "regarding_type": "account",
            "regarding_id": dup_id,
        },
    ).record["id"]
    sample.ids["dup_contact"] = crm.create(
        CONTACTS, {"first_name": "Carl", "last_name": "Dup", "account_id": dup_id}
    ).record["id"]
    crm.close()
    return sample


class Opened:
    """The screen pushed over the app's first screen, and what it dismissed with."""

    def __init__(self, app: CrmApp, table: str, keep_id: str, other_id: str) -> None:
        self.results: list[MergeDone | None] = []
        self.screen = MergeScreen(app.crm, table, keep_id, other_id)
        app.push_screen(self.screen, self.results.append)


async def _open(pilot, table: str, keep_id: str, other_id: str) -> Opened:
    await settle(pilot)
    opened = Opened(pilot.app, table, keep_id, other_id)
    await settle(pilot)
    assert pilot.app.screen is opened.screen
    return opened


async def _to_field(pilot, screen: MergeScreen, name: str) -> None:
    names = [spec.name for spec in screen.fields]
    await pilot.press(*["up"] * len(names), *["down"] * names.index(name))
    assert screen.current() is not None and screen.current().name == name


async def _merge(pilot) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await pilot.press("y")
    await settle(pilot)


async def test_choosing_the_others_phone_merges_it_and_moves_the_rest(
    dup: Sample, make_app: AppFactory, db_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        opened = await _open(pilot, ACCOUNTS, dup["parent"], dup["dup"])
        screen = opened.screen
        text = screen_text(app)
        assert "Merge account Northwind Holdings Ltd into Northwind Holdings" in text
        assert "Moving to Northwind Holdings: 1 activity, 1 contact." in text
        shown = [spec.name for spec in screen.fields]
        # Only where they differ: the name, phone and city; the email only one has.
        assert shown[0] == "name" and {"phone", "address_city", "email", "industry"} <= set(shown)
        assert "owner" not in shown and "status" not in shown  # the same on both
        assert screen.winner("phone") == "keep"
        await _to_field(pilot, screen, "phone")
        await pilot.press("right")
        assert screen.winner("phone") == "other"
        assert f"{CHOSEN} {DUP_PHONE}" in screen_text(app)
        await pilot.press("up", "down")  # away and back: the choice stays
        assert screen.winner("phone") == "other" and screen.winner("address_city") == "keep"
        await _merge(pilot)
        assert app.screen is not screen
        assert len(opened.results) == 1 and isinstance(opened.results[0], MergeDone)
        assert opened.results[0].keep_id == dup["parent"]
        assert any(n.startswith("Merged Northwind Holdings Ltd into") for n in notifications(app))
    stored = reopen(db_path)
    kept = stored.get(ACCOUNTS, dup["parent"])
    assert kept is not None
    assert kept["phone"] == DUP_PHONE
    assert kept["address_city"] == "London"  # its own: not chosen
    assert stored.get(ACCOUNTS, dup["dup"]) is None
    trashed = stored.in_trash(dup["dup"])
    assert trashed is not None and trashed.merged_into == dup["parent"]
    note = stored.get(ACTIVITIES, dup["dup_note"])
    assert note is not None and note["regarding_id"] == dup["parent"]
    contact = stored.get(CONTACTS, dup["dup_contact"])
    assert contact is not None and contact["account_id"] == dup["parent"]


async def test_escape_writes_nothing(dup: Sample, make_app: AppFactory, db_path: Path) -> None:
    before = reopen(db_path)
    versions = {key: before.get(ACCOUNTS, dup[key])["version"] for key in ("parent", "dup")}
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        opened = await _open(pilot, ACCOUNTS, dup["parent"], dup["dup"])
        await _to_field(pilot, opened.screen, "phone")
        await pilot.press("right", "escape")
        await settle(pilot)
        assert opened.results == [None]
        assert app.screen is not opened.screen
    stored = reopen(db_path)
    for key, version in versions.items():
        record = stored.get(ACCOUNTS, dup[key])
        assert record is not None and record["version"] == version
    assert stored.get(ACCOUNTS, dup["parent"])["phone"] == "+44 20 7946 0000"
    assert stored.in_trash(dup["dup"]) is None


async def test_swapping_keeps_the_other_record(
    dup: Sample, make_app: AppFactory, db_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        opened = await _open(pilot, ACCOUNTS, dup["parent"], dup["dup"])
        screen = opened.screen
        await _to_field(pilot, screen, "phone")
        await pilot.press("right", "s")
        assert (screen.keep_id, screen.other_id) == (dup["dup"], dup["parent"])
        assert screen.take == set(), "the choices were about the other record"
        text = screen_text(app)
        assert "Merge account Northwind Holdings into Northwind Holdings Ltd" in text
        assert "Moving to Northwind Holdings Ltd: 5 activities, 1 contact, 2 subsidiaries." in text
        # By default the kept one fills its empty fields from the other.
        assert screen.winner("email") == "other" and screen.winner("phone") == "keep"
        await _merge(pilot)
        assert opened.results[0] is not None and opened.results[0].keep_id == dup["dup"]
    stored = reopen(db_path)
    kept = stored.get(ACCOUNTS, dup["dup"])
    assert kept is not None
    assert kept["phone"] == DUP_PHONE and kept["email"] == "info@northwind.example"
    trashed = stored.in_trash(dup["parent"])
    assert trashed is not None and trashed.merged_into == dup["dup"]
    assert len(stored.timeline(dup["dup"])) == 6


async def test_an_empty_field_cannot_win_and_says_why(dup: Sample, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        opened = await _open(pilot, ACCOUNTS, dup["dup"], dup["parent"])
        screen = opened.screen
        await _to_field(pilot, screen, "email")
        assert screen.winner("email") == "other"
        await pilot.press("left")
        assert screen.winner("email") == "other", "merge always fills an empty field"
        assert "empty field takes the other's value" in screen_text(app)


async def test_a_change_made_meanwhile_refuses_and_keeps_the_choices(
    dup: Sample, make_app: AppFactory, db_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        opened = await _open(pilot, ACCOUNTS, dup["parent"], dup["dup"])
        screen = opened.screen
        await _to_field(pilot, screen, "phone")
        await pilot.press("right")
        bob = CRM.open(db_path, user="bob")
        bob.update(ACCOUNTS, dup["parent"], {"industry": "Wholesale"})
        bob.close()
        await _merge(pilot)
        assert app.screen is screen, "the screen stays open"
        text = screen_text(app)
        assert "Not merged: this account was changed by bob" in text
        said = " ".join(line.strip("│ ") for line in text.splitlines())
        assert "nothing was written. Shown now: what is stored; ctrl+s merges it." in said
        assert screen.winner("phone") == "other", "the choice is kept"
        assert reopen(db_path).in_trash(dup["dup"]) is None
        await _merge(pilot)  # again, over what is stored now
        assert opened.results and opened.results[0] is not None
    stored = reopen(db_path)
    kept = stored.get(ACCOUNTS, dup["parent"])
    assert kept is not None and kept["phone"] == DUP_PHONE and kept["industry"] == "Wholesale"


async def test_a_refused_merge_says_why_until_swapped(
    sample: Sample, make_app: AppFactory, db_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        # Keeping a subsidiary of the other would make a loop.
        opened = await _open(pilot, ACCOUNTS, sample["retail"], sample["parent"])
        screen = opened.screen
        assert screen.plan is None
        assert "would make a loop" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen, "no question: nothing to merge"
        await pilot.press("s")
        assert screen.plan is not None
        assert "would make a loop" not in screen_text(app)


async def test_names_show_as_typed(sample: Sample, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, ACCOUNTS, sample["eve"], sample["escape"])
        text = screen_text(app)
        assert f"Keep: {RED_EVE}" in text
        assert f"into {RED_EVE}" in text
        assert "\x1b[31m" not in text and ESCAPE_NAME not in text
        assert "Esc␛[31mape Ltd" in text


async def test_m_on_an_account_picks_a_likely_duplicate_and_merges_it(
    dup: Sample, make_app: AppFactory, db_path: Path
) -> None:
    from tests.tui.helpers import open_record
    from tui.screens.detail import AccountScreen
    from tui.screens.pick import PickRecordScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, dup["parent"])
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, PickRecordScreen)
        picker = screen_text(app)
        # Only the likely duplicates until you type (a close name: `crm duplicates`'s rules)
        assert "Northwind Holdings Ltd" in picker and "Contoso" not in picker
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MergeScreen)
        await _merge(pilot)
        assert isinstance(app.screen, AccountScreen)
    crm = reopen(db_path)
    assert crm.in_trash(dup["dup"]).merged_into == dup["parent"]
    assert crm.get(CONTACTS, dup["dup_contact"])["account_id"] == dup["parent"]


async def test_f9_at_the_duplicate_warning_saves_and_merges(
    dup: Sample, make_app: AppFactory, db_path: Path
) -> None:
    from tui.screens.forms import FormScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        await pilot.press(*"Contoso", "ctrl+s")  # a name the sample already has
        await settle(pilot)
        assert "f9 Save, then merge" in screen_text(app)  # offered with the warning
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, MergeScreen)
        new_id = app.screen.other_id
        await _merge(pilot)
    crm = reopen(db_path)
    assert crm.in_trash(new_id).merged_into == dup["contoso"]
