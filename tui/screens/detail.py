"""Account and contact detail screens: the record's fields, its relations and its timeline."""

from __future__ import annotations

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static, TabbedContent, TabPane

from store.model import ACCOUNTS, ACTIVITIES, CONTACTS, FIELDS, Record, display_name
from tui.format import clipped, headline, when_text
from tui.literal import literal, visible
from tui.messages import DataChanged
from tui.screens import actions
from tui.screens.base import CrmScreen
from tui.screens.pick import choose_primary_contact, choose_record_to_merge
from tui.widgets.history import RecordHistory
from tui.widgets.keybar import KeyBar
from tui.widgets.timeline import Timeline
from tui.widgets.virtual_table import Column, VirtualTable

LABEL_WIDTH = 9
HALF = 38


def info_lines(pairs: list[tuple[str, str]]) -> Content:
    """Label/value pairs laid out two per line (one per line when they are long)."""
    cells = [f"{label:<{LABEL_WIDTH}}{visible(value)}" for label, value in pairs if value]
    lines = []
    while cells:
        left = cells.pop(0)
        if cells and len(left) < HALF and len(cells[0]) <= HALF:
            lines.append(f"{left:<{HALF}}  {cells.pop(0)}")
        else:
            lines.append(left)
    return Content("\n".join(lines) or "(no details yet: press e to edit)")


def place_pair(record: Record) -> tuple[str, str]:
    """`City  Oslo, Norway`; a country alone is labelled as what it is."""
    city, country = record.get("address_city"), record.get("address_country")
    if not city:
        return ("Country", country or "")
    return ("City", f"{city}, {country}" if country else city)


class DetailScreen(CrmScreen):
    """Shared parts: title, info block, tabs with a timeline, actions on the record."""

    TABLE = ACCOUNTS
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="back"),
        Binding("e", "edit", "Edit", id="edit", priority=True),
        Binding("l", "log_activity", "Log", id="log", priority=True),
        Binding("d", "delete", "Delete", show=False, id="delete"),
        # Priority (skipped while typing in the timeline's search), so that `4e` typed
        # together switches the tab before the edit form opens.
        Binding("1", "tab(1)", "Timeline", show=False, id="tab-1", priority=True),
        Binding("2", "tab(2)", "Tab 2", show=False, id="tab-2", priority=True),
        Binding("3", "tab(3)", "Tab 3", show=False, id="tab-3", priority=True),
        Binding("4", "tab(4)", "Tab 4", show=False, id="tab-4", priority=True),
        Binding("5", "tab(5)", "Tab 5", show=False, id="tab-5", priority=True),
        Binding("u", "undo", "Undo my last change", show=False, id="undo"),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id

    @property
    def record(self) -> Record | None:
        return self.crm.get(self.TABLE, self.record_id)

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="title")
        yield Static(id="info")
        with TabbedContent(id="tabs"):
            yield from self.compose_tabs()
        yield KeyBar()

    def compose_tabs(self) -> ComposeResult:
        with TabPane("1 Timeline", id="tab-timeline"):
            yield Timeline(rollup_possible=self.TABLE == ACCOUNTS, id="timeline")
        with TabPane("Details", id="tab-details"):
            with VerticalScroll():
                yield Static(id="all-fields")
        yield from self.compose_history(3)

    def compose_history(self, number: int) -> ComposeResult:
        with TabPane(f"{number} History", id="tab-history"):
            yield RecordHistory(self.TABLE, id="history")

    def on_mount(self) -> None:
        self._seen_generation = self.host.data_generation
        self.query_one(Timeline).show(self.crm, self.record_id)
        self.query_one(RecordHistory).show(self.crm, self.record_id)
        self.reload(None)
        self.query_one(Timeline).table.focus()

    def reload(self, changes: DataChanged | None = None) -> None:
        record = self.record
        if record is None:
            self.say("This record was deleted.", severity="warning")
            self.dismiss_screen()
            return
        self.query_one("#title", Static).update(self.title_content(record))
        self.query_one("#info", Static).update(info_lines(self.info_pairs(record)))
        self.query_one("#all-fields", Static).update(self.all_fields(record))
        self.query_one(Timeline).refresh_items()
        history = self.query_one(RecordHistory)
        if history.loaded and (changes is None or changes.touches({self.record_id})):
            history.load()  # read again only once read: never at start-up

    def dismiss_screen(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()

    def title_content(self, record: Record) -> Content:
        raise NotImplementedError

    def title_width(self) -> int:
        """The cells the one-line title has for text (the screen's width less its padding)."""
        return (self.size.width or self.app.size.width or 80) - 2

    def info_pairs(self, record: Record) -> list[tuple[str, str]]:
        raise NotImplementedError

    def all_fields(self, record: Record) -> Content:
        lines = []
        for spec in FIELDS[self.TABLE]:
            value = record.get(spec.name)
            if spec.kind == "ref":
                value = self.crm.name_of(spec.ref_table or ACCOUNTS, value)
            lines.append(f"{spec.label:<16} {visible(value or '', single_line=False)}")
        lines.append("")
        lines.append(
            f"{'Created':<16} {when_text(record.get('created_at'))} by "
            f"{visible(record.get('created_by', ''))}"
        )
        lines.append(
            f"{'Modified':<16} {when_text(record.get('modified_at'))} by "
            f"{visible(record.get('modified_by', ''))} (version "
            f"{record.get('version')})"
        )
        lines.append(f"{'Id':<16} {record['id']}")
        return Content("\n".join(lines))

    def show_saved(self, table: str, record_id: str) -> None:
        if table == ACTIVITIES:
            self.query_one(Timeline).select_activity(record_id)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-history":
            self.query_one(RecordHistory).load()

    def on_record_history_restore_requested(self, message: RecordHistory.RestoreRequested) -> None:
        actions.restore_value(
            self, self.TABLE, self.record_id, message.field, message.label, message.old
        )

    # ------------------------------------------------------------ timeline messages
    async def on_timeline_open_activity(self, message: Timeline.OpenActivity) -> None:
        await actions.edit_record(self, "activities", message.activity["id"])

    def on_timeline_status_requested(self, message: Timeline.StatusRequested) -> None:
        actions.set_status(self, message.activity, message.status)

    # ------------------------------------------------------------ actions
    def action_back(self) -> None:
        self.dismiss_screen()

    async def action_edit(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # typing in the timeline's search box
        await actions.edit_record(self, self.TABLE, self.record_id)

    async def action_log_activity(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # typing in the timeline's search box
        await actions.log_activity(self, self.TABLE, self.record_id)

    def action_delete(self) -> None:
        actions.delete_record(self, self.TABLE, self.record_id, then=self.dismiss_screen)

    def action_undo(self) -> None:
        actions.undo_last(self)

    def action_merge(self) -> None:
        if self.TABLE in (ACCOUNTS, CONTACTS):
            choose_record_to_merge(self, self.TABLE, self.record_id)

    def action_tab(self, number: int) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # a digit typed into the timeline's search box
        panes = list(self.query(TabPane))
        if 0 < number <= len(panes):
            pane = panes[number - 1]
            self.query_one(TabbedContent).active = pane.id or ""
            # Focus the pane's list (or its scrolling details) at once: otherwise focus falls
            # to whatever Textual finds next when the old pane hides (the timeline's search
            # box), and the next keys are typed there instead of acting on the screen.
            target = pane.query("VirtualTable") or pane.query(VerticalScroll)
            if target:
                self.set_focus(target.first())

    def open_from(self, table: str, record_id: str | None) -> None:
        if record_id and self.crm.get(table, record_id):
            self.open_record(table, record_id)
        else:
            self.say("Nothing to open there.")


class AccountScreen(DetailScreen):
    help_title = "Account"
    TABLE = ACCOUNTS
    BINDINGS = [
        Binding("p", "parent", "Parent", show=False, id="parent"),
        Binding(
            "i",
            "primary_contact",
            "Primary contact: open it, or pick one",
            show=False,
            id="primary",
        ),
        Binding("h", "hierarchy", "Hierarchy", id="hierarchy"),
        Binding("r", "rollup", "Contacts' activities", show=False, id="rollup"),
        Binding("c", "new_contact", "New contact", show=False, id="new-contact"),
        Binding("m", "merge", "Merge another account into this one", show=False, id="merge"),
    ]

    def compose_tabs(self) -> ComposeResult:
        with TabPane("1 Timeline", id="tab-timeline"):
            yield Timeline(rollup_possible=True, id="timeline")
        with TabPane("2 Contacts", id="tab-contacts"):
            yield VirtualTable(
                [
                    Column("name", "Name", None, 12),
                    Column("title", "Job title"),
                    Column("phone", "Phone", 15),
                    Column("email", "Email"),
                ],
                id="contacts",
                empty_text="No contacts: press c to add one.",
            )
        with TabPane("3 Subsidiaries", id="tab-subsidiaries"):
            yield VirtualTable(
                [
                    Column("name", "Account", None, 12),
                    Column("relationship", "Type", 10),
                    Column("city", "City", 14),
                ],
                id="subsidiaries",
                empty_text="No subsidiaries.",
            )
        with TabPane("4 Details", id="tab-details"):
            with VerticalScroll():
                yield Static(id="all-fields")
        yield from self.compose_history(5)

    def reload(self, changes: DataChanged | None = None) -> None:
        super().reload(changes)
        if self.record is None:
            return
        self.contacts = self.crm.contacts_of(self.record_id)
        self.subsidiaries = self.crm.subsidiaries(self.record_id)
        contacts = self.query_one("#contacts", VirtualTable)
        contacts.set_rows(
            len(self.contacts),
            lambda i: [
                display_name(CONTACTS, self.contacts[i]),
                self.contacts[i].get("job_title", ""),
                self.contacts[i].get("phone") or self.contacts[i].get("mobile", ""),
                self.contacts[i].get("email", ""),
            ],
        )
        subsidiaries = self.query_one("#subsidiaries", VirtualTable)
        subsidiaries.set_rows(
            len(self.subsidiaries),
            lambda i: [
                display_name(ACCOUNTS, self.subsidiaries[i]),
                self.subsidiaries[i].get("relationship", ""),
                self.subsidiaries[i].get("address_city", ""),
            ],
        )
        tabs = self.query_one(TabbedContent)
        tabs.get_tab("tab-contacts").label = Content(f"2 Contacts ({len(self.contacts)})")
        tabs.get_tab("tab-subsidiaries").label = Content(
            f"3 Subsidiaries ({len(self.subsidiaries)})"
        )

    def title_content(self, record: Record) -> Content:
        # Only what is set: `(customer, active)`, or `(active)` without a relationship.
        known = [p for p in (record.get("relationship"), record.get("status", "active")) if p]
        return literal(
            headline(
                "Account › ",
                display_name(ACCOUNTS, record),
                f"  ({', '.join(known)})",
                self.title_width(),
            )
        )

    def info_pairs(self, record: Record) -> list[tuple[str, str]]:
        city = place_pair(record)
        parent = self.crm.name_of(ACCOUNTS, record.get("parent_account_id"))
        primary = self.crm.name_of(CONTACTS, record.get("primary_contact_id"))
        return [
            ("Phone", record.get("phone", "")),
            ("Email", record.get("email", "")),
            ("Web", record.get("website", "")),
            city,
            ("Industry", record.get("industry", "")),
            ("Owner", record.get("owner", "")),
            ("Parent", f"{parent}  [p]" if parent else ""),
            ("Primary", f"{primary}  [i]" if primary else ""),
        ]

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        if event.table.id == "contacts" and self.contacts:
            self.open_from(CONTACTS, self.contacts[event.index]["id"])
        elif event.table.id == "subsidiaries" and self.subsidiaries:
            self.open_from(ACCOUNTS, self.subsidiaries[event.index]["id"])

    def action_parent(self) -> None:
        record = self.record or {}
        self.open_from(ACCOUNTS, record.get("parent_account_id"))

    def action_primary_contact(self) -> None:
        record = self.record
        if record is None:
            return
        if self.crm.get(CONTACTS, record.get("primary_contact_id") or ""):
            self.open_from(CONTACTS, record["primary_contact_id"])
        else:  # none yet (or deleted): choosing one is what the key is for then
            choose_primary_contact(self, record)

    def action_hierarchy(self) -> None:
        actions.show_hierarchy(self, self.record_id)

    def action_rollup(self) -> None:
        self.query_one(Timeline).toggle_rollup()

    async def action_new_contact(self) -> None:
        await actions.new_record(self, CONTACTS, account_id=self.record_id)


class ContactScreen(DetailScreen):
    help_title = "Contact"
    TABLE = CONTACTS
    BINDINGS = [
        Binding("p", "account", "Account", id="account"),
        Binding("m", "merge", "Merge another contact into this one", show=False, id="merge"),
    ]

    def compose_tabs(self) -> ComposeResult:
        with TabPane("1 Timeline", id="tab-timeline"):
            yield Timeline(id="timeline")
        with TabPane("2 Details", id="tab-details"):
            with VerticalScroll():
                yield Static(id="all-fields")
        yield from self.compose_history(3)

    def title_content(self, record: Record) -> Content:
        account = self.crm.name_of(ACCOUNTS, record.get("account_id"))
        at = f" · {clipped(visible(account), 30)}" if account else " · no account (B2C)"
        return literal(
            headline("Contact › ", display_name(CONTACTS, record), at, self.title_width())
        )

    def info_pairs(self, record: Record) -> list[tuple[str, str]]:
        city = place_pair(record)
        account = self.crm.name_of(ACCOUNTS, record.get("account_id"))
        return [
            ("Title", record.get("job_title", "")),
            ("Account", f"{account}  [p]" if account else ""),
            ("Email", record.get("email", "")),
            ("Phone", record.get("phone", "")),
            ("Mobile", record.get("mobile", "")),
            city,
            ("Owner", record.get("owner", "")),
            ("Status", record.get("status", "")),
        ]

    def action_account(self) -> None:
        record = self.record or {}
        self.open_from(ACCOUNTS, record.get("account_id"))
