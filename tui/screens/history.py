"""An activity's history, over its form: who changed which field from what to what."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from store.model import ACTIVITIES
from store.service import CRM
from tui.literal import literal
from tui.messages import Notice
from tui.widgets.history import RecordHistory
from tui.widgets.keybar import KeyBar


class HistoryScreen(ModalScreen[None]):
    """The History tab of accounts and contacts, for an activity (which has no detail
    screen, only its form). Read-only: the form beneath holds the typed values, so an old
    value is restored by typing it there."""

    BINDINGS = [Binding("escape", "close", "Back", id="back")]

    def __init__(self, crm: CRM, activity_id: str, title: str) -> None:
        super().__init__(classes="small-modal")
        self.crm, self.activity_id, self.title_text = crm, activity_id, title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="activity-history"):
            yield Static(literal(f"History of {self.title_text}"), classes="dialog-title")
            yield RecordHistory(ACTIVITIES, id="history")
        yield KeyBar()

    def on_mount(self) -> None:
        history = self.query_one(RecordHistory)
        history.show(self.crm, self.activity_id)
        history.load()
        history.table.focus()

    def on_record_history_restore_requested(self, message: RecordHistory.RestoreRequested) -> None:
        message.stop()
        self.app.post_message(
            Notice(f"To restore the old {message.label}, type it into the form and save.")
        )

    def action_close(self) -> None:
        self.dismiss(None)
