"""A one-line search field above a list: ↓ or enter goes back to the list, escape clears the
text first (and goes back when it is empty)."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message

from tui.widgets.text_entry import CrmInput


class SearchBox(CrmInput):
    BINDINGS = [
        Binding("down", "leave", "Back to the list", show=False),
        Binding("escape", "clear_or_leave", "Clear", show=False),
    ]

    class Left(Message):
        """The user is done typing; the owner moves focus to its list."""

    def __init__(self, placeholder: str, *, id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id, compact=True)

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def action_clear_or_leave(self) -> None:
        if self.value:
            self.value = ""
        self.post_message(self.Left())

    async def action_submit(self) -> None:
        await super().action_submit()
        self.post_message(self.Left())
