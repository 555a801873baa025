"""Typed messages that travel up from widgets and across screens.

DataChanged goes down (the App to the visible screen); the rest go up to the App, posted
straight to it: the screen that sends one may be closing (a form, a deleted record's screen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from store.model import Change

if TYPE_CHECKING:
    from textual.app import App


class DataChanged(Message):
    """Records changed (ours or another user's): screens showing them refresh in place."""

    def __init__(self, changes: list[Change] | None = None) -> None:
        super().__init__()
        self.changes = changes or []

    def touches(self, record_ids: set[str]) -> bool:
        """True when any change is to one of `record_ids` (or when we cannot tell)."""
        if not self.changes:
            return True
        return any(c.record_id in record_ids for c in self.changes)


class RecordsChanged(Message):
    """Sent up by a screen that just changed records: the App tells every screen showing them."""


class OpenRecord(Message):
    """Sent up to open an account's or contact's detail screen over the current one."""

    def __init__(self, table: str, record_id: str) -> None:
        super().__init__()
        self.table, self.record_id = table, record_id


class Notice(Message):
    """Sent up to show a notification; its text is shown literally (it often holds user data)."""

    def __init__(self, text: str, severity: SeverityLevel = "information") -> None:
        super().__init__()
        self.text, self.severity = text, severity


class WorkFailed(Message):
    """A background worker ended with an error nobody planned for: the App shows and logs it."""

    def __init__(self, worker: Worker[Any]) -> None:
        super().__init__()
        self.worker = worker


class SendsWorkFailures:
    """For every DOM node that starts workers: a worker's StateChanged stops at the node that
    started it (it does not bubble), so the node passes an ERROR on to the App's one handler.
    Expected errors (StorageError, ConflictError...) are caught inside the workers instead."""

    if TYPE_CHECKING:
        # Declared for mypy only: the App, screen or widget this is mixed into has it.
        app: App[object]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.app.post_message(WorkFailed(event.worker))
