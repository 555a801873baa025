"""A record's timeline: its activities newest first, filterable, searchable, actionable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from textual import work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from store.model import ActivityStatus, ActivityType, Record
from store.queries import TimelineQuery
from store.service import CRM
from tui.format import (
    activity_moment,
    is_overdue,
    next_in,
    priority_mark,
    status_label,
    subject_text,
    timeline_status,
    type_label,
    when_text,
)
from tui.literal import literal
from tui.messages import SendsWorkFailures
from tui.widgets.search_box import SearchBox
from tui.widgets.virtual_table import Column, VirtualTable

TYPE_FILTERS: tuple[str | None, ...] = (None, *[t.value for t in ActivityType])
STATUS_FILTERS: tuple[str | None, ...] = (None, *[s.value for s in ActivityStatus])
OVERDUE_MARK = "!"
NEVER = 1_000_000  # a hide_below width no terminal has


class Timeline(SendsWorkFailures, Vertical):
    """Filter line, search box and the activities table of one account or contact."""

    BINDINGS = [
        Binding("x", "set_status('completed')", "Done", id="complete"),
        Binding("C", "set_status('canceled')", "Cancel activity", show=False, id="cancel"),
        Binding("o", "set_status('open')", "Reopen", show=False, id="reopen"),
        Binding("f", "cycle_type", "Type filter", show=False, id="type-filter"),
        Binding("v", "cycle_status", "Status filter", show=False, id="status-filter"),
        # Priority: letters typed right after `/` in the same read reach the search box.
        Binding("slash", "search", "Search", show=False, id="timeline-search", priority=True),
    ]

    class OpenActivity(Message):
        def __init__(self, activity: Record) -> None:
            super().__init__()
            self.activity = activity

    class StatusRequested(Message):
        def __init__(self, activity: Record, status: str) -> None:
            super().__init__()
            self.activity, self.status = activity, status

    def __init__(self, *, rollup_possible: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="timeline")
        self.crm: CRM | None = None
        self.record_id = ""
        self.query_state = TimelineQuery(include_contacts=rollup_possible)
        self.rollup_possible = rollup_possible
        self.items: list[Record] = []
        self._searching = False  # a search is running (see run_search)
        self._search_again = False
        self._asked = 0  # bumped by every refresh: only the latest one's items are shown
        self._wanted_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="timeline-status", classes="status-line")
        yield SearchBox("/ search subject and description", id="timeline-search")
        yield VirtualTable(
            [
                Column("mark", " ", 1, 1),
                Column("when", "When", 14),
                Column("type", "Type", 11),  # `Appointment`, the model's word, in full
                Column("subject", "Subject", None, 12),  # an appointment's location follows it
                Column("regarding", "Regarding", None, 10, hide_below=0),
                Column("status", "Status", 9),
                Column("priority", "Prio", 4),  # `high`/`low`: a word, never colour alone
                Column("owner", "Owner", 8, hide_below=100),
            ],
            id="timeline-table",
            empty_text="No activities yet: press l to log one.",
        )

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#timeline-table", VirtualTable)

    def show(self, crm: CRM, record_id: str) -> None:
        self.crm, self.record_id = crm, record_id
        self.refresh_items()

    def refresh_items(self) -> None:
        if self.crm is None:
            return
        if not self.crm.ready:
            self.table.set_empty_text("Loading activities…")
            self.table.set_rows(0, lambda i: ())
            self._status("loading…")
            return
        self._asked += 1
        self._show_items(self.crm.timeline(self.record_id, self.query_state))

    def run_search(self) -> None:
        """Show the activities that match the typed text, soon, searched in a thread.

        As in the lists (RecordListScreen.run_search): one search at a time, and the keys
        typed while it runs are folded into one more search with the latest text."""
        if self.crm is None or not self.crm.ready:
            self.refresh_items()  # nothing to search yet: says so
            return
        if self._searching:
            self._search_again = True
            return
        self._searching, self._search_again = True, False
        self._asked += 1
        self._search(self.crm, replace(self.query_state), self._asked)

    @work(
        thread=True,
        exclusive=True,
        group="timeline-search",
        exit_on_error=False,
        description="searching the timeline",
    )
    def _search(self, crm: CRM, query: TimelineQuery, asked: int) -> None:
        items: list[Record] | None = None
        try:
            items = crm.timeline(self.record_id, query)
        finally:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._searched, items, asked)

    def _searched(self, items: list[Record] | None, asked: int) -> None:
        self._searching = False
        if self._search_again:
            self.run_search()  # the text changed meanwhile: only its result is worth showing
        elif items is not None and asked == self._asked:  # else a later refresh was shown
            self._show_items(items)

    def _show_items(self, items: list[Record]) -> None:
        current = self.current()
        current_id = self._wanted_id or (current["id"] if current else None)
        self._wanted_id = None
        self.items = items
        cursor = 0
        if current_id is not None:
            cursor = next(
                (i for i, a in enumerate(self.items) if a["id"] == current_id),
                min(self.table.cursor, max(0, len(self.items) - 1)),
            )
        now_iso = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._now_iso = now_iso
        query = self.query_state
        self.table.set_empty_text(
            "No activities match the filters."
            if query.types or query.statuses or query.text
            else "No activities yet: press l to log one."
        )
        self._show_regarding(any(a.get("regarding_id") != self.record_id for a in self.items))
        self.table.set_rows(len(self.items), self._row, mark=self._mark, cursor=cursor)
        overdue = sum(1 for a in self.items if is_overdue(a, now_iso))
        query = self.query_state
        self._status(
            timeline_status(
                len(self.items),
                next(iter(query.types)) if query.types else None,
                next(iter(query.statuses)) if query.statuses else None,
                overdue,
                rollup=self.rollup_possible,
                with_contacts=query.include_contacts,
            )
        )

    def _show_regarding(self, needed: bool) -> None:
        """The Regarding column only while some row is about another record (a contact's,
        rolled up): otherwise its room goes to the subject and an appointment's location."""
        columns = self.table.columns
        index = next(i for i, c in enumerate(columns) if c.key == "regarding")
        hide_below = 0 if needed else NEVER
        if columns[index].hide_below != hide_below:
            columns[index] = replace(columns[index], hide_below=hide_below)
            self.table.refresh()

    def _status(self, text: str) -> None:
        self.query_one("#timeline-status", Static).update(literal(text))

    def _row(self, index: int) -> list[str]:
        activity = self.items[index]
        regarding = ""
        if activity.get("regarding_id") != self.record_id and self.crm is not None:
            regarding = self.crm.regarding_name(activity)
        return [
            OVERDUE_MARK if is_overdue(activity, self._now_iso) else "",
            when_text(activity_moment(activity)),
            type_label(activity.get("type")),
            subject_text(activity),
            regarding,
            status_label(activity.get("status")),
            priority_mark(activity.get("priority")),
            activity.get("owner", ""),
        ]

    def _mark(self, index: int) -> str | None:
        activity = self.items[index]
        if is_overdue(activity, self._now_iso):
            return "warning"
        if activity.get("status") in (ActivityStatus.COMPLETED, ActivityStatus.CANCELED):
            return "muted"
        return None

    def select_activity(self, activity_id: str) -> None:
        """Put the cursor on an activity just logged (it may sort anywhere in the timeline)."""
        self._wanted_id = activity_id
        self.refresh_items()

    def current(self) -> Record | None:
        if not self.items or self.table.row_count == 0:
            return None
        index = self.table.cursor
        return self.items[index] if 0 <= index < len(self.items) else None

    # ------------------------------------------------------------ events and actions
    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        activity = self.current()
        if activity:
            self.post_message(self.OpenActivity(activity))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_state.text = event.value
        self.run_search()

    def on_search_box_left(self, event: SearchBox.Left) -> None:
        event.stop()
        self.table.focus()

    def action_search(self) -> None:
        if isinstance(self.screen.focused, Input):
            raise SkipAction()  # a `/` typed into a field
        self.screen.set_focus(self.query_one("#timeline-search", Input))

    def action_set_status(self, status: str) -> None:
        activity = self.current()
        if activity and activity.get("status", "open") != status:
            self.post_message(self.StatusRequested(activity, status))

    def action_cycle_type(self) -> None:
        current = next(iter(self.query_state.types)) if self.query_state.types else None
        chosen = next_in(TYPE_FILTERS, current)
        self.query_state.types = frozenset({chosen}) if chosen else None
        self.refresh_items()

    def action_cycle_status(self) -> None:
        current = next(iter(self.query_state.statuses)) if self.query_state.statuses else None
        chosen = next_in(STATUS_FILTERS, current)
        self.query_state.statuses = frozenset({chosen}) if chosen else None
        self.refresh_items()

    def toggle_rollup(self) -> None:
        if self.rollup_possible:
            self.query_state.include_contacts = not self.query_state.include_contacts
            self.refresh_items()
