"""The Trash: what was deleted, by whom and when; restore it, or purge it for good."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static

from store.errors import NotFoundError, StorageError, TrashedParentError
from store.service import TrashEntry
from store.text import counted
from tui.format import when_text
from tui.literal import literal
from tui.messages import DataChanged
from tui.screens.base import CrmScreen
from tui.screens.dialogs import ConfirmScreen
from tui.widgets.keybar import KeyBar
from tui.widgets.virtual_table import Column, VirtualTable


class TrashScreen(CrmScreen):
    """Every deletion in the trash, newest first (a deleted record with what went with it)."""

    help_title = "Trash"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="back"),
        Binding("r", "restore", "Restore", id="restore"),
        Binding("p", "purge", "Purge for good", id="purge"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[TrashEntry] = []

    def compose(self) -> ComposeResult:
        yield Static(literal("termcrm › Trash"), id="title", classes="title")
        yield Static(id="trash-status", classes="status-line")
        yield VirtualTable(
            [
                Column("deleted", "Deleted", 14),
                Column("by", "By", 10),
                Column("what", "What", None, 20),
            ],
            id="trash",
            empty_text="The trash is empty.",
        )
        yield KeyBar()

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#trash", VirtualTable)

    def on_mount(self) -> None:
        self._seen_generation = self.host.data_generation
        self.reload(None)
        self.table.focus()

    def reload(self, changes: DataChanged | None = None) -> None:
        # The trash is a table in memory, like the records: no file to read.
        current = self.current()
        self.entries = self.crm.trash()
        ids = [e.record_id for e in self.entries]
        cursor = ids.index(current.record_id) if current and current.record_id in ids else None
        self.table.set_rows(len(self.entries), self._row, cursor=cursor)
        self.query_one("#trash-status", Static).update(
            Content(
                f"{counted(len(self.entries), 'deletion')} · r restores, p deletes for good"
                if self.entries
                else "Deleted records wait here until they are purged."
            )
        )
        self.refresh_bindings()

    def _row(self, index: int) -> list[str]:
        entry = self.entries[index]
        return [when_text(entry.deleted_at), entry.deleted_by, entry.what]

    def current(self) -> TrashEntry | None:
        if not self.entries or self.table.row_count == 0:
            return None
        index = self.table.cursor
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("restore", "purge") and self.current() is None:
            return None  # shown dimmed: nothing highlighted
        return True

    # ------------------------------------------------------------ actions
    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.app.pop_screen()

    def action_restore(self) -> None:
        entry = self.current()
        if entry is not None:
            self._run(lambda: self._restore(entry, with_parents=False), f"restoring {entry.what}")

    def action_purge(self) -> None:
        entry = self.current()
        if entry is None:
            return

        def answered(purge: bool | None) -> None:
            if purge:
                self._run(lambda: self._purge(entry), f"purging {entry.what}")

        self.app.push_screen(
            ConfirmScreen(
                f"Delete {entry.what} for good? This cannot be undone.",
                yes="Purge",
                no="Keep",
            ),
            answered,
        )

    # ------------------------------------------------------------ in thread workers
    def _run(self, job: Callable[[], None], description: str) -> None:
        self.run_worker(
            job,
            thread=True,
            group="trash",
            exit_on_error=False,
            description=description,
        )

    def _restore(self, entry: TrashEntry, *, with_parents: bool) -> None:
        try:
            result = self.crm.restore(entry.record_id, with_parents=with_parents)
        except TrashedParentError as error:
            self.app.call_from_thread(self._ask_restore_both, entry, error)
            return
        except (NotFoundError, StorageError) as error:
            self.say(f"Not restored: {error}", severity="error")
            return
        self.records_changed()
        self.say(f"Restored {entry.what}: {counted(result.restored, 'record')} back.")

    def _ask_restore_both(self, entry: TrashEntry, error: TrashedParentError) -> None:
        needs = ", ".join(error.needs) or "a record"

        def answered(both: bool | None) -> None:
            if both:
                self._run(
                    lambda: self._restore(entry, with_parents=True), f"restoring {entry.what}"
                )

        self.app.push_screen(
            ConfirmScreen(
                f"{entry.what} needs {needs}, in the trash too: restore both?",
                yes="Restore both",
                no="Cancel",
            ),
            answered,
        )

    def _purge(self, entry: TrashEntry) -> None:
        try:
            gone = self.crm.purge([entry.record_id])
        except (NotFoundError, StorageError) as error:
            self.say(f"Not purged: {error}", severity="error")
            return
        self.records_changed()
        self.say(f"Purged {entry.what}: {counted(gone, 'record')} deleted for good.")
