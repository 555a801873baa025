"""What every CRM screen shares: access to the service, refresh on data changes, help."""

from __future__ import annotations

from typing import Protocol, cast

from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from store.service import CRM
from tui.messages import DataChanged, Notice, OpenRecord, RecordsChanged, SendsWorkFailures


class CrmHost(Protocol):
    """What a screen reads from the App that runs it (attributes down); everything it asks
    of the App goes up as a message (tui/messages.py)."""

    crm: CRM
    data_generation: int  # bumped at every DataChanged: a hidden screen knows it missed one


class CrmScreen(SendsWorkFailures, Screen[None]):
    """A full screen that shows records and refreshes itself when they change."""

    BINDINGS = [Binding("question_mark", "app.help", "Help", show=False, id="help-key")]

    def __init__(self) -> None:
        super().__init__()
        self._seen_generation = -1

    @property
    def host(self) -> CrmHost:
        return cast(CrmHost, self.app)

    @property
    def crm(self) -> CRM:
        return self.host.crm

    def open_record(self, table: str, record_id: str) -> None:
        self.app.post_message(OpenRecord(table, record_id))

    def records_changed(self) -> None:
        self.app.post_message(RecordsChanged())

    def say(self, text: str, severity: SeverityLevel = "information") -> None:
        self.app.post_message(Notice(text, severity))

    def reload(self, changes: DataChanged | None = None) -> None:
        """Show current data. Subclasses keep the cursor and any typed text."""

    def show_saved(self, table: str, record_id: str) -> None:
        """A record was just created from this screen: screens that list it put the cursor
        on it."""

    def on_data_changed(self, message: DataChanged) -> None:
        self._seen_generation = self.host.data_generation
        self.reload(message)

    def on_screen_resume(self) -> None:
        if self._seen_generation != self.host.data_generation:
            self._seen_generation = self.host.data_generation
            self.reload(None)
