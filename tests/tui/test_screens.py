"""Detail screens, hierarchy, My activities and deleting, through the keys a user presses."""

from __future__ import annotations

from textual.widgets import Input, RadioSet, Tree

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS
from tests.tui.helpers import notifications, open_record, reopen, screen_text, settle, title_text
from tui.screens.agenda import AgendaScreen
from tui.screens.detail import AccountScreen, ContactScreen
from tui.screens.dialogs import DeleteScreen
from tui.screens.forms import FormScreen
from tui.screens.hierarchy import HierarchyScreen
from tui.screens.record_list import AccountsScreen
from tui.widgets.timeline import Timeline


def timeline_subjects(app) -> list[str]:
    return [a.get("subject", "") for a in app.screen.query_one(Timeline).items]


# ---------------------------------------------------------------------------- hierarchy
async def test_hierarchy_shows_the_tree_with_the_account_marked(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["retail"])
        await pilot.press("h")
        await settle(pilot)
        assert isinstance(app.screen, HierarchyScreen)
        assert title_text(app) == "Hierarchy › Northwind Retail"
        tree = app.screen.query_one(Tree)
        assert tree.root.data == sample["parent"]
        assert str(tree.root.label) == "Northwind Holdings  (customer)"
        children = {str(node.label): node for node in tree.root.children}
        assert set(children) == {"▶ Northwind Retail ◀", "Northwind Logistics  (vendor)"}
        assert [str(n.label) for n in children["▶ Northwind Retail ◀"].children] == [
            "Northwind Retail Online  (partner)"
        ]
        text = screen_text(app)
        lines = [line.strip() for line in text.splitlines()]
        assert any(line.startswith("▼ Northwind Holdings") for line in lines)
        assert "▶ Northwind Retail ◀" in text
        assert (
            text.index("Northwind Logistics")
            < text.index("▶ Northwind Retail ◀")
            < text.index("Northwind Retail Online")
        )

        for _ in range(5):  # down to the grandchild, then open it from the tree
            if tree.cursor_node is not None and tree.cursor_node.data == sample["online"]:
                break
            await pilot.press("down")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.record_id == sample["online"]
        await pilot.press("p")  # and up to its parent
        await settle(pilot)
        assert app.screen.record_id == sample["retail"]


async def test_hierarchy_cursor_starts_on_the_current_account(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["retail"])
        await pilot.press("h")
        await settle(pilot)
        tree = app.screen.query_one(Tree)
        assert tree.cursor_node is not None and tree.cursor_node.data == sample["retail"]


async def test_hierarchy_from_the_accounts_list(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        index = app.screen.ids.index(sample["online"])
        await pilot.press(*["down"] * index, "h")
        await settle(pilot)
        assert isinstance(app.screen, HierarchyScreen)
        assert "▶ Northwind Retail Online ◀" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)
        assert app.screen.current_id() == sample["online"]


# ---------------------------------------------------------------------------- detail screens
async def test_account_detail_tabs_and_navigation(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        assert title_text(app) == "Account › Northwind Holdings  (customer, active)"
        text = screen_text(app)
        assert "2 Contacts (1)" in text and "3 Subsidiaries (2)" in text
        # Own activities plus the contacts' (roll-up is on for accounts), newest first.
        assert timeline_subjects(app) == [
            "Quarterly review",
            "Pricing call",
            "Proposal sent",
            "Kick-off notes",
            "Send NDA to Ada",
            "Send contract",
        ]
        await pilot.press("r")  # own activities only
        await settle(pilot)
        assert "Send NDA to Ada" not in timeline_subjects(app)
        assert "own only (r)" in screen_text(app)
        await pilot.press("r")
        await settle(pilot)
        assert "Send NDA to Ada" in timeline_subjects(app)

        await pilot.press("2")
        await settle(pilot)
        assert "Ada Lovelace" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert title_text(app) == "Contact › Ada Lovelace · Northwind Holdings"
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.record_id == sample["parent"]

        await pilot.press("3")
        await settle(pilot)
        text = screen_text(app)
        assert "Northwind Logistics" in text and "Northwind Retail" in text
        await pilot.press("4")
        await settle(pilot)
        assert "Account number" in screen_text(app)
        await pilot.press("backspace")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen)


async def test_timeline_filters_and_search(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["parent"])
        await pilot.press("f")  # type filter: note
        await settle(pilot)
        assert timeline_subjects(app) == ["Kick-off notes"]
        assert "1 note · with contacts (r)" in screen_text(app)  # the count names the filter
        await pilot.press("f", "f", "f", "f")  # ... email, phone call, appointment, task
        await settle(pilot)
        assert timeline_subjects(app) == ["Send NDA to Ada", "Send contract"]
        await pilot.press("v")  # status filter: open
        await settle(pilot)
        assert timeline_subjects(app) == ["Send contract"]
        await pilot.press("f", "v", "v", "v")  # back to all types, all statuses
        await settle(pilot)
        assert len(timeline_subjects(app)) == 6

        await pilot.press("slash", *"BOARD")  # searches the description too
        await settle(pilot)
        assert timeline_subjects(app) == ["Kick-off notes"]
        search = app.screen.query_one("#timeline-search", Input)
        assert app.focused is search
        await pilot.press("escape")
        await settle(pilot)
        assert search.value == "" and len(timeline_subjects(app)) == 6
        assert isinstance(app.screen, AccountScreen), "escape in the box does not leave"


async def test_new_contact_from_an_account_is_linked(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["logistics"])
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert app.screen.query_one("#field-account_id", Input).value == "Northwind Logistics"
        await pilot.press(*"Lena", "tab", *"Lager", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        contact_id = app.screen.record_id
        await pilot.press("escape")
        await settle(pilot)
        assert "2 Contacts (1)" in screen_text(app)
    assert reopen(db_path).get(CONTACTS, contact_id)["account_id"] == sample["logistics"]


async def test_b2c_contact_detail(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, CONTACTS, sample["b2c"])
        assert title_text(app) == "Contact › Bob Builder · no account (B2C)"
        assert "No activities yet: press l to log one." in screen_text(app)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert "Nothing to open there." in notifications(app)


# ---------------------------------------------------------------------------- my activities
async def test_my_activities_overdue_and_complete(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AgendaScreen)
        kinds = [(kind, value if kind == "section" else value["id"]) for kind, value in screen.rows]
        assert kinds == [
            ("section", "Overdue (1)"),
            ("item", sample["overdue"]),
            ("section", "Upcoming (1)"),
            ("item", sample["meeting"]),
        ]
        assert screen._row(1)[0] == "!"
        assert screen._row(3)[0] == ""
        assert screen.current()["id"] == sample["overdue"]
        text = screen_text(app)
        assert "── Overdue (1)" in text and "! 2025-01-15" in text
        assert "1 overdue (!) · 0 today · 1 upcoming" in text

        await pilot.press("x")
        await settle(pilot)
        assert sample["overdue"] not in [v["id"] for k, v in screen.rows if k == "item"]
        assert "Overdue" not in screen_text(app)
        assert screen.current()["id"] == sample["meeting"]
        assert "Task completed." in notifications(app)
    stored = reopen(db_path).get(ACTIVITIES, sample["overdue"])
    assert stored["status"] == "completed" and stored["completed_at"]


async def test_my_activities_go_to_record_and_everyone(app, sample, make_app, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
        assert app.screen.record_id == sample["parent"]
    bob_app = make_app(user="bob")
    async with bob_app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert len(bob_app.screen.rows) == 0
        assert "Nothing open." in screen_text(bob_app)
        await pilot.press("m")
        await settle(pilot)
        assert len([r for r in bob_app.screen.rows if r[0] == "item"]) == 2
        assert "My activities · everyone" in title_text(bob_app)


# ---------------------------------------------------------------------------- deleting
async def test_delete_an_account_with_contacts_keeps_the_contacts(app, sample, db_path):
    parent = sample["parent"]
    before = reopen(db_path)
    own_activities = [a["id"] for a in before.timeline(parent)]
    assert own_activities
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, parent)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DeleteScreen)
        text = screen_text(app)
        assert "Delete account Northwind Holdings?" in text
        assert "keep them, without an account" in text
        assert f"Its {len(own_activities)} activities are deleted with it." in text
        radios = {r.id: r.pressed_button.name for r in app.screen.query(RadioSet)}
        assert radios == {"contacts": "detach", "subsidiaries": "reparent"}
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AccountsScreen), "the detail screen closes"
        assert parent not in app.screen.ids
        assert any(n.startswith("Deleted account Northwind Holdings") for n in notifications(app))

    after = reopen(db_path)
    assert after.get(ACCOUNTS, parent) is None
    ada = after.get(CONTACTS, sample["ada"])
    assert ada is not None and "account_id" not in ada
    assert all(after.get(ACTIVITIES, a) is None for a in own_activities)
    assert after.get(ACTIVITIES, sample["ada_task"]) is not None, "the contact's own stay"
    for child in ("retail", "logistics"):
        assert "parent_account_id" not in after.get(ACCOUNTS, sample[child])
    assert after.get(ACCOUNTS, sample["online"])["parent_account_id"] == sample["retail"]
    assert after.check() == []


async def test_delete_can_be_cancelled(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DeleteScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"]) is not None


async def test_delete_a_contact_from_the_list(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        index = screen.ids.index(sample["b2c"])
        await pilot.press(*["down"] * index, "d")
        await settle(pilot)
        assert "Nothing else refers to it." in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert sample["b2c"] not in screen.ids
        assert screen.current_id() is not None
    assert reopen(db_path).get(CONTACTS, sample["b2c"]) is None


async def test_deleting_from_the_detail_screen_says_it_once(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert notifications(app) == [
            "Deleted account Contoso (1 record): moved to the trash; restore it from the "
            "Trash (F7 or the palette)."
        ]


async def test_saving_an_unchanged_form_writes_nothing(app, sample, db_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["contoso"])
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, AccountScreen)
    assert reopen(db_path).get(ACCOUNTS, sample["contoso"])["version"] == 1


async def test_counts_of_one_are_singular(app, sample):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_record(pilot, ACCOUNTS, sample["eve"])
        assert "1 activity " in screen_text(app)
        await pilot.press("d")
        await settle(pilot)
        text = screen_text(app)
        assert "Its 1 contact:" in text
        assert "Its 1 activity is deleted with it." in text
