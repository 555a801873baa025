"""A record's History tab: every change to it, newest first, one line per field changed.

The history lives on disk beside the journal (store/history.py) and is never read at
start-up: the tab reads it in a thread worker when it is first shown, and again when the
record changes while it is open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from store.errors import StorageError
from store.history import UPDATE, HistoryEntry
from store.model import ACCOUNTS, FIELDS, SINGULAR
from store.service import CRM
from store.text import counted
from tui.format import when_text
from tui.messages import SendsWorkFailures
from tui.widgets.virtual_table import Column, VirtualTable

ACTION_WORDS = {
    "create": "created",
    "delete": "moved to the trash",
    "restore": "restored from the trash",
    "purge": "deleted for good",
}


@dataclass(frozen=True)
class HistoryLine:
    """One line of the tab: a field an edit changed, or a change without fields (a delete)."""

    entry: HistoryEntry
    action: str
    field: str = ""  # the stored field's name; '' for a line without a field
    old: Any = None
    new: Any = None


def shown_value(value: Any) -> str:
    # The CLI's `crm history` writes an empty value the same way.
    return "∅" if value is None or value == "" else str(value)


class RecordHistory(SendsWorkFailures, Vertical):
    """Status line and the table of one account's or contact's changes."""

    class RestoreRequested(Message):
        """Enter on an edit's line: the screen asks whether to put `old` back."""

        def __init__(self, field: str, label: str, old: Any) -> None:
            super().__init__()
            self.field, self.label, self.old = field, label, old

    def __init__(self, table: str = ACCOUNTS, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="history")
        self.crm: CRM | None = None
        self.table_name = table
        self.record_id = ""
        self.lines: list[HistoryLine] = []
        self.loaded = False  # read at least once (the tab was shown)
        specs = FIELDS[table]
        self.labels = {spec.name: spec.label for spec in specs}
        self.refs = {spec.name: spec.ref_table for spec in specs if spec.ref_table}

    def compose(self) -> ComposeResult:
        yield Static("", id="history-status", classes="status-line")
        yield VirtualTable(
            [
                Column("when", "When", 14),
                Column("by", "By", 8),
                Column("change", "Change", None, 16),
                # The field's change gets the room; the summary is the batch's, often long.
                Column("summary", "Summary", 16, hide_below=70),
            ],
            id="history-table",
            empty_text="Open this tab to read the history.",
        )

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#history-table", VirtualTable)

    def show(self, crm: CRM, record_id: str) -> None:
        self.crm, self.record_id = crm, record_id

    def load(self) -> None:
        """Read the record's history (again), off the event loop."""
        if self.crm is None:
            return
        if not self.loaded:
            self.table.set_empty_text("Reading the history…")
        self._load(self.crm, self.record_id)

    @work(
        thread=True,
        exclusive=True,
        group="history",
        exit_on_error=False,
        description="reading the record's history",
    )
    def _load(self, crm: CRM, record_id: str) -> None:
        try:
            entries = crm.history(record_id)
        except StorageError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        lines = [line for entry in entries for line in self._lines_of(entry)]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, lines, len(entries))

    def _lines_of(self, entry: HistoryEntry) -> list[HistoryLine]:
        lines = []
        for change in entry.changes:
            if change.record_id != self.record_id:
                continue
            if change.action == UPDATE:
                lines += [
                    HistoryLine(entry, change.action, name, old, new)
                    for name, (old, new) in change.fields.items()
                ]
            else:  # a create's every field would bury the edits: one line says it
                lines.append(HistoryLine(entry, change.action))
        return lines

    def _failed(self, message: str) -> None:
        self.table.set_empty_text(f"The history could not be read: {message}")
        self.table.set_rows(0, lambda i: ())

    def _show(self, lines: list[HistoryLine], changes: int) -> None:
        self.loaded = True
        self.lines = lines
        self.table.set_empty_text("No changes recorded.")
        self.table.set_rows(len(lines), self._row)
        status = f"{counted(changes, 'change')}, newest first"
        if any(line.field for line in lines):
            status += " · enter on a field puts its old value back"
        self.query_one("#history-status", Static).update(Content(status))

    def _row(self, index: int) -> list[str]:
        line = self.lines[index]
        entry = line.entry
        if line.field:
            label = self.labels.get(line.field, line.field)
            change = f"{label}: {self._value(line.field, line.old)} → "
            change += self._value(line.field, line.new)
        else:
            change = f"{SINGULAR[self.table_name]} {ACTION_WORDS.get(line.action, line.action)}"
        return [when_text(entry.at), entry.by, change, entry.summary]

    def _value(self, field: str, value: Any) -> str:
        ref_table = self.refs.get(field)
        if ref_table and value and self.crm is not None:
            return self.crm.name_of(ref_table, value) or "(deleted)"
        return shown_value(value)

    def on_virtual_table_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        if not 0 <= event.index < len(self.lines):
            return
        line = self.lines[event.index]
        if line.field:
            label = self.labels.get(line.field, line.field)
            self.post_message(self.RestoreRequested(line.field, label, line.old))
