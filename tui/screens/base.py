"""What every CRM screen shares: access to the service, refresh on data changes, help."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.screen import Screen

from tui.messages import DataChanged

if TYPE_CHECKING:
    from store.service import CRM
    from tui.app import CrmApp


class CrmScreen(Screen[None]):
    """A full screen that shows records and refreshes itself when they change."""

    BINDINGS = [Binding("question_mark", "app.help", "Help", show=False, id="help-key")]

    def __init__(self) -> None:
        super().__init__()
        self._seen_generation = -1

    @property
    def crm_app(self) -> CrmApp:
        return self.app  # type: ignore[return-value]

    @property
    def crm(self) -> CRM:
        return self.crm_app.crm

    def reload(self, changes: DataChanged | None = None) -> None:
        """Show current data. Subclasses keep the cursor and any typed text."""

    def show_saved(self, table: str, record_id: str) -> None:
        """A record was just created from this screen: screens that list it put the cursor
        on it."""

    def on_data_changed(self, message: DataChanged) -> None:
        self._seen_generation = self.crm_app.data_generation
        self.reload(message)

    def on_screen_resume(self) -> None:
        if self._seen_generation != self.crm_app.data_generation:
            self._seen_generation = self.crm_app.data_generation
            self.reload(None)
