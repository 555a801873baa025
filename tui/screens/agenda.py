"""My activities: open tasks and appointments, overdue first, then today and upcoming."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, overload

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual.worker import get_current_worker

from store.model import ACCOUNTS, CONTACTS, ActivityStatus, Record
from store.queries import AgendaBuckets, position_in
from tui.format import SEPARATOR, activity_moment, is_overdue, type_label, when_text
from tui.literal import literal
from tui.messages import DataChanged
from tui.screens import actions
from tui.screens.base import CrmScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.virtual_table import Column, VirtualTable

# A section title or an activity; tested as `row[0] == "section"`, which mypy narrows on.
Row = tuple[Literal["section"], str] | tuple[Literal["item"], Record]


class AgendaRows(Sequence[Row]):
    """The agenda's rows (each section's title, then its activities) over the buckets as
    they come: a bucket read a page at a time is read only where the table looks."""

    def __init__(self, buckets: AgendaBuckets) -> None:
        self.buckets = buckets
        self.sections: list[tuple[str, Sequence[Record], int]] = []  # title, items, first row
        start = 0
        for label, items in (
            ("Overdue", buckets.overdue),
            ("Today", buckets.today),
            ("Upcoming", buckets.upcoming),
            ("No date", buckets.no_date),
        ):
            if count := len(items):
                self.sections.append((f"{label} ({count:,})", items, start))
                start += 1 + count
        self.length = start

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.length))]
        for title, items, start in self.sections:
            if index == start:
                return ("section", title)
            if start < index <= start + len(items):
                return ("item", items[index - start - 1])
        raise IndexError(index)

    def read_ahead(self, count: int) -> None:
        """Read the first `count` rows now (in a worker: a damaged record fails there, not
        while the table draws)."""
        for index in range(min(count, self.length)):
            self[index]

    def row_of(self, record_id: str) -> int | None:
        for _title, items, start in self.sections:
            found = position_in(items, record_id)
            if found is not None:
                return start + 1 + found
        return None


class AgendaScreen(CrmScreen):
    help_title = "My activities"
    BINDINGS = [
        Binding("x", "set_status('completed')", "Done", id="complete"),
        Binding("C", "set_status('canceled')", "Cancel activity", show=False, id="cancel"),
        Binding("g", "go_to_record", "Go to record", id="goto"),
        Binding("m", "toggle_mine", "Mine/all", id="mine"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.everyone = False
        self.rows: Sequence[Row] = []

    def compose(self) -> ComposeResult:
        yield Static(id="title", classes="title")
        yield Static(id="agenda-status", classes="status-line")
        yield VirtualTable(
            [
                Column("mark", " ", 1, 1),
                Column("when", "When", 14),
                Column("type", "Type", 11),  # `Appointment`, the word every screen uses
                Column("subject", "Subject", None, 12),
                Column("regarding", "Regarding", None, 12),
                Column("owner", "Owner", 8, hide_below=90),
            ],
            id="agenda",
            empty_text="Nothing open. Log a task from an account or contact (l).",
        )
        yield KeyBar()

    def on_mount(self) -> None:
        self._seen_generation = self.host.data_generation
        self.reload(None)
        self.query_one(VirtualTable).focus()

    @property
    def table(self) -> VirtualTable:
        return self.query_one(VirtualTable)

    def reload(self, changes: DataChanged | None = None) -> None:
        owner = None if self.everyone else self.crm.user
        who = "everyone" if self.everyone else self.crm.user
        self.query_one("#title", Static).update(literal(f"termcrm › My activities · {who}"))
        if not self.crm.ready:
            self.table.set_empty_text("Loading activities…")
            self.table.set_rows(0, lambda i: ())
            return
        self._gather(owner)

    @work(
        thread=True,
        exclusive=True,
        group="agenda",
        exit_on_error=False,
        description="gathering your activities",
    )
    def _gather(self, owner: str | None) -> None:
        """Off the event loop: at 2 million activities the open ones take a moment to sort."""
        buckets = self.crm.agenda(owner)
        rows = AgendaRows(buckets)  # the counts, and the first rows, read here: off the loop
        rows.read_ahead(60)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, rows)

    def _show(self, rows: AgendaRows) -> None:
        current = self.current()
        self.rows = rows
        self._now_iso = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        found = rows.row_of(current["id"]) if current else None
        cursor = found if found is not None else (1 if len(rows) else 0)
        self.table.set_rows(len(rows), self._row, mark=self._mark, cursor=cursor)
        self.query_one("#agenda-status", Static).update(
            literal(
                SEPARATOR.join(
                    [
                        f"{len(rows.buckets.overdue):,} overdue (!)",
                        f"{len(rows.buckets.today):,} today",
                        f"{len(rows.buckets.upcoming):,} upcoming",
                        f"m: {'only mine' if self.everyone else 'everyone'}",
                    ]
                )
            )
        )

    def _row(self, index: int) -> list[str] | str:
        row = self.rows[index]
        if row[0] == "section":
            return f"── {row[1]}"
        activity = row[1]
        return [
            "!" if is_overdue(activity, self._now_iso) else "",
            when_text(activity_moment(activity)),
            type_label(activity.get("type")),
            activity.get("subject", ""),
            self.crm.regarding_name(activity),
            activity.get("owner", ""),
        ]

    def _mark(self, index: int) -> str | None:
        row = self.rows[index]
        if row[0] == "section":
            return "header"
        return "warning" if is_overdue(row[1], self._now_iso) else None

    def current(self) -> Record | None:
        if not self.rows or self.table.cursor >= len(self.rows):
            return None
        row = self.rows[self.table.cursor]
        return row[1] if row[0] == "item" else None

    async def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        activity = self.current()
        if activity:
            await actions.edit_record(self, "activities", activity["id"])

    def action_set_status(self, status: str) -> None:
        activity = self.current()
        if activity and activity.get("status", "open") == ActivityStatus.OPEN:
            actions.set_status(self, activity, status)

    def action_go_to_record(self) -> None:
        activity = self.current()
        if activity:
            table = ACCOUNTS if activity.get("regarding_type") == "account" else CONTACTS
            self.open_record(table, activity["regarding_id"])

    def action_toggle_mine(self) -> None:
        self.everyone = not self.everyone
        self.reload(None)
