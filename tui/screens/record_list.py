"""The Accounts and Contacts lists: search as you type, sort, filter, open, act on a record."""

from __future__ import annotations

from collections.abc import Sequence

from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from store.engine import counted_only_so_far
from store.model import ACCOUNTS, CONTACTS, Record, Relationship, display_name
from store.queries import ListQuery
from tui.format import list_status, next_in
from tui.literal import literal
from tui.messages import DataChanged
from tui.screens import actions
from tui.screens.base import CrmScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.search_box import SearchBox
from tui.widgets.virtual_table import Column, VirtualTable

STATUS_FILTERS = ("active", "inactive", None)
# How a sort reads in the status line: the column's word, not the stored field's name.
SORT_LABELS = {
    "name": "name",
    "relationship": "type",
    "account": "account",
    "address_city": "city",
    "owner": "owner",
    "modified_at": "modified",
}


class RecordListScreen(CrmScreen):
    """A searchable list of one table. Subclasses say which table and how rows read."""

    TABLE = ACCOUNTS
    NOUN = "account"
    COLUMNS: list[Column] = []
    SORTS: tuple[str, ...] = ("name",)

    BINDINGS = [
        # Priority, so that letters typed right after `/` reach the search box even when they
        # arrive in the same read (the focus moves before the next key is routed).
        Binding("slash", "focus_search", "Search", id="search", priority=True),
        # Priority, so that keys typed right after them reach the form (see actions.new_record);
        # skipped while the search box has focus.
        Binding("n", "new", "New", id="new", priority=True),
        Binding("e", "edit", "Edit", id="edit", priority=True),
        Binding("l", "log_activity", "Log", id="log", priority=True),
        Binding("d", "delete", "Delete", id="delete", show=False),
        Binding("u", "undo", "Undo my last change", id="undo", show=False),
        Binding("s", "cycle_sort", "Sort", id="sort"),
        Binding("r", "reverse_sort", "Reverse sort", show=False, id="reverse"),
        Binding("a", "cycle_status", "Active/all", show=False, id="status"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_state = ListQuery(status="active")
        self.ids: Sequence[str] = []
        self._searching = False  # a search is running (see run_search)
        self._search_again = False
        self._wanted_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="title")
        with Horizontal(id="search-row"):
            yield Static("/", id="search-label")
            yield SearchBox(f"search {self.NOUN}s: name, email, phone, city…", id="search")
        yield Static(id="list-status", classes="status-line")
        yield VirtualTable(self.COLUMNS, id="records", empty_text="Loading…")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()
        self._seen_generation = self.host.data_generation
        self.run_search()

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#records", VirtualTable)

    # ------------------------------------------------------------ search
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.query_state.text = event.value
            self.run_search()

    def on_search_box_left(self, event: SearchBox.Left) -> None:
        self.table.focus()

    def reload(self, changes: DataChanged | None = None) -> None:
        self.run_search()

    def run_search(self) -> None:
        """Show the records that match the current query, soon.

        Searches run one at a time: while one runs, further requests (each key typed in the
        search box) are folded into one more search with the latest query, so a fast typist
        or a paste never stacks up scans of half a million records."""
        if self._searching:
            self._search_again = True
            return
        self._searching, self._search_again = True, False
        self._search(ListQuery(**vars(self.query_state)))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False, description="searching")
    def _search(self, query: ListQuery) -> None:
        """Search off the event loop: at 500k records a scan takes longer than a keystroke."""
        ids: Sequence[str] | None = None
        try:
            ids = self.crm.search(self.TABLE, query)
            len(ids), ids[:1]  # a server's count and first page: read here, not in a redraw
        finally:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._searched, ids)

    def _searched(self, ids: Sequence[str] | None) -> None:
        self._searching = False
        if self._search_again:
            self.run_search()  # the query changed meanwhile: only its result is worth showing
        elif ids is not None:
            self._show(ids)

    def show_saved(self, table: str, record_id: str) -> None:
        if table == self.TABLE:
            self.select_record(record_id)

    def select_record(self, record_id: str) -> None:
        """Put the cursor on `record_id` once the list next shows it (a record just saved)."""
        self._wanted_id = record_id
        self.run_search()

    def _show(self, ids: Sequence[str]) -> None:
        current = self.current_id()
        if self._wanted_id is not None and self._wanted_id in ids:  # a server: one query
            current = self._wanted_id
        self._wanted_id = None
        self.ids = ids
        cursor = 0
        if current is not None:
            try:
                cursor = ids.index(current)
            except ValueError:
                cursor = min(self.table.cursor, max(0, len(ids) - 1))
        self.table.set_empty_text(self._empty_text())
        self.table.set_rows(len(ids), self._row, cursor=cursor)
        self._update_status()

    def _row(self, index: int) -> list[str]:
        record = self.crm.get(self.TABLE, self.ids[index])
        return self.cells(record) if record else ["(deleted)"]

    def cells(self, record: Record) -> list[str]:
        raise NotImplementedError

    def _empty_text(self) -> str:
        if not self.crm.ready and self.crm.count(self.TABLE) == 0:
            return f"Loading {self.NOUN}s…"
        if self.crm.count(self.TABLE) == 0:
            return (
                f"No {self.NOUN}s yet. Press n to add the first one, or quit (ctrl+q) and "
                "run `crm --demo` to explore with demo data."
            )
        return f"No {self.NOUN}s match. Press escape in the search box to clear it."

    def _update_status(self) -> None:
        query = self.query_state
        line = list_status(
            len(self.ids),
            self.crm.count(self.TABLE),
            self.NOUN,
            SORT_LABELS.get(query.sort, query.sort),
            query.descending,
            query.status,
            self.extra_status(),
            more=counted_only_so_far(self.ids),
        )
        self.query_one("#list-status", Static).update(literal(line))
        title = f"{self.NOUN.capitalize()}s"
        self.query_one("#title", Static).update(literal(f"termcrm › {title}"))

    def extra_status(self) -> list[str]:
        return []

    # ------------------------------------------------------------ the highlighted record
    def current_id(self) -> str | None:
        if not self.ids or self.table.row_count == 0:
            return None
        index = self.table.cursor
        return self.ids[index] if 0 <= index < len(self.ids) else None

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        record_id = self.current_id()
        if record_id:
            self.open_record(self.TABLE, record_id)

    # ------------------------------------------------------------ actions
    def action_focus_search(self) -> None:
        self._skip_while_typing()
        self.set_focus(self.query_one("#search", Input))  # now, not after the next refresh

    def action_cycle_sort(self) -> None:
        self.query_state.sort = next_in(self.SORTS, self.query_state.sort)
        self.run_search()

    def action_reverse_sort(self) -> None:
        self.query_state.descending = not self.query_state.descending
        self.run_search()

    def action_cycle_status(self) -> None:
        self.query_state.status = next_in(STATUS_FILTERS, self.query_state.status)
        self.run_search()

    def _skip_while_typing(self) -> None:
        if isinstance(self.focused, Input):
            raise SkipAction()  # the letter belongs in the search box

    async def action_new(self) -> None:
        self._skip_while_typing()
        await actions.new_record(self, self.TABLE)

    async def action_edit(self) -> None:
        self._skip_while_typing()
        record_id = self.current_id()
        if record_id:
            await actions.edit_record(self, self.TABLE, record_id)

    async def action_log_activity(self) -> None:
        self._skip_while_typing()
        record_id = self.current_id()
        if record_id:
            await actions.log_activity(self, self.TABLE, record_id)

    def action_delete(self) -> None:
        record_id = self.current_id()
        if record_id:
            actions.delete_record(self, self.TABLE, record_id)

    def action_undo(self) -> None:
        self._skip_while_typing()
        actions.undo_last(self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "log_activity", "delete") and self.current_id() is None:
            return None  # shown dimmed: there is no highlighted record
        return True


class AccountsScreen(RecordListScreen):
    help_title = "Accounts"
    TABLE = ACCOUNTS
    NOUN = "account"
    COLUMNS = [
        Column("name", "Account", None, 16),
        Column("relationship", "Type", 10),
        Column("phone", "Phone", 16),
        Column("email", "Email", None, 10),
        Column("city", "City", 12),
        Column("owner", "Owner", 8),
    ]
    SORTS = ("name", "relationship", "address_city", "owner", "modified_at")
    BINDINGS = [
        Binding("f", "cycle_relationship", "Type filter", id="relationship"),
        Binding("h", "hierarchy", "Hierarchy", show=False, id="hierarchy"),
    ]
    RELATIONSHIPS: tuple[str | None, ...] = (None, *[r.value for r in Relationship])

    def cells(self, record: Record) -> list[str]:
        return [
            display_name(ACCOUNTS, record),
            record.get("relationship", ""),
            record.get("phone", ""),
            record.get("email", ""),
            record.get("address_city", ""),
            record.get("owner", ""),
        ]

    def extra_status(self) -> list[str]:
        relationship = self.query_state.relationship
        return [f"type: {relationship}" if relationship else "any type"]

    def action_cycle_relationship(self) -> None:
        self.query_state.relationship = next_in(self.RELATIONSHIPS, self.query_state.relationship)
        self.run_search()

    def action_hierarchy(self) -> None:
        record_id = self.current_id()
        if record_id:
            actions.show_hierarchy(self, record_id)


class ContactsScreen(RecordListScreen):
    help_title = "Contacts"
    TABLE = CONTACTS
    NOUN = "contact"
    COLUMNS = [
        Column("name", "Name", None, 14),
        Column("account", "Account", None, 12),
        Column("phone", "Phone", 16),
        Column("email", "Email", None, 12),
        Column("city", "City", 11),
        Column("owner", "Owner", 8, hide_below=100),
    ]
    SORTS = ("name", "account", "address_city", "owner", "modified_at")

    def cells(self, record: Record) -> list[str]:
        phone = record.get("phone") or record.get("mobile") or ""
        return [
            display_name(CONTACTS, record),
            self.crm.name_of(ACCOUNTS, record.get("account_id")),
            phone,
            record.get("email", ""),
            record.get("address_city", ""),
            record.get("owner", ""),
        ]
