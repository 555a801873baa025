"""The palette and the reference pickers find what was typed (issue 7).

Pilot drives the real command palette (ctrl+p), the real autocomplete dropdown of a reference
field and the primary-contact picker, over the sample database of tests/tui/helpers.py."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.widgets import OptionList

from store.model import ACCOUNTS, CONTACTS
from store.service import CRM
from tests.tui.helpers import USER, notifications, open_record, reopen, screen_text, settle
from tui.screens.detail import AccountScreen, ContactScreen
from tui.screens.forms import FormScreen
from tui.screens.pick import PickRecordScreen
from tui.widgets.form_fields import RecordAutoComplete


async def palette(pilot, typed: str) -> list[str]:
    """Open the palette, type, and read its list: the first line of every hit, in order."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*typed)
    await settle(pilot)  # waits for the palette's search worker
    options = pilot.app.screen.query_one(CommandList).options
    return [option.prompt.plain.split("\n")[0] for option in options]


# ---------------------------------------------------------------------------- the palette
async def test_palette_opens_the_contact_typed_not_export(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hits = await palette(pilot, "joao")
        assert hits[0].startswith("Open contact: João Silva"), hits
        assert not any("Export" in hit for hit in hits), hits
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert app.screen.record_id == sample["joao"]


async def test_palette_puts_maria_first_and_no_import(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hits = await palette(pilot, "maria")
        assert hits[0].startswith("Open contact: Maria Souza"), hits
        assert not any("Import" in hit for hit in hits), hits


async def test_palette_matches_commands_on_whole_words(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hits = await palette(pilot, "exp")
        assert hits == ["Export CSV, JSON, vCard or iCalendar"], hits
        await pilot.press("escape")
        await settle(pilot)
        hits = await palette(pilot, "new acc")
        assert hits == ["New account"], hits
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen) and app.screen.table == ACCOUNTS


async def test_palette_finds_a_contact_by_its_account_and_email(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hits = await palette(pilot, "contoso")
        # The account itself (its name matches) before the contacts found through it.
        assert hits[0].startswith("Open account: Contoso"), hits
        assert any(hit.startswith("Open contact: Maria Souza") for hit in hits), hits
        await pilot.press("escape")
        await settle(pilot)
        hits = await palette(pilot, "ada@north")
        assert hits[0].startswith("Open contact: Ada Lovelace"), hits


async def test_palette_puts_records_above_commands(sample, make_app):
    crm = CRM.open(sample.path, user=USER)
    newton = crm.create(CONTACTS, {"first_name": "Newton", "last_name": "Hale"}).record["id"]
    crm.close()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hits = await palette(pilot, "new")
        assert hits[0].startswith("Open contact: Newton Hale"), hits
        assert "New account" in hits and "New contact" in hits, hits
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen) and app.screen.record_id == newton


async def test_palette_tells_records_with_the_same_name_apart(sample, make_app):
    crm = CRM.open(sample.path, user=USER)
    crm.create(ACCOUNTS, {"name": "Acme", "address_city": "Lyon"})
    crm.create(ACCOUNTS, {"name": "Acme", "address_city": "[b]Oslo\x1b"})
    crm.close()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hits = await palette(pilot, "acme")
        assert "Open account: Acme · Lyon" in hits, hits
        assert "Open account: Acme · [b]Oslo␛" in hits, hits  # user text drawn literally
        await pilot.press("escape")
        await settle(pilot)
        hits = await palette(pilot, "maria")
        assert hits[0] == "Open contact: Maria Souza · Contoso · São Paulo", hits


# ---------------------------------------------------------------------------- reference pickers
def shown_dropdown(app) -> RecordAutoComplete:
    shown = [d for d in app.screen.query(RecordAutoComplete) if d.display]
    assert len(shown) == 1, "no dropdown is shown"
    return shown[0]


def dropdown_lines(app) -> list[str]:
    return [option.prompt.plain for option in shown_dropdown(app).option_list.options]


def assert_rows_drawn(app, rows: list[str]) -> None:
    """Every row is on screen, inside the 80x24 terminal."""
    region = shown_dropdown(app).option_list.region
    assert region.height >= len(rows), region
    assert region.bottom <= app.size.height, region
    text = screen_text(app)
    for row in rows:
        assert row in text, (row, text)


NORTHWIND = [
    "Northwind Holdings · London",
    "Northwind Logistics · Hull",
    "Northwind Retail · Leeds",
    "Northwind Retail Online · Leeds",
]


async def test_account_picker_shows_several_rows_and_moves_with_arrows(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3", "n")
        await settle(pilot)
        await pilot.press(*"Bob", "tab", "tab", "tab")
        await settle(pilot)
        assert app.screen.focused.id == "field-account_id"
        await pilot.press(*"Nor")
        await settle(pilot)
        assert dropdown_lines(app) == NORTHWIND
        assert_rows_drawn(app, NORTHWIND)
        await pilot.press("down", "down", "up", "enter")  # the second row
        await settle(pilot)
        row = app.screen.query_one("#row-account_id")
        assert row.picked_id == sample["logistics"]
        assert app.screen.query_one("#field-account_id").value == "Northwind Logistics"
        await pilot.press("ctrl+s")
        await settle(pilot)
    stored = reopen(sample.path)
    bob = [
        c
        for c in stored.records(CONTACTS, stored.search(CONTACTS))
        if c.get("first_name") == "Bob" and c.get("account_id")
    ]
    assert [c["account_id"] for c in bob] == [sample["logistics"]]


async def test_parent_picker_in_the_account_form_shows_several_rows(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#field-parent_account_id").focus()
        await settle(pilot)
        await pilot.press(*"Nor")
        await settle(pilot)
        assert dropdown_lines(app) == NORTHWIND
        assert_rows_drawn(app, NORTHWIND)


async def test_primary_contact_picker_tells_contacts_apart(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#field-primary_contact_id").focus()
        await settle(pilot)
        await pilot.press(*"a")
        await settle(pilot)
        lines = dropdown_lines(app)
        assert "Ada Lovelace · Northwind Holdings · ada@northwind.example" in lines
        assert "Maria Souza · Contoso · São Paulo" in lines
        assert_rows_drawn(app, lines[:4])


async def test_picker_near_the_bottom_opens_above_the_field(app, sample):
    async with app.run_test(size=(80, 14)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#field-primary_contact_id").focus()
        await settle(pilot)
        field_y = app.screen.focused.region.y
        await pilot.press(*"a")
        await settle(pilot)
        lines = dropdown_lines(app)
        assert len(lines) >= 4
        region = shown_dropdown(app).option_list.region
        assert region.bottom <= field_y, (region, field_y)  # above, all of it on screen
        assert region.y >= 0 and region.height == len(lines)


async def test_import_regarding_picker_shows_rows_on_screen(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        app.screen.query_one("#field-regarding_id").focus()
        await settle(pilot)
        await pilot.press(*"Nor")
        await settle(pilot)
        lines = dropdown_lines(app)
        assert NORTHWIND[0] in lines
        assert "Ada Lovelace · Northwind Holdings · ada@northwind.example" in lines
        assert_rows_drawn(app, lines[:4])


# ---------------------------------------------------------------------------- `i` on an account
async def test_i_without_primary_contact_picks_one_of_the_accounts_contacts(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, PickRecordScreen)
        text = screen_text(app)
        assert "João Silva · Contoso · joao@contoso.example" in text
        assert "Maria Souza · Contoso · São Paulo" in text
        assert "Nothing to open there" not in " ".join(notifications(app))
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert "Primary  Maria Souza" in screen_text(app)
        assert (
            reopen(sample.path).get(ACCOUNTS, sample["contoso"])["primary_contact_id"]
            == sample["maria"]
        )
        await pilot.press("i")  # now it opens her
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen) and app.screen.record_id == sample["maria"]


async def test_i_on_an_account_without_contacts_searches_all_contacts(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["retail"])
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, PickRecordScreen)
        await pilot.press(*"bob")
        await settle(pilot)
        options = app.screen.query_one(OptionList).options
        assert [o.prompt.plain for o in options] == ["Bob Builder · Oslo"]
        await pilot.press("enter")
        await settle(pilot)
        assert (
            reopen(sample.path).get(ACCOUNTS, sample["retail"])["primary_contact_id"]
            == sample["b2c"]
        )


async def test_i_picking_after_someone_else_saved_says_so(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("i")
        await settle(pilot)
        other = CRM.open(sample.path, user="bob")
        record = other.get(ACCOUNTS, sample["contoso"])
        other.update(ACCOUNTS, record["id"], {"phone": "+1 555 0199"}, record["version"])
        other.close()
        await pilot.press("enter")
        await settle(pilot)
        assert any("changed by bob" in n for n in notifications(app)), notifications(app)
        stored = reopen(sample.path).get(ACCOUNTS, sample["contoso"])
        assert stored.get("primary_contact_id") is None and stored["phone"] == "+1 555 0199"


async def test_i_is_described_in_the_help(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("f1")
        await settle(pilot)
        assert "Primary contact: open it, or pick one" in screen_text(app)
